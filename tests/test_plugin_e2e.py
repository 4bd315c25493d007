"""``pytest --f1check`` end to end, the way users run it: each run a process of its own, so TensorFlow state stays
out. Most are warm runs (tests/warm.py: forked from an interpreter that imported TensorFlow once); the tests whose
subject is the start itself (the patterns repo's quiet run, what plain pytest imports) start fresh interpreters."""

import importlib.util
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import warm
from support import rendered_table, require

pytest_plugins = ["pytester"]

MODEL_REPO = Path(__file__).parent.parent / "fixtures" / "model_repo"
PATTERNS_REPO = Path(__file__).parent.parent / "fixtures" / "patterns_repo"
ALL = ("evaluate", "fit", "fit-dropped")
RIGHT = [  # (target, modes) the example repo lists and that must pass
    ("repo_metrics.metrics:StreamingF1", ALL),
    ("repo_metrics.metrics:keras_f1", ALL),
    ("repo_metrics.metrics:StreamingMacroF1", ("evaluate",)),
    ("repo_metrics.callbacks:F1FromLogs", ALL),
    ("repo_metrics.callbacks:predict_f1", ("evaluate",)),
]
WRONG = [  # ... and that must fail, each blamed on the subject's own aggregation, with the reason below
    ("repo_metrics.metrics:f1", ALL),
    ("repo_metrics.metrics:CumulativeF1", ("fit", "fit-dropped")),
    ("repo_metrics.metrics:TiesF1", ("evaluate",)),
    ("repo_metrics.metrics:batch_macro_f1", ("evaluate",)),
    ("repo_metrics.callbacks:predict_f1_first_batch", ALL),
]
WHY = {  # the reason code each wrong target fails with (the summary's why column, the JSON's why)
    "repo_metrics.metrics:f1": "per-batch-mean",
    "repo_metrics.metrics:CumulativeF1": "carried-state",
    "repo_metrics.metrics:TiesF1": "threshold-tie",
    "repo_metrics.metrics:batch_macro_f1": "per-batch-mean",
    "repo_metrics.callbacks:predict_f1_first_batch": "scores-a-prefix",
}
RIGHT_ITEMS = [(t, m) for t, modes in RIGHT for m in modes]
WRONG_ITEMS = [(t, m) for t, modes in WRONG for m in modes]


@pytest.fixture
def model_repo(pytester):
    shutil.copytree(MODEL_REPO, pytester.path, dirs_exist_ok=True)
    return pytester


# Runs snippets one after another in one fresh interpreter, each in a namespace of its own, and says how each
# ended: one interpreter (one TensorFlow start) for all of a report's snippets keeps the suite short.
RUN_SNIPPETS = """
import json, sys, traceback
for snippet in json.load(sys.stdin):
    try:
        exec(compile(snippet, "<snippet>", "exec"), {"__name__": "__main__"})
        print(json.dumps({"raised": None, "text": ""}))
    except BaseException as exc:
        print(json.dumps({"raised": type(exc).__name__, "text": str(exc)}))
"""


def run_snippets(repo: Path, snippets: list[str], cwd: Path | None = None) -> list[dict]:
    """Each snippet's end (the exception's class and text) in one new interpreter (a warm run) started in ``cwd``."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)  # the snippet finds the repository itself
    code, out, err = warm.run_python(RUN_SNIPPETS, cwd or repo, env, stdin_text=json.dumps(snippets))
    assert code == 0, err[-3000:]
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def glob_escape(text: str) -> str:
    """``text`` as an fnmatch pattern that matches it literally (``[`` and ``]`` are pattern characters)."""
    return "".join(f"[{c}]" if c in "[]*?" else c for c in text)


def assert_every_failure_reproduces(repo: Path, results: list[dict], cwd: Path | None = None) -> None:
    """Each failing item's snippet, pasted into a fresh interpreter, fails again with the same logged value."""
    failing = [r for r in results if r["status"] == "fail"]
    assert failing
    for result, ended in zip(failing, run_snippets(repo, [r["reproduce"] for r in failing], cwd)):
        target = f"{result['target']} [{result['mode']}]"
        assert ended["raised"] == "F1CheckFailure", (target, ended, result["reproduce"])
        assert f"{target} FAILED" in ended["text"], ended["text"][-3000:]
        logged = f"{result['counterexample']['reported']:.6f}"
        assert logged in ended["text"], (target, logged, ended["text"][-3000:])


def test_without_the_flag_only_the_repos_tests_run_and_marked_ones_skip(model_repo):
    result = warm.runpytest(model_repo, "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(["*SKIPPED*f1check check: run pytest with --f1check to run it*"])
    result.stdout.no_fnmatch_line("*f1check summary*")


@pytest.mark.long
def test_with_the_flag_exactly_the_wrong_subjects_fail(model_repo, monkeypatch):
    step_summary = model_repo.path / "step-summary.md"
    step_summary.write_text("an earlier step's summary\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # as on GitHub Actions: annotations and the step summary
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # -rf lines long enough to show where each failure is
    result = warm.runpytest(  # fewer examples than the repo's 20, to keep the suite short
        model_repo, "--f1check", "--f1check-examples=4", "--f1check-report=out/report.json", "--junitxml=junit.xml",
        "-o", "junit_family=xunit1", "--f1check-summary=out/summary.md", "--html=out/report.html",
        "--self-contained-html", "-p", "no:cacheprovider",
    )
    result.assert_outcomes(passed=len(RIGHT_ITEMS) + 4, failed=len(WRONG_ITEMS))  # + the repo's own 4 tests
    result.stdout.fnmatch_lines(["f1check *: keras *, backend tensorflow, device CPU, --f1check-seed=0"])
    for target, mode in RIGHT_ITEMS:
        result.stdout.fnmatch_lines([f"{target} *{mode} *PASS *4 *"])
    for target, mode in WRONG_ITEMS:
        result.stdout.fnmatch_lines([f"FAILED f1check::{target}[[]{mode}[]]*"])
        result.stdout.fnmatch_lines([f"{target} *{mode} *FAIL * {WHY[target]} *"])
    result.stdout.fnmatch_lines(
        [
            "*f1check summary*",
            "f1check *: keras *--f1check-seed=0",
            "target * mode * verdict * examples * max |error| * why * worst partition",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*repo_metrics.metrics:f1 [[]evaluate[]] FAILED*",
            "*why: the subject averages per-batch F1*",
            "*partitions = [[]f1check.Partition(batch_sizes=*",
            "*rerun: pytest --f1check --f1check-seed=0 --f1check-examples=4 'f1check::repo_metrics.metrics:f1[[]evaluate[]]'",
        ]
    )
    result.stdout.fnmatch_lines(["*repo_metrics.metrics:CumulativeF1 [[]fit[]] FAILED*", "*state carried across reset_state()*epoch 1*"])
    report = json.loads((model_repo.path / "out" / "report.json").read_text())
    assert report["version"] == 1
    assert set(report["environment"]) == {"f1check", "keras", "backend", "device", "seed"}
    assert report["environment"]["seed"] == 0 and report["environment"]["device"] == "CPU"
    results = {(r["target"], r["mode"]): r for r in report["results"]}
    assert [(r["target"], r["mode"]) for r in report["results"]] == RIGHT_ITEMS + WRONG_ITEMS  # config order
    for item in RIGHT_ITEMS:
        assert results[item]["passed"] is True and results[item]["counterexample"] is None
    # JSON epochs count from 1: the never-reset metric fails in fit's second epoch, evaluate has one
    assert results[("repo_metrics.metrics:CumulativeF1", "fit")]["counterexample"]["epoch"] == 2
    assert results[("repo_metrics.metrics:TiesF1", "evaluate")]["counterexample"]["epoch"] == 1
    for item in WRONG_ITEMS:
        r = results[item]
        assert r["passed"] is False and r["tolerance"] == 0.001
        assert set(r["worst"]) >= {"reported", "replayed", "f1_seen", "f1_all", "n", "batch_sizes", "dropped", "error"}
        assert set(r["worst"]["error"]) == {"loop", "aggregation", "coverage", "drift"}
        assert r["counterexample"]["n"] >= 1 and r["max_abs_error"] > 0.001
        assert r["why"] and r["why"][0]["code"] == WHY[item[0]] and r["why"][0]["text"], (item, r["why"])
    properties = {
        (case.get("name"), prop.get("name")): prop.get("value")
        for case in ET.parse(model_repo.path / "junit.xml").iter("testcase")
        for prop in case.iter("property")
    }
    assert properties[("repo_metrics.metrics:TiesF1[evaluate]", "f1check_passed")] == "False"
    assert properties[("repo_metrics.metrics:TiesF1[evaluate]", "f1check_dominant_error")] == "aggregation"
    assert properties[("repo_metrics.metrics:TiesF1[evaluate]", "f1check_why")] == "threshold-tie"
    assert properties[("repo_metrics.metrics:StreamingF1[fit]", "f1check_examples")] == "4"
    assert_seen_where_reviewers_look(model_repo, result, report["results"], step_summary)
    # every snippet reruns from a fresh clone plus the report's artifacts (out/), from a folder inside it
    clone = model_repo.path.parent / "clone"
    shutil.copytree(MODEL_REPO, clone)
    shutil.copytree(model_repo.path / "out", clone / "out")
    assert_every_failure_reproduces(clone, report["results"], cwd=clone / "tests")


def defined_at(repo: Path, target: str) -> tuple[str, int]:
    """The file (relative) and 1-based line of the ``def``/``class`` of ``target``, read from its source."""
    module, name = target.split(":")
    relative = module.replace(".", "/") + ".py"
    lines = (repo / relative).read_text().splitlines()
    return relative, next(k for k, line in enumerate(lines, 1) if re.match(rf"(def|class) {name}\b", line))


def assert_seen_where_reviewers_look(repo, result, results: list[dict], step_summary: Path) -> None:
    """Issue 24: each item located at its subject (JUnit, annotations, JSON), the Markdown summaries, the pictures,
    pytest-html's extras."""
    cases = {case.get("name"): case for case in ET.parse(repo.path / "junit.xml").iter("testcase")}
    output = result.stdout.str() + result.stderr.str()
    for target, mode in RIGHT_ITEMS + WRONG_ITEMS:
        relative, line = defined_at(repo.path, target)
        case = cases[f"{target}[{mode}]"]
        assert (case.get("file"), case.get("line")) == (relative, str(line - 1)), target  # pytest's 0-based line
    for target, mode in WRONG_ITEMS:
        relative, line = defined_at(repo.path, target)
        assert f"::error file={relative},line={line}::f1check {target}[{mode}] ({relative}:{line})" in output, target
        result.stdout.fnmatch_lines([f"_* f1check {glob_escape(target)}[[]{mode}[]] ({relative}:{line}) _*"])
        result.stdout.fnmatch_lines([f"FAILED f1check::{glob_escape(target)}[[]{mode}[]] - {relative}:{line}*"])
    for record in results:
        assert record["defined_at"] == "%s:%d" % defined_at(repo.path, record["target"])
        if record["passed"]:
            assert "picture" not in record
            continue
        picture = repo.path / "out" / record["picture"]
        assert record["picture"].startswith("f1check-plots/") and picture.read_bytes()[:4] == b"\x89PNG"
        assert struct.unpack(">II", picture.read_bytes()[16:24]) == (800, 500)
    for text in ((repo.path / "out" / "summary.md").read_text(), step_summary.read_text()):
        listed = [tuple(row[:3]) for row in rendered_table(text)]
        expected = [(t, m, "pass") for t, m in RIGHT_ITEMS] + [(t, m, "FAIL") for t, m in WRONG_ITEMS]
        assert listed == expected  # config order, every item once
        assert text.count("<details>") == len(WRONG_ITEMS)
    heading = f"## f1check: {len(WRONG_ITEMS)} failed, {len(RIGHT_ITEMS)} passed\n"
    assert step_summary.read_text().startswith("an earlier step's summary\n" + heading)  # appended, once
    assert "](../out/f1check-plots/" not in (repo.path / "out" / "summary.md").read_text()
    assert "](f1check-plots/" in (repo.path / "out" / "summary.md").read_text()  # linked beside it
    html = (repo.path / "out" / "report.html").read_text()
    assert html.count("data:image/png;base64") >= len(WRONG_ITEMS) and "why: per-batch-mean" in html


def test_the_rerun_command_runs_just_that_item(model_repo):
    result = warm.runpytest(
        model_repo, "--f1check", "--f1check-seed=0", "f1check::repo_metrics.metrics:TiesF1[evaluate]", "-p",
        "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*scores = numpy.array([[]0.5[]], dtype='float32')*"])


SMALL_PROJECT = """
[tool.f1check]
examples = 4
modes = ["evaluate"]
targets = [
  "f1check.examples:StreamingF1",
  "f1check.examples:naive_f1",
  "f1check.examples:TiesPositiveF1",
  { metric = "f1check.examples:keras_f1_score", tolerance = 0.01 },
]
"""


def run_small(pytester, *args):
    pytester.makepyprojecttoml(SMALL_PROJECT)
    result = warm.runpytest(pytester, "--f1check", "-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=2, failed=2)
    return result


@pytest.mark.long
def test_same_seed_and_workers_give_the_same_report(pytester, monkeypatch):
    require("xdist", "pip install -e '.[test]'")
    first = run_small(pytester, "--f1check-seed=7", "--f1check-report=a.json", "--f1check-summary=a.md", "-n", "0")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "step.md"))
    parallel = run_small(pytester, "--f1check-seed=7", "--f1check-report=c.json", "--f1check-summary=c.md", "-n", "2")
    # the summary written once, by the controller, the same as without workers
    step = (pytester.path / "step.md").read_text()
    assert step.count("## f1check: 2 failed, 2 passed") == 1 and len(rendered_table(step)) == 4
    assert (pytester.path / "a.md").read_text() == (pytester.path / "c.md").read_text().replace("c.json", "a.json")
    # Two processes, one of them split over two workers: the same report, byte for byte
    assert (pytester.path / "a.json").read_bytes() == (pytester.path / "c.json").read_bytes()
    serial_json = json.loads((pytester.path / "a.json").read_text())
    assert serial_json["environment"]["seed"] == 7
    assert serial_json["results"] == json.loads((pytester.path / "c.json").read_text())["results"]
    assert parallel.stdout.str().count("f1check summary") == 1
    assert first.stdout.str().count("f1check summary") == 1


def test_a_bad_target_is_an_error_item_and_the_run_goes_on(pytester):
    pytester.makepyfile(local_subjects="NOT_A_METRIC = 'f1'\n")
    pytester.makepyprojecttoml(
        """
[tool.f1check]
examples = 8
modes = ["evaluate"]
targets = ["no_such_module:f1", "local_subjects:NOT_A_METRIC", "f1check.examples:StreamingF1"]
"""
    )
    result = warm.runpytest(pytester, "--f1check", "-p", "no:cacheprovider", "--f1check-report=r.json",
                            "--junitxml=junit.xml")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["*target 'no_such_module:f1' does not import: ModuleNotFoundError*"])
    result.stdout.fnmatch_lines(["*local_subjects:NOT_A_METRIC (str) is neither a metric nor a callback*"])
    result.stdout.fnmatch_lines(["no_such_module:f1 *evaluate *ERROR*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*During handling of the above exception*")  # each error said once, not as a chain
    result.stdout.no_fnmatch_line("*Did you mean*")  # nothing in the project is spelled like no_such_module
    statuses = {r["target"]: r["status"] for r in json.loads((pytester.path / "r.json").read_text())["results"]}
    assert statuses == {"no_such_module:f1": "error", "local_subjects:NOT_A_METRIC": "error",
                        "f1check.examples:StreamingF1": "pass"}
    cases = {case.get("name"): case for case in ET.parse(pytester.path / "junit.xml").iter("testcase")}
    assert cases["no_such_module:f1[evaluate]"].find("error") is not None
    assert cases["no_such_module:f1[evaluate]"].find("failure") is None


def test_plain_pytest_imports_no_framework(pytester):
    pytester.makeconftest(
        """
import sys

def pytest_sessionfinish(session):
    heavy = [m for m in ("tensorflow", "keras", "jax", "torch") if m in sys.modules]
    open("imported.txt", "w").write(" ".join(heavy))
"""
    )
    pytester.makepyprojecttoml('[tool.f1check]\ntargets = ["f1check.examples:naive_f1"]\n')
    pytester.makepyfile(
        """
        import pytest

        def test_plain():
            pass

        @pytest.mark.f1check
        def test_marked(f1check):
            raise AssertionError("must not run without --f1check")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)
    assert (pytester.path / "imported.txt").read_text() == ""


def test_fixtures_work_inside_given_tests(pytester):
    pytester.makepyprojecttoml("[tool.f1check]\ntargets = []\n")
    pytester.makepyfile(
        """
        import pytest
        from hypothesis import given, settings, strategies as st

        import f1check as api

        @pytest.mark.f1check(tolerance=0.01)
        @settings(max_examples=4, deadline=None)
        @given(st.integers(2, 6))
        def test_streaming_on_explicit_partitions(f1check, f1check_data, k):
            y, scores = f1check_data(60, positive_rate=0.3)
            report = f1check.check("f1check.examples:StreamingF1", data=(y, scores),
                                   partitions=[api.Partition.floor_steps(60, k)])
            assert report.passed
            assert report.results[0].tolerance == 0.01

        @pytest.mark.f1check
        def test_the_model_fixture(f1check_model, f1check_data):
            x, y = f1check_data.learnable(256, features=3)
            model = f1check_model(features=3)
            assert model.fit(x, y, epochs=1, verbose=0).history["loss"]
        """
    )
    result = warm.runpytest(pytester, "--f1check", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


PATTERNS_RIGHT = [
    "patterns.metrics:BinaryF1[evaluate]",
    "patterns.callbacks:predict_f1[evaluate]",
    "patterns.metrics:macro_f1[evaluate]",
    "patterns.metrics:keras_precision[evaluate]",
    "patterns.metrics:keras_recall[evaluate]",
    "patterns.metrics:keras_f2[evaluate]",
    "patterns.metrics:StreamingMCC[evaluate]",
    "patterns.callbacks:ValidationF1[validation]",
]
PATTERNS_WRONG = {  # item -> what the message must say
    "patterns.metrics:F1Score[evaluate]": "counts a score of exactly the threshold (0.5) as positive",
    "patterns.callbacks:broadcast_f1[evaluate]": "the callback's F1 differs from sklearn's on the data it was given",
    "patterns.metrics:UntrackedF1[evaluate]": "state carried across reset_state()",
    "patterns.metrics:UntrackedF1[fit]": "state carried across reset_state()",
    "patterns.metrics:macro_f1_at_half[evaluate]": "thresholds every class at 0.5 instead of taking the argmax",
    "patterns.metrics:precision_m[evaluate]": "the subject averages per-batch precision",
    "patterns.metrics:recall_m[evaluate]": "the subject averages per-batch recall",
    "patterns.metrics:fbeta_m[evaluate]": "the subject averages per-batch F-beta (beta=2)",
    "patterns.metrics:mcc_m[evaluate]": "the subject averages per-batch MCC",
}


@pytest.mark.long
def test_patterns_from_public_repos_get_the_right_verdicts_quietly(pytester):
    shutil.copytree(PATTERNS_REPO, pytester.path, dirs_exist_ok=True)
    before = set(pytester.path.rglob("*"))
    result = pytester.runpytest_subprocess("--f1check", "-p", "no:cacheprovider", "--f1check-report=report.json",
                                           "--f1check-examples=4", "-W", "error::DeprecationWarning")
    result.assert_outcomes(passed=len(PATTERNS_RIGHT) + 1, failed=len(PATTERNS_WRONG))  # + the repo's own test
    for item in PATTERNS_RIGHT:
        result.stdout.no_fnmatch_line(f"FAILED f1check::{glob_escape(item)}*")
        result.stdout.no_fnmatch_line(f"ERROR f1check::{glob_escape(item)}*")
        target, mode = item[:-1].split("[")
        result.stdout.fnmatch_lines([f"{glob_escape(target)} *{mode} *PASS *"])
    for item, why in PATTERNS_WRONG.items():
        target, mode = item[:-1].split("[")
        result.stdout.fnmatch_lines([f"*{target} [[]{mode}[]] FAILED*", f"*{why}*"])
    # Quiet and clean: no framework warning provoked by f1check, nothing left behind but the report asked for.
    assert "warning" not in result.stdout.lines[-1].lower()
    assert not (pytester.path / ".hypothesis").exists()
    left = {p.relative_to(pytester.path) for p in set(pytester.path.rglob("*")) - before}
    # pytester's own files, and Keras's ~/.keras and matplotlib's ~/.cache and ~/.config (pytester makes the test
    # folder HOME), are not the repo's
    theirs = {"__pycache__", ".keras", ".cache", ".config", "stdout", "stderr", "runpytest-current", "runpytest-0"}
    report = json.loads((pytester.path / "report.json").read_text())
    pictures = {Path(r["picture"]) for r in report["results"] if "picture" in r}  # the plots extra, beside the report
    assert len(pictures) == (len(PATTERNS_WRONG) if importlib.util.find_spec("matplotlib") else 0)
    assert {p for p in left if not theirs & set(p.parts)} == {Path("report.json"), *pictures, *(
        {Path("f1check-plots")} if pictures else set())}
    scores = {f"{r['target']}[{r['mode']}]": r["score"] for r in report["results"]}
    assert scores["patterns.metrics:keras_precision[evaluate]"] == "precision"
    assert scores["patterns.metrics:StreamingMCC[evaluate]"] == "mcc"
    # one failure of each kind reproduces (the model repo's test reproduces every one of its failures)
    kinds = ("patterns.metrics:F1Score", "patterns.callbacks:broadcast_f1", "patterns.metrics:mcc_m")
    assert_every_failure_reproduces(pytester.path, [r for r in report["results"] if r["target"] in kinds]
                                    + [r for r in report["results"] if r["mode"] == "fit"])


COLLECT_PROJECT = """
[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.f1check]
examples = 3
modes = ["evaluate"]
targets = ["f1check.examples:StreamingF1", "f1check.examples:TiesPositiveF1"]
"""


@pytest.fixture
def collect_project(pytester):
    pytester.makepyprojecttoml(COLLECT_PROJECT)
    pytester.mkdir("tests")
    (pytester.path / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    return pytester


@pytest.mark.parametrize(
    "args, listed, summary",
    [
        ([], ["tests/test_a.py::test_a", "f1check::f1check.examples:StreamingF1[[]evaluate[]]",
              "f1check::f1check.examples:TiesPositiveF1[[]evaluate[]]"], "3 tests collected*"),
        (["tests/test_a.py"], ["tests/test_a.py::test_a"], "1 test collected*"),
        (["-k", "Streaming"], ["f1check::f1check.examples:StreamingF1[[]evaluate[]]"], "1/3 tests collected (2 deselected)*"),
        (["--deselect", "f1check::f1check.examples:StreamingF1[evaluate]"],
         ["tests/test_a.py::test_a", "f1check::f1check.examples:TiesPositiveF1[[]evaluate[]]"],
         "2/3 tests collected (1 deselected)*"),
        (["f1check"], ["f1check::f1check.examples:StreamingF1[[]evaluate[]]",
                       "f1check::f1check.examples:TiesPositiveF1[[]evaluate[]]"], "2 tests collected*"),
        (["f1check::f1check.examples:TiesPositiveF1[evaluate]"],
         ["f1check::f1check.examples:TiesPositiveF1[[]evaluate[]]"], "1 test collected*"),
    ],
    ids=["testpaths and every target", "a path runs only that path", "-k", "--deselect", "f1check alone", "one item"],
)
def test_f1check_items_are_collected_like_any_test(collect_project, args, listed, summary):
    # collection only: in this process (a subprocess would start TensorFlow again for every case)
    result = collect_project.runpytest_inprocess("--f1check", "--co", "-q", "-p", "no:cacheprovider", *args)
    assert result.ret == 0
    items = [line for line in result.stdout.lines if "::" in line]
    assert len(items) == len(listed)
    result.stdout.fnmatch_lines([*listed, summary])


def test_a_long_item_shows_live_progress_on_a_terminal_only(collect_project):
    import pty

    def run(*args, columns="120"):
        primary, secondary = pty.openpty()
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", COLUMNS=columns)
        chunks = []

        def drain():  # the terminal's reader, while the run writes to it
            while True:
                try:
                    chunk = os.read(primary, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                chunks.append(chunk)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        args = ("--f1check", "-p", "no:cacheprovider", "--f1check-examples=20", *args,
                "f1check::f1check.examples:StreamingF1[evaluate]")
        warm.start(collect_project.path, env, Path(os.ttyname(secondary)), Path(os.devnull), module="pytest",
                   args=args).wait(timeout=300)
        os.close(secondary)  # the last open end of the terminal (the run closed its own): the reader sees the end
        reader.join(timeout=60)
        os.close(primary)
        return b"".join(chunks).decode(errors="replace")

    shown = run()
    assert "1 passed" in shown
    assert "[f1check.examples:StreamingF1[evaluate]: " in shown and "examples, worst |error|" in shown
    assert "/20 examples" in shown and "\r" in shown
    assert "examples, worst |error|" not in run("-q")  # quiet under -q
    verbose = run("-v", columns="80")  # -v prints the id on the line: the status does not repeat it, and fits
    assert "/20" in verbose and "StreamingF1[evaluate]: " not in verbose
    assert max(len(part) for part in re.split(r"[\r\n]", verbose) if "/20" in part) <= 80


def test_a_target_listed_for_two_scores_names_the_score_in_its_id(pytester):
    pytester.makepyprojecttoml(
        '[tool.f1check]\nmodes = ["evaluate"]\ntargets = [\n'
        '  { metric = "f1check.examples:keras_precision", score = "precision" },\n'
        '  { metric = "f1check.examples:keras_precision", score = "recall" },\n'
        '  "f1check.examples:StreamingF1",\n  { metric = "f1check.examples:StreamingF1", tolerance = 0.01 },\n]\n'
    )
    result = pytester.runpytest_inprocess("--f1check", "--co", "-q", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([
        "f1check::f1check.examples:keras_precision[[]evaluate,precision[]]",
        "f1check::f1check.examples:keras_precision[[]evaluate,recall[]]",
        "f1check::f1check.examples:StreamingF1[[]evaluate[]]",
        "f1check::f1check.examples:StreamingF1(2)[[]evaluate[]]",
        "4 tests collected*",
    ])


@pytest.mark.long
def test_the_flag_leaves_the_repos_own_tests_as_they_are_and_names_the_pythonpath_line(tmp_path):
    # A repository whose package is at its root, run with the pytest command (not python -m pytest): the root is
    # not on sys.path, so its own test cannot import the package. --f1check must not make that test pass; its
    # target is an error that gives the line to add.
    (tmp_path / "pkgx").mkdir()
    (tmp_path / "pkgx" / "__init__.py").write_text("")
    (tmp_path / "pkgx" / "metrics.py").write_text("import keras\n\ndef f1():\n    return keras.metrics.F1Score(threshold=0.5)\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_plain.py").write_text("from pkgx.metrics import f1\n\ndef test_imports():\n    assert f1\n")
    config = '[tool.f1check]\ntargets = ["pkgx.metrics:f1"]\nmodes = ["evaluate"]\nexamples = 2\n'
    (tmp_path / "pyproject.toml").write_text(config)
    command = ["-p", "no:cacheprovider", "-p", "no:randomly", "-rA", "--continue-on-collection-errors"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)

    def run(*args):  # the console script, as a warm run: its folder first on sys.path, as Python puts it
        script = Path(sys.executable).parent / "pytest"
        process = warm.start(tmp_path, env, tmp_path / "stdout", tmp_path / "stderr", script=script,
                             args=[*command, *args])
        out, err = process.communicate(timeout=600)
        return subprocess.CompletedProcess([str(script), *command, *args], process.returncode, out, err)

    plain, flagged = run(), run("--f1check")
    assert "ERROR tests/test_plain.py" in plain.stdout and "No module named 'pkgx'" in plain.stdout, plain.stdout[-2000:]
    assert "ERROR tests/test_plain.py" in flagged.stdout, flagged.stdout[-2000:]  # the same outcome
    assert "'pkgx' is in" in flagged.stdout and 'Add pythonpath = ["."] to [tool.pytest.ini_options]' in flagged.stdout
    (tmp_path / "pyproject.toml").write_text(config + '\n[tool.pytest.ini_options]\npythonpath = ["."]\n')
    fixed = run("--f1check")
    assert "PASSED tests/test_plain.py::test_imports" in fixed.stdout, fixed.stdout[-2000:]
    assert "PASSED f1check::pkgx.metrics:f1[evaluate]" in fixed.stdout, fixed.stdout[-2000:]
