"""CI shards (issue 40): pytest-split's shards of ``pytest --f1check`` give the single run's verdicts, and
``python -m f1check merge`` makes one report, summary and JUnit file of them, or says in one line why it cannot.

The shards are run as docs/ci-shards.md's workflow runs them: its YAML block is read, and its steps are run in
order (``run:`` commands in bash, the artifact actions as copies between folders) over copies of
fixtures/model_repo, one per job, as CI runners would hold them. Each run is a fresh interpreter, as a CI job's. The
example repo runs once for the module (four pytest runs: the single one that records durations, three shards);
every test reads what that left, on copies where it changes a file.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support import rendered_table

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parent.parent
MODEL_REPO = ROOT / "fixtures" / "model_repo"
WORKFLOW_DOC = ROOT / "docs" / "ci-shards.md"
EXAMPLES = 2  # fewer than the repo's 20: the verdicts are compared between runs, not to what the repo means


# -- docs/ci-shards.md's workflow, read with a small YAML reader (the project has no YAML library) --------------


def workflow_yaml() -> str:
    """The one ```yaml block of docs/ci-shards.md."""
    blocks = re.findall(r"```yaml\n(.*?)```", WORKFLOW_DOC.read_text(), re.DOTALL)
    assert len(blocks) == 1, "docs/ci-shards.md has one workflow"
    return blocks[0]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _skip_blank(lines: list[str], i: int) -> int:
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
        i += 1
    return i


def _scalar(text: str):
    text = re.sub(r"\s+#.*$", "", text).strip()
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(part) for part in text[1:-1].split(",") if part.strip()]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    return int(text) if text.isdigit() else text


def _block(lines: list[str], i: int, indent: int, style: str) -> tuple[str, int]:
    """A ``|`` (lines kept) or ``>-`` (lines folded into one) block scalar under a key at ``indent``."""
    body = []
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
        body.append(lines[i])
        i += 1
    margin = min(_indent(line) for line in body if line.strip())
    body = [line[margin:] for line in body]
    return (" ".join(line for line in body if line.strip()) if style.startswith(">") else "\n".join(body)), i


def _node(lines: list[str], i: int):
    i = _skip_blank(lines, i)
    indent = _indent(lines[i])
    if lines[i].lstrip().startswith("- "):
        items = []
        while (i := _skip_blank(lines, i)) < len(lines) and _indent(lines[i]) == indent and \
                lines[i].lstrip().startswith("- "):
            text = lines[i].lstrip()[2:]
            if not re.match(r"^[\w-]+:(\s|$)", text):
                items.append(_scalar(text))
                i += 1
                continue
            lines[i] = " " * (indent + 2) + text  # "- key: value" starts a mapping two columns in
            value, i = _node(lines, i)
            items.append(value)
        return items, i
    mapping = {}
    while (i := _skip_blank(lines, i)) < len(lines) and _indent(lines[i]) == indent:
        key, _, rest = lines[i].strip().partition(":")
        rest, i = rest.strip(), i + 1
        if rest in ("|", ">", "|-", ">-"):
            mapping[key], i = _block(lines, i, indent, rest)
        elif rest:
            mapping[key] = _scalar(rest)
        elif (j := _skip_blank(lines, i)) < len(lines) and (_indent(lines[j]) > indent or (
                _indent(lines[j]) == indent and lines[j].lstrip().startswith("- "))):
            mapping[key], i = _node(lines, j)
        else:  # "pull_request:" with nothing under it
            mapping[key] = None
    return mapping, i


def read_workflow() -> dict:
    return _node(workflow_yaml().splitlines(), 0)[0]


def test_the_workflow_block_reads_as_a_github_workflow():
    workflow = read_workflow()
    shards, merge = workflow["jobs"]["shards"], workflow["jobs"]["merge"]
    assert shards["strategy"] == {"fail-fast": False, "matrix": {"group": [1, 2, 3]}}
    assert merge["needs"] == "shards" and merge["if"] == "${{ !cancelled() }}"
    runs = [step["run"] for step in shards["steps"] if "run" in step]
    assert "pytest --f1check --splits 3 --group ${{ matrix.group }}" in runs[-1]
    assert "--f1check-report" in runs[-1] and "--junitxml" in runs[-1] and "--durations-path" in runs[-1]
    upload = next(step for step in shards["steps"] if str(step.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "${{ !cancelled() }}" and upload["with"]["name"] == "f1check-shard-${{ matrix.group }}"
    merging = [step["run"] for step in merge["steps"] if "run" in step][-1]
    assert merging.startswith("python -m f1check merge ") and "--expect 3" in merging


# -- running it ----------------------------------------------------------------------------------------------------


def environment(step_summary: Path | None = None, installed: Path | None = None) -> dict:
    """A CI job's environment: this venv's ``python`` and ``pytest`` first on PATH, no options from outside; the
    repository at ``installed`` importable, as the job's ``pip install -e .`` (skipped here) makes it."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PATH=f"{Path(sys.executable).parent}{os.pathsep}"
                                                             f"{os.environ.get('PATH', '')}")
    for name in ("PYTEST_ADDOPTS", "GITHUB_STEP_SUMMARY", "F1CHECK_WARM_RUNS"):
        env.pop(name, None)
    if step_summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(step_summary)
    if installed is not None:
        env["PYTHONPATH"] = str(installed)
    return env


def bash(command: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def run_job(job: dict, runner: Path, artifacts: Path, env: dict, matrix: dict) -> list[subprocess.CompletedProcess]:
    """The job's steps in order, as GitHub runs them: after a failed step only those with an ``if`` run; ``run:``
    in bash (installs skipped: this environment has them), uploads and downloads as copies under ``artifacts``."""
    done, failed = [], False
    for step in job["steps"]:
        if failed and "if" not in step:
            continue
        uses, given = str(step.get("uses", "")), {k: expand(v, matrix) for k, v in step.get("with", {}).items()}
        if "run" in step and not step["run"].startswith("pip install"):
            done.append(bash(expand(step["run"], matrix), runner, env))
            failed = failed or done[-1].returncode != 0
        elif uses.startswith("actions/upload-artifact") and given["name"] in ("f1check-shard-1", "f1check-shard-2",
                                                                               "f1check-shard-3"):
            shutil.copytree(runner / given["path"], artifacts / given["name"])  # a folder: its contents
        elif uses.startswith("actions/download-artifact"):
            pattern = given["pattern"].replace("*", "")
            for artifact in sorted(artifacts.iterdir()):
                if artifact.name.startswith(pattern):
                    shutil.copytree(artifact, runner / given["path"] / artifact.name)
    return done


def expand(text, matrix: dict):
    """``${{ matrix.group }}`` and the like: the matrix's values; any other expression left as it is."""
    if not isinstance(text, str):
        return text
    return re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: str(matrix[m.group(1)]), text)


def repo_copy(folder: Path) -> Path:
    shutil.copytree(MODEL_REPO, folder, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    config = folder / "pyproject.toml"
    config.write_text(re.sub(r"(?m)^examples = \d+$", f"examples = {EXAMPLES}", config.read_text()))
    return folder


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    """The single ``-n 0`` run (which records the durations, as the docs say to once), then the workflow's three
    shard jobs (each on its own copy of the repo with the durations file) and its merge job."""
    top = tmp_path_factory.mktemp("shards")
    base = repo_copy(top / "repo")
    single = bash("pytest -p no:cacheprovider -n 0 --f1check --store-durations --durations-path .test_durations "
                  "--f1check-report single/f1check.json --f1check-summary single/summary.md "
                  "--junitxml single/junit.xml", base, environment(installed=base))
    assert single.returncode == 1, single.stdout[-3000:] + single.stderr[-3000:]
    workflow, artifacts = read_workflow(), top / "artifacts"
    shards = {}
    for group in workflow["jobs"]["shards"]["strategy"]["matrix"]["group"]:
        runner = top / f"shard-{group}"
        shutil.copytree(base, runner, ignore=shutil.ignore_patterns("single"))
        shards[group] = run_job(workflow["jobs"]["shards"], runner, artifacts, environment(top / f"step-{group}.md", runner),
                                {"group": group})
    merger = top / "merge"
    merger.mkdir()
    (top / "step-merge.md").write_text("an earlier step's summary\n")
    merged = run_job(workflow["jobs"]["merge"], merger, artifacts, environment(top / "step-merge.md"), {})
    return {"top": top, "base": base, "single": base / "single", "shards": shards, "merger": merger,
            "merged": merged[-1], "out": merger / "f1check-out", "artifacts": artifacts}


def untimed(record: dict) -> dict:
    """A result without what depends on when or where it was written: timings, the picture's folder."""
    return {k: v for k, v in record.items() if k not in ("elapsed", "seconds", "duration", "picture")}


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def merge_cli(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "f1check", "merge", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=env or environment(), timeout=120, check=False)


def shard_reports(sharded) -> list[Path]:
    return [sharded["artifacts"] / f"f1check-shard-{g}" / "f1check.json" for g in (1, 2, 3)]


# -- the shards give the single run's results --------------------------------------------------------------------


@pytest.mark.long
def test_three_shards_hold_the_single_runs_results_each_once(sharded):
    single = load(sharded["single"] / "f1check.json")
    assert single["complete"] is True and single["expected"] == len(single["results"]) > 10
    durations = load(sharded["base"] / ".test_durations")  # pytest-split's file, keyed by f1check's node ids
    assert sum(name.startswith("f1check::") for name in durations) == len(single["results"])
    union = []
    for group, steps in sharded["shards"].items():
        assert steps[-1].returncode in (0, 1), steps[-1].stdout[-3000:] + steps[-1].stderr[-3000:]
        assert f"Running group {group}/3" in steps[-1].stdout
        report = load(sharded["artifacts"] / f"f1check-shard-{group}" / "f1check.json")
        assert report["complete"] is True and report["expected"] == len(report["results"]) > 0
        assert report["environment"] == single["environment"]
        union += report["results"]
    assert [untimed(r) for r in union] == [untimed(r) for r in single["results"]]  # each once, in order


@pytest.mark.long
def test_the_merge_gives_one_report_summary_and_junit_file_equal_to_the_single_runs(sharded):
    merged, out = sharded["merged"], sharded["out"]
    single = load(sharded["single"] / "f1check.json")
    assert merged.returncode == 1, merged.stdout + merged.stderr  # the repo has wrong subjects: the check fails
    assert merged.stderr == "" and " failed, " in merged.stdout
    report = load(out / "f1check.json")
    assert (report["version"], report["complete"], report["expected"], report["exit_status"]) == \
        (1, True, single["expected"], 1)
    assert report["environment"] == single["environment"]
    assert [untimed(r) for r in report["results"]] == [untimed(r) for r in single["results"]]
    assert [(s["report"], s["complete"], s["problem"]) for s in report["shards"]] == \
        [(f"shards/f1check-shard-{g}/f1check.json", True, None) for g in (1, 2, 3)]
    assert sum(s["results"] for s in report["shards"]) == len(single["results"])
    assert all(s["environment"] == single["environment"] and s["exit_status"] in (0, 1) for s in report["shards"])
    pictures = [r["picture"] for r in report["results"] if r.get("picture")]
    assert len(pictures) == sum(not r["passed"] for r in single["results"] if r["status"] == "fail") > 0
    for name in pictures:  # relative to the merged report's folder, and there
        assert name.startswith("../shards/f1check-shard-") and (out / name).read_bytes()[:4] == b"\x89PNG"
    # the summary: the single run's writer, every row, in order; each failure's details
    summary = (out / "summary.md").read_text()
    assert rendered_table(summary) == rendered_table((sharded["single"] / "summary.md").read_text())
    assert summary.count("<details>") == sum(r["status"] != "pass" for r in single["results"])
    assert "](../shards/f1check-shard-" in summary  # pictures linked from the summary's folder
    step = (sharded["top"] / "step-merge.md").read_text()
    assert step.startswith("an earlier step's summary\n## f1check: ") and len(rendered_table(step)) == len(
        single["results"])
    # JUnit: a test case per result, named as pytest names the item; failures carry the message
    def cases(path):
        return {c.get("name"): c for c in ET.parse(path).iter("testcase") if c.get("classname") == "f1check"}

    merged_cases, single_cases = cases(out / "junit.xml"), cases(sharded["single"] / "junit.xml")
    assert list(merged_cases) == list(single_cases)
    for (name, case), record in zip(merged_cases.items(), single["results"]):
        kept = {"failure", "error", "skipped"}
        assert {c.tag for c in case} & kept == {c.tag for c in single_cases[name]} & kept
        assert f"{case.get('file')}:{int(case.get('line')) + 1}" == record["defined_at"]  # pytest's xunit1 lines
        failure = case.find("failure")
        if failure is not None:
            assert failure.get("message").startswith(name.replace("[", " [", 1).split("]")[0] + "] FAILED: off by ")
            assert "reproduce" in failure.text and "why: " in failure.text


@pytest.mark.long
def test_shards_split_by_k_and_node_ids_are_the_selection_split(tmp_path):
    """pytest-split splits what ``-k`` and node ids selected: the groups' items are that selection, each once."""
    repo = repo_copy(tmp_path / "repo")

    def listed(*args):
        done = bash("pytest -p no:cacheprovider --f1check --co -q " + " ".join(args), repo, environment(installed=repo))
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return [line for line in done.stdout.splitlines() if line.startswith("f1check::")]

    node_ids = [f"f1check::repo_metrics.{name}" for name in (
        "metrics:f1[fit]", "metrics:TiesF1[evaluate]", "callbacks:predict_f1[evaluate]")]
    chosen = {"-k 'fit and not dropped'": None, " ".join(f"'{n}'" for n in node_ids): node_ids}
    for selection, whole in chosen.items():
        whole = whole or listed(selection)
        groups = [listed(selection, f"--splits 2 --group {g}") for g in (1, 2)]
        assert len(whole) >= 3 and all(groups) and sorted(groups[0] + groups[1]) == sorted(whole), (selection, groups)


def test_records_come_back_in_the_single_runs_order_with_the_items_names():
    from f1check.plugin.merge import in_run_order, named

    def record(target, mode, score="f1"):
        return {"target": target, "mode": mode, "score": score}

    # a target whose modes were listed fit-first, cut between two shards; a target listed again; two scores
    shards = [record("A", "fit"), record("A", "evaluate"), record("B", "evaluate"), record("B", "fit"),
              record("B", "evaluate"), record("C", "fit", "f1"), record("C", "fit", "mcc")]
    assert [r["nodeid"] for r in named(in_run_order(shards))] == [
        "f1check::A[evaluate]", "f1check::A[fit]", "f1check::B[evaluate]", "f1check::B[fit]",
        "f1check::B(2)[evaluate]", "f1check::C[fit,f1]", "f1check::C[fit,mcc]"]


# -- what the merge refuses: one line on stderr, exit 2, never a traceback ----------------------------------------


def refused(done: subprocess.CompletedProcess, *says: str) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("f1check merge: "), done.stderr
    for text in says:
        assert text in lines[0], (text, lines[0])
    return lines[0]


@pytest.mark.long
def test_a_missing_shard_report_is_exit_2_naming_it(sharded, tmp_path):
    reports = shard_reports(sharded)
    gone = tmp_path / "f1check-shard-2" / "f1check.json"  # the shard that uploaded nothing
    done = merge_cli(reports[0], gone, reports[2], "--expect", "3", "--report", "out.json", "--junitxml", "junit.xml",
                     cwd=tmp_path)
    refused(done, str(gone), "is missing")
    report = load(tmp_path / "out.json")  # what came is merged, and says it is not the whole run
    assert report["complete"] is False and report["exit_status"] == 2 and report["expected"] is None
    assert [s["problem"] for s in report["shards"]] == [None, "is missing (no such file)", None]
    assert any(c.get("name") == f"shard {gone.as_posix()}" and c.find("error") is not None
               for c in ET.parse(tmp_path / "junit.xml").iter("testcase"))
    # a glob that found two of the three: the count says it
    refused(merge_cli(reports[0], reports[2], "--expect", "3", cwd=tmp_path), "2 shard reports given, 3 expected")


def _other_run(report: dict, **environment) -> dict:
    return {**report, "environment": {**report["environment"], **environment}}


BAD = {  # file name -> (its text from a good shard report, what the one line says)
    "not-json.json": (lambda good: "<testsuites/>", "is not JSON"),
    "binary.json": (lambda good: b"\x89PNG\r\n\x1a\n\xff\xfe", "cannot be read"),
    "a-list.json": (lambda good: "[1, 2]", "is not an f1check report"),
    "junit-like.json": (lambda good: json.dumps({"tests": 3}), "is not an f1check report"),
    "no-status.json": (lambda good: json.dumps({**good, "results": [{"target": "a:b", "mode": "fit"}]}),
                       "is not an f1check report (its result 1 has no target, mode and status)"),
    "why-a-string.json": (lambda good: json.dumps({**good, "results": [{**good["results"][0], "why": 3}]}),
                          "has a why that is not a list"),
    "picture-a-number.json": (lambda good: json.dumps({**good, "results": [
        {**r, "picture": 5} for r in good["results"]]}), "holds a value f1check cannot write out"),
    "schema-2.json": (lambda good: json.dumps({**good, "version": 2}), "is a report of schema version 2"),
    "old-f1check.json": (lambda good: json.dumps(_other_run(good, f1check="0.0.1")),
                         "comes from another f1check run (f1check '0.0.1' where"),
    "other-seed.json": (lambda good: json.dumps(_other_run(good, seed=7)), "seed 7 where"),
    "other-backend.json": (lambda good: json.dumps(_other_run(good, backend="jax")), "backend 'jax' where"),
}


@pytest.mark.long
@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_file_is_exit_2_in_one_line(sharded, tmp_path, name):
    make, says = BAD[name]
    reports = shard_reports(sharded)
    text = make(load(reports[1]))
    (tmp_path / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    done = merge_cli(reports[0], name, reports[2], "--expect", "3", "--report", "out.json", cwd=tmp_path)
    if name == "picture-a-number.json":  # read as a report; found out when written
        refused(done, says)
        return
    refused(done, f"f1check merge: {name} ", says)
    report = load(tmp_path / "out.json")
    assert report["complete"] is False and report["shards"][1]["problem"] in done.stderr
    assert len(report["results"]) == sum(len(load(r)["results"]) for r in (reports[0], reports[2]))


def test_nothing_to_merge_and_bad_arguments_are_one_line(tmp_path):
    refused(merge_cli(cwd=tmp_path), "no shard report given")
    refused(merge_cli(tmp_path, cwd=tmp_path), "cannot be read")  # a folder
    done = merge_cli("a.json", "--expect", "none", cwd=tmp_path)
    assert done.returncode == 2 and "--expect: 'none' is not a whole number" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.long
def test_a_shard_killed_by_sigterm_merges_as_incomplete(sharded, tmp_path):
    reports = shard_reports(sharded)
    killed = load(reports[1])
    # what a SIGTERM leaves (tests/test_run_safety.py): the items before it, the running one as an error, no more
    kept = killed["results"][:2]
    running = {"target": killed["results"][2]["target"], "mode": killed["results"][2]["mode"], "score": "f1",
               "status": "error", "passed": False, "error": "f1check: interrupted (Ctrl-C or SIGTERM)", "why": []}
    killed.update(complete=False, exit_status=2, results=[*kept, running])
    (tmp_path / "killed").mkdir()
    (tmp_path / "killed" / "f1check.json").write_text(json.dumps(killed))
    done = merge_cli(reports[0], "killed/f1check.json", reports[2], "--expect", "3", "--report", "out/f1check.json",
                     "--summary", "out/summary.md", "--junitxml", "out/junit.xml", cwd=tmp_path)
    refused(done, "killed/f1check.json is incomplete: 3 of", "pytest exit status 2")
    report = load(tmp_path / "out" / "f1check.json")
    single = load(sharded["single"] / "f1check.json")
    assert (report["complete"], report["expected"], report["exit_status"]) == (False, single["expected"], 2)
    assert len(report["results"]) == single["expected"] - (load(reports[1])["expected"] - 3)
    assert report["shards"][1]["complete"] is False and "incomplete" not in (report["shards"][0]["problem"] or "")
    assert "(incomplete run)" in (tmp_path / "out" / "summary.md").read_text()
    errors = [c.get("name") for c in ET.parse(tmp_path / "out" / "junit.xml").iter("testcase")
              if c.find("error") is not None]
    assert "shard killed/f1check.json" in errors and f"{running['target']}[{running['mode']}]" in errors


@pytest.mark.long
def test_every_item_passed_is_exit_0(sharded, tmp_path):
    for group, path in enumerate(shard_reports(sharded), 1):
        report = load(path)
        passing = [r for r in report["results"] if r["status"] == "pass"]
        report.update(results=passing, expected=len(passing), exit_status=0)
        (tmp_path / f"{group}.json").write_text(json.dumps(report))
    done = merge_cli("1.json", "2.json", "3.json", "--expect", "3", "--report", "out.json", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stdout + done.stderr
    assert load(tmp_path / "out.json")["complete"] is True and load(tmp_path / "out.json")["exit_status"] == 0


def test_the_merge_reads_json_only():
    """The merge job installs f1check without a backend: the command imports no framework."""
    code = ("import sys, f1check.plugin.merge; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch', 'numpy', 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment(), timeout=120,
                          check=False)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
