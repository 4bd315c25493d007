"""A gate's worst day, end to end: every item recorded whatever ends it, slow subjects stopped, causes kept, a report
written as items finish and marked incomplete when the run is cut, pytest's cache selecting f1check items.

``fixtures/faults_repo`` is a model repository on a bad day (one subject of each kind of trouble); each test runs
``pytest --f1check`` in a copy of it, in a process of its own (tests/warm.py: a fresh interpreter, as a CI job's), as a
CI job would.

No outcome here may depend on the machine's speed (issue 33). Every budget is far from the work it bounds: the work
that must finish inside one gets many times its normal time (an item here takes 2-6 s on 2 cores: budgets are 30 s
and more), and the work that must be cut sleeps an hour, far beyond every budget. A machine 4x slower gives the same
outcomes.
"""

import json
import os
import re
import shutil
import signal
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import warm
from support import require

pytest_plugins = ["pytester"]

FAULTS_REPO = Path(__file__).parent.parent / "fixtures" / "faults_repo"
# item -> (status, what its record's message must say)
FAULTS = {
    "faults.metrics:StreamingF1": ("pass", []),
    "faults.callbacks:SlowOnSomeData": ("error", ["ran out of its time budget of 30 s", "of 30 examples done",
                                                  "time ran out in"]),
    "faults.metrics:f1": ("fail", []),
    "faults.metrics:CappedF1": ("fail", []),
    "faults.metrics:SlowF1": ("error", ["ran out of its time budget of 60 s", "no example finished",
                                        "time ran out in"]),
    "faults.metrics:ExitsF1": ("error", ["called sys.exit(3)", 'metrics.py", line', "sys.exit(3)"]),
    "faults.metrics:ThirdBatchAssertF1": ("error", ["boom on the third batch", "(in update_state, ", "metrics.py:"]),
    "faults.metrics:py_function_raises": ("error", ["ValueError: boom inside the py_function", "(in _raise, "]),
    "faults.metrics:py_function_no_shape": ("error", ["unknown rank", "set_shape([])"]),
    "faults.callbacks:FlakyF1": ("error", ["is not deterministic", "logged 0.000000 (fail) and then 1.000000 (pass)"]),
    "faults.metrics:f1check_bug": ("error", ["f1check internal error", "RuntimeError: a bug in f1check's search",
                                             "Traceback (most recent call last)"]),
}


@pytest.fixture
def faults_repo(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FAULTS_REPO, repo, ignore=shutil.ignore_patterns("out", "__pycache__", ".pytest_cache"))
    return repo


def pytest_in(folder: Path, *args: str) -> warm.WarmProcess:
    """``python -m pytest *args`` in ``folder`` (a warm run: tests/warm.py), stderr into its stdout."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTEST_ADDOPTS", None)
    return warm.pytest_in(folder, "-p", "no:randomly", *args, env=env, merge=True)


def outcomes(out: str) -> dict:
    """``{"passed": 2, "failed": 1, "error": 3}`` from pytest's last line."""
    import re

    found = {kind.rstrip("s"): int(count) for count, kind in re.findall(r"(\d+) (passed|failed|errors?)",
                                                              [line for line in out.splitlines() if line.strip()][-1])}
    return {kind: found.get(kind, 0) for kind in ("passed", "failed", "error")}


def run(folder: Path, *args: str) -> tuple[int, str]:
    process = pytest_in(folder, *args)
    out, _ = process.communicate(timeout=600)
    return process.returncode, out


@pytest.mark.long
def test_every_item_is_recorded_whatever_ends_it_and_pytests_cache_selects_them(faults_repo):
    # run from a sub-folder: the report path of [tool.f1check] is the rootdir's, as pytest's own paths are.
    # Budgets: the command line's 60 s bounds every item without a timeout of its own; the items that must finish
    # take 2-6 s (10x margin and more), SlowF1 (an hour a batch) must be cut by it. SlowOnSomeData's own 30 s
    # bounds its fixed examples (2-3 s) and cuts its search (an hour on some data sizes).
    code, out = run(faults_repo / "tests", "--f1check", "--f1check-timeout=60", "--junitxml=junit.xml")
    assert code == 1, out[-3000:]
    assert outcomes(out) == {"passed": 2, "failed": 2, "error": 8}, out[-3000:]
    # no live line when the output is not a terminal (a CI log): none of its forms, "[item: 3/6, worst 0.01, 2 s]"
    assert not re.search(r"\d+/\d+(?: examples)?, worst|[\[ ]\d+/\d+\]", out), out[-3000:]
    written = (faults_repo / "out" / "f1check.json").read_text()
    report = json.loads(written)
    assert (report["complete"], report["expected"], report["exit_status"]) == (True, len(FAULTS), 1)
    records = {r["target"]: r for r in report["results"]}
    assert list(records) == list(FAULTS)  # configuration order, every item
    for target, (status, says) in FAULTS.items():
        assert records[target]["status"] == status, (target, records[target])
        for text in says:
            assert text in records[target].get("error", ""), (target, text, records[target])
    # The failure of a few samples is printed inline; the one of 65 samples is saved beside the report.
    assert "y_true = numpy.array([" in records["faults.metrics:f1"]["reproduce"]
    assert records["faults.metrics:CappedF1"]["counterexample"]["n"] == 65
    saved = list((faults_repo / "out" / "f1check-data").glob("*.npz"))
    assert len(saved) == 1 and saved[0].name in records["faults.metrics:CappedF1"]["reproduce"]
    # JUnit: errors as <error>, the status as a property of every f1check test case
    cases = {case.get("name"): case for case in ET.parse(faults_repo / "tests" / "junit.xml").iter("testcase")}
    for target, (status, _) in FAULTS.items():
        case = cases[f"{target}[evaluate]"]
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert properties["f1check_status"] == status
        assert {child.tag for child in case} >= ({"error"} if status == "error" else
                                                 {"failure"} if status == "fail" else {"properties"})
    # --lf and --ff select f1check items by their node ids, as any test's
    code, listed = run(faults_repo, "--f1check", "--lf", "--co", "-q")
    failed = sorted(f"f1check::{t}[evaluate]" for t, (status, _) in FAULTS.items() if status != "pass")
    assert sorted(line for line in listed.splitlines() if line.startswith("f1check::")) == failed, listed
    code, listed = run(faults_repo, "--f1check", "--ff", "--co", "-q")
    assert [line for line in listed.splitlines() if line.startswith("f1check::")][:len(failed)] == \
        [f"f1check::{t}[evaluate]" for t, (status, _) in FAULTS.items() if status != "pass"]
    # --sw resumes from the f1check item it stopped at (its cache entry as a --sw run that failed there writes it)
    stepwise = faults_repo / ".pytest_cache" / "v" / "cache" / "stepwise"
    stepwise.write_text(json.dumps({"last_failed": "f1check::faults.metrics:CappedF1[evaluate]", "last_test_count": None,
                                    "last_cache_date_str": "2026-12-05T00:00:00"}))
    code, listed = run(faults_repo, "--f1check", "--sw", "--co", "-q")
    assert [line for line in listed.splitlines() if line.startswith("f1check::")][:2] == \
        ["f1check::faults.metrics:CappedF1[evaluate]", "f1check::faults.metrics:SlowF1[evaluate]"], listed
    # listing runs nothing: the last run's report stays as it was (the --co runs above use the same path)
    assert (faults_repo / "out" / "f1check.json").read_text() == written


@pytest.mark.long
def test_sigterm_leaves_a_valid_report_that_says_it_is_incomplete(faults_repo):
    report = faults_repo / "term.json"
    process = pytest_in(faults_repo, "--f1check", "--f1check-report=term.json", "-k", "StreamingF1 or SlowF1")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # the report is written as items finish: wait for the first one
        if report.exists() and json.loads(report.read_text())["results"]:
            break
        time.sleep(0.2)
    first = json.loads(report.read_text())
    assert (first["complete"], first["expected"], first["exit_status"]) == (False, 2, None)
    time.sleep(5)  # SlowF1 is running now: it starts within a second of StreamingF1's record and sleeps an hour
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 2, out[-2000:]
    final = json.loads(report.read_text())
    assert (final["complete"], final["expected"], final["exit_status"]) == (False, 2, 2)
    assert [(r["target"], r["status"]) for r in final["results"]] == [
        ("faults.metrics:StreamingF1", "pass"), ("faults.metrics:SlowF1", "error")]
    assert "interrupted" in final["results"][1]["error"]


@pytest.mark.long
def test_pytest_timeout_interrupts_the_search_and_the_next_item_runs(faults_repo):
    require("pytest_timeout", "pip install pytest-timeout")
    started = time.monotonic()
    items = [f"f1check::faults.{name}[evaluate]" for name in ("metrics:StreamingF1", "callbacks:SlowOnSomeData",
                                                             "metrics:f1")]
    # Budgets: pytest-timeout's 60 s bounds each item; StreamingF1 and f1 take 2-6 s (10x margin and more) and must
    # finish in it. SlowOnSomeData's fixed examples (2-3 s) finish, then its search sleeps an hour: pytest-timeout
    # cuts it there, before f1check looks at the target's own budget (30 s, checked cooperatively between
    # examples: pytest-timeout holds the alarm) or at --f1check-timeout (600 s). Hypothesis must not shrink what
    # it interrupted: a second sleep of an hour would hold the run far past the bound below.
    code, out = run(faults_repo, "--f1check", "--timeout=60", "--f1check-timeout=600", "--f1check-report=timeout.json",
                    *items)
    assert time.monotonic() - started < 500, out[-2000:]  # not hypothesis shrinking an hour-long subject
    assert code == 1 and outcomes(out) == {"passed": 1, "failed": 1, "error": 1}, out[-2000:]
    records = {r["target"]: r for r in json.loads((faults_repo / "timeout.json").read_text())["results"]}
    assert records["faults.callbacks:SlowOnSomeData"]["status"] == "error"
    assert "Timeout" in records["faults.callbacks:SlowOnSomeData"]["error"] or \
        "time budget" in records["faults.callbacks:SlowOnSomeData"]["error"]
    assert records["faults.metrics:StreamingF1"]["status"] == "pass" and records["faults.metrics:f1"]["status"] == "fail"
