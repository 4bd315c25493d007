"""The README and docs/ are a contract: their Python runs as pasted, their numbers are sklearn's, their commands
are the tested ones, and their tables and signature are the code's."""

import inspect
import os
import re
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
import warm
from sklearn.metrics import f1_score, precision_score, recall_score

from f1check.data import worked_example

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
PAGES = {path.name: path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))}
EVERYTHING = "\n".join([README, *PAGES.values()])


def blocks(language: str, text: str = EVERYTHING) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_the_worked_example_table_is_sklearns():
    y, s = worked_example()
    labels, predicted = y.ravel().astype(int), (s.ravel() > 0.5).astype(int)
    batches = [slice(0, 100), slice(100, 200), slice(200, 300)]
    for name, score in (("F1", f1_score), ("precision", precision_score), ("recall", recall_score)):
        per_batch = [score(labels[b], predicted[b], zero_division=0) for b in batches]
        everything = score(labels, predicted, zero_division=0)
        rows = [line for line in README.splitlines() if re.match(r"\| (1|2|3|all) \|", line)]
        column = 6 + ("F1", "precision", "recall").index(name)
        cells = [row.split("|")[column].strip().strip("*") for row in rows]
        assert [float(c) for c in cells] == pytest.approx([*per_batch, everything], abs=5e-5), name
        assert f"{np.mean(per_batch):.4f}" in README, name  # what the per-batch function logs
        assert f"{everything:.4f}" in README, name


def test_every_python_block_runs_as_pasted():
    found = blocks("python")  # the README's first, then docs/'s
    assert len(found) >= 4
    outputs = []
    for code in found:
        status, out, err = warm.run_python(code, ROOT, dict(os.environ))  # python -c, as pasted (a warm run)
        assert status == 0, f"{code}\n{err[-3000:]}"
        outputs.append(out.splitlines())
    first = outputs[0]
    assert first[:4] == ["False", "0.643939", "0.807947", "True"]
    assert first[4].startswith("f1check: f1check.examples:naive_f1 [evaluate] FAILED")


# Every shell command of the README, and where the project runs it.
TESTED = {
    ".venv/bin/python -m f1check demo": "tests/test_demo.py runs f1check.__main__.main(['demo', ...])",
    ".venv/bin/python -m pytest -n auto": ".ci/run",
    ".venv/bin/python -m build --wheel --outdir dist .": "tests/test_packaging.py (offline: --no-isolation)",
    "python -m f1check init": "tests/test_init.py",
    "python -m f1check init --write": "tests/test_init.py",
    "pytest --f1check": "tests/test_plugin_e2e.py (the example repos)",
    "pytest --f1check f1check": "tests/test_plugin_e2e.py::test_f1check_items_are_collected_like_any_test",
    "pytest --f1check --co -q": "tests/test_plugin_e2e.py::test_f1check_items_are_collected_like_any_test",
    "pytest --f1check -k StreamingF1 -v": "tests/test_plugin_e2e.py::test_f1check_items_are_collected_like_any_test",
    "pytest --f1check --f1check-report f1check.json": "tests/test_plugin_e2e.py (--f1check-report)",
    "pytest --f1check --store-durations --durations-path .test_durations":
        "tests/test_merge.py (the single run that stores the shards' durations)",
    "pytest --f1check --lf": "tests/test_run_safety.py::test_every_item_is_recorded_whatever_ends_it_and_pytests_cache_selects_them",
    "pytest": "tests/test_plugin_e2e.py::test_plain_pytest_imports_no_framework",
}


def test_every_shell_command_is_one_the_project_runs():
    setup, *others = blocks("sh")  # the README's first block is the set-up
    ci = (ROOT / ".ci" / "run").read_text()
    for step in setup.strip().split(" && "):  # the set-up is .ci/run's, step by step
        assert step.replace(".venv/bin/python -m pip install", ".venv/bin/python -m pip install -q") in ci or step in ci
    commands = [line.split("  #")[0].strip() for block in others for line in block.strip().splitlines()]
    assert set(commands) == set(TESTED), set(commands) ^ set(TESTED)
    assert "F1CHECK_CI=1 .venv/bin/python -m pytest -n auto" in ci


def test_the_reason_table_is_the_vocabulary_f1check_states():
    from f1check.reasons import CODES

    table = PAGES["reasons.md"].split("| code | what the subject (or the loop) does |")[1].split("\n\n")[0]
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| (.+) \|$", table, flags=re.M))
    assert rows == CODES


def test_the_key_table_is_the_one_the_settings_table_makes():
    from f1check.core.settings import key_table

    assert key_table() in PAGES["configuration.md"], \
        "regenerate it: python -c 'from f1check.core.settings import key_table; print(key_table())'"


def signature_text(function, name: str) -> str:
    """``name(subject, *, modes=["evaluate"], ...)``: every parameter with its default as Python spells it."""
    from f1check.core.settings import spelled

    parts = []
    for p in inspect.signature(function).parameters.values():
        if p.kind is p.KEYWORD_ONLY and "*" not in parts:
            parts.append("*")
        parts.append(p.name if p.default is p.empty else f"{p.name}={spelled(p.default, python=True)}")
    return "\n".join(textwrap.wrap(f"{name}({', '.join(parts)})", 100, subsequent_indent="    ",
                                   break_on_hyphens=False))


def test_the_documented_signature_is_checks():
    import f1check

    shown = blocks("text", PAGES["configuration.md"].split("## The Python API")[1])[0].strip()
    assert shown == signature_text(f1check.check, "f1check.check"), "paste tests/test_readme.py's signature_text()"


def test_the_readme_is_a_newcomers_page_that_links_its_reference():
    assert README.count("\n") < 250
    assert not re.search(r"\b[0-9a-f]{7,40}\b", README), "commit hashes belong in benchmarks/RESULTS.md"
    linked = set(re.findall(r"\]\((docs/[^)#]+)", README))
    assert {f"docs/{name}" for name in PAGES} - {"docs/ARCHITECTURE.md"} <= linked
    for text, base in [(README, ROOT), *((page, ROOT / "docs") for page in PAGES.values())]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):  # relative links, anchors dropped
            assert (base / target).exists(), target


def test_nothing_in_the_readme_or_docs_points_outside_the_repository():
    for name, text in [("README.md", README), *PAGES.items()]:
        assert not re.findall(r"https?://|git\+|github\.com/[\w-]+/", text), name  # no link, no other repository


def fnmatch_escaped(line: str) -> str:
    """A line of documented output as an fnmatch pattern: brackets literal, ``...`` matching anything."""
    line = re.sub(r"[\[\]?*]", lambda m: f"[{m.group()}]", line)
    return line.replace("...", "*")


def test_the_failure_the_readme_shows_is_the_one_the_repo_gives(tmp_path):
    shown = blocks("text", README.split("## What a failure looks like")[1])[0].splitlines()
    repo = tmp_path / "model_repo"
    shutil.copytree(ROOT / "fixtures" / "model_repo", repo)
    process = warm.pytest_in(repo, "--f1check", "-k", "metrics:f1 and evaluate", "-p", "no:cacheprovider",
                             f"--basetemp={tmp_path / 'basetemp'}", merge=True,
                             env=dict(os.environ, COLUMNS="80"))  # the width the README's header line has
    out, _ = process.communicate(600)
    result = pytest.RunResult(process.returncode, out.splitlines(), [], 0.0)
    assert process.returncode == 1, out
    result.stdout.fnmatch_lines([fnmatch_escaped(line) for line in shown if line.strip() != "..."])
