"""Legacy Keras 2 repositories: tf-keras under ``TF_USE_LEGACY_KERAS=1``, checked as they are.

``tf.keras`` is tf-keras only when the variable is set before TensorFlow
loads it, and this process has Keras 3 loaded already, so everything runs in
subprocesses.  fixtures/legacy_repo is a 2018-style repository
(``from tensorflow.keras import backend as K``, ``Callback`` subclasses).
Without tf-keras installed the tests skip, except in CI (``F1CHECK_CI=1``),
where a missing tf-keras is a failure.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support import require

from f1check.data import worked_example

pytest_plugins = ["pytester"]

LEGACY_REPO = Path(__file__).parent.parent / "fixtures" / "legacy_repo"
NAIVE = "legacy_metrics.metrics:f1"
RIGHT = ("legacy_metrics.callbacks:F1FromLogs", "legacy_metrics.callbacks:PredictF1")
MODES = ("evaluate", "fit")
MEAN_OF_BATCH_F1 = (0.75 + 2 / 11 + 1.0) / 3  # the worked example: what the per-batch F1 logs over 100/100/100
F1_ALL = 122 / 151  # ... and sklearn's F1 of all 300 samples

# The worked example through the tf-keras evaluate loop, straight from the Python API (no plugin).
WORKED_EXAMPLE = """
import json
import tf_keras
import f1check
import numpy as np

from f1check.core import backend
from f1check.data import worked_example
from f1check.subjects.context import CheckInputs
from f1check.loops.drivers import Driver
from f1check.core.modes import Mode
from f1check.core.settings import CheckSettings
from f1check.subjects.targets import resolve
from legacy_metrics.metrics import f1

y, scores = worked_example()
partition = f1check.Partition([100, 100, 100])
out = {"legacy": backend.legacy(), "keras": backend.keras_version()}
for feed in ("pydataset", "generator"):  # a Sequence through evaluate, a generator through evaluate_generator
    worst = f1check.check(f1, data=(y, scores), partitions=[partition], feeds=[feed]).results[0].worst
    out[feed] = {"reported": worst.reported, "replayed": worst.replayed, "f1_seen": worst.f1_seen,
                 "f1_all": worst.f1_all, "fed": list(worst.fed_batch_sizes), "blame": worst.blame}
observation = Driver(CheckInputs(resolve(f1), CheckSettings()).context(Mode.EVALUATE)).run(y, scores, partition)
out["tf_keras_model"] = isinstance(observation.model, tf_keras.Model)
keep = np.r_[0:200, 250:300]  # batches of 100, 100 and 50 fed by a generator without steps
out["no_steps"] = f1check.check(f1, data=(y[keep], scores[keep]), partitions=[f1check.Partition([100, 100, 50])],
                                feeds=["generator-no-steps"]).results[0].worst.reported
try:
    f1check.check(f1, data=(y, scores), partitions=[partition], replicas=2)
except f1check.ConfigError as exc:
    out["replicas"] = str(exc)
try:
    f1check.check(lambda: tf_keras.metrics.F1Score(threshold=0.5), data=(y, scores), partitions=[partition],
                  feeds=["generator"])
except f1check.SubjectError as exc:
    out["issue_771"] = str(exc)
counts = ["legacy_metrics.metrics:true_positives", "legacy_metrics.metrics:possible_positives",
          "legacy_metrics.metrics:predicted_positives"]
dropped = f1check.Partition.floor_steps(300, 120)
for feed in ("pydataset", "generator"):  # fit with a Sequence, fit_generator with validation_data=generator
    for judge in ("seen", "total"):
        result = f1check.check("legacy_metrics.callbacks:ValidationF1FromLogs", modes=["validation-dropped"],
                               data=(y, scores), partitions=[dropped], feeds=[feed], judge=judge,
                               callback_key="val_f1", callback_metrics=counts).results[0]
        out[f"validation-dropped:{feed}:{judge}"] = [result.passed, result.worst.blame, result.worst.fed_batch_sizes]
naive_validation = f1check.check(f1, modes=["validation"], data=(y, scores), partitions=[partition]).results[0]
out["naive_validation"] = [naive_validation.passed, [r.text for r in naive_validation.worst.diagnosis]]
weights = np.resize(np.asarray([0.0, 1.0, 2.0, 3.0, 0.5], np.float32), len(y))
for name in ("WeightedF1", "UnweightedF1"):  # weighted loops: sample weights in evaluate, class weights in fit
    fixed = f1check.check(f"legacy_metrics.metrics:{name}", data=(y, scores, weights), partitions=[partition],
                          weighted=True, weights=["sample"], feeds=["pydataset", "generator", "numpy"]).results[0]
    fit = f1check.check(f"legacy_metrics.metrics:{name}", modes=["fit"], examples=2, weighted=True,
                        weights=["class"]).results[0]
    out[f"weighted:{name}"] = [fixed.passed, sorted({e.reported for e in fixed.runs}), fit.passed,
                               [r.code for r in fit.why]]
print(json.dumps(out))
"""



def legacy_env() -> dict:
    return dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2", PYTHONDONTWRITEBYTECODE="1")


@pytest.fixture(scope="module")
def worked_example_run():
    """The worked-example script, started when its test sets up. (Not from the end-to-end test's fixture to
    overlap it: under pytest-xdist the two tests may run on different workers, and each would run the script.)"""
    if importlib.util.find_spec("tf_keras") is None:
        yield None
        return
    proc = subprocess.Popen([sys.executable, "-c", WORKED_EXAMPLE], cwd=LEGACY_REPO, env=legacy_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


@pytest.fixture
def legacy_repo(pytester, monkeypatch):
    require("tf_keras", "pip install --no-deps tf-keras")
    for key, value in legacy_env().items():
        monkeypatch.setenv(key, value)
    shutil.copytree(LEGACY_REPO, pytester.path, dirs_exist_ok=True)
    return pytester


@pytest.mark.long
def test_legacy_repo_fails_exactly_the_per_batch_f1(legacy_repo):
    result = legacy_repo.runpytest_subprocess(
        "--f1check", "--f1check-examples=4", "--f1check-report=out/report.json", "-p", "no:cacheprovider", "-v"
    )
    right = [(t, m) for t in RIGHT for m in MODES] + [("legacy_metrics.callbacks:ValidationF1FromLogs", "validation")]
    result.assert_outcomes(passed=len(right) + 2, failed=len(MODES))  # + the repository's own 2 tests
    result.stdout.fnmatch_lines(["f1check *: keras tf-keras 2.*, backend tensorflow, device CPU, --f1check-seed=0"])
    result.stdout.fnmatch_lines(["*tests/test_f1.py::test_per_batch_f1_on_the_worked_example PASSED*"])
    for mode in MODES:
        result.stdout.fnmatch_lines([f"FAILED f1check::{NAIVE}[[]{mode}[]]*"])
        result.stdout.fnmatch_lines([f"{NAIVE} *{mode} *FAIL * per-batch-mean *"])
    for target, mode in right:
        result.stdout.fnmatch_lines([f"{target} *{mode} *PASS *4 *"])
    report = json.loads((legacy_repo.path / "out" / "report.json").read_text())
    assert report["environment"]["keras"].startswith("tf-keras 2.")
    assert report["environment"]["backend"] == "tensorflow"
    results = {(r["target"], r["mode"]): r for r in report["results"]}
    for mode in MODES:
        wrong = results[(NAIVE, mode)]
        assert wrong["passed"] is False and wrong["counterexample"]["error"]["loop"] == 0
        assert abs(wrong["counterexample"]["error"]["aggregation"]) > 0.001
    for item in right:
        assert results[item]["passed"] is True and results[item]["max_abs_error"] <= 0.001


def test_worked_example_through_the_tf_keras_evaluate_loop(worked_example_run):
    require("tf_keras", "pip install --no-deps tf-keras")
    stdout, stderr = worked_example_run.communicate(timeout=300)
    assert worked_example_run.returncode == 0, stderr[-4000:]
    found = json.loads(stdout.strip().splitlines()[-1])
    assert found["legacy"] is True and found["keras"].startswith("tf-keras 2.")
    assert found["tf_keras_model"] is True
    for feed in ("pydataset", "generator"):
        run = found[feed]
        assert run["fed"] == [100, 100, 100]
        assert run["reported"] == pytest.approx(MEAN_OF_BATCH_F1, abs=1e-5)  # 0.643939
        assert run["reported"] == pytest.approx(0.643939, abs=1e-5)
        assert run["replayed"] == pytest.approx(run["reported"], abs=1e-6)
        assert run["f1_all"] == pytest.approx(F1_ALL, abs=1e-5) and run["f1_seen"] == pytest.approx(F1_ALL, abs=1e-5)
        assert run["blame"] == "aggregation"
    # tf-keras has no phantom step: a generator without steps logs the true mean of the 100/100/50 batches
    assert found["no_steps"] == pytest.approx((0.75 + 2 / 11 + 1.0) / 3, abs=1e-5)
    assert "replicas=2 is not supported with tf-keras" in found["replicas"]
    assert "tf-keras issue #771" in found["issue_771"] and 'feeds = ["numpy", "tf.data"]' in found["issue_771"]
    for feed in ("pydataset", "generator"):  # the validation pass through fit and fit_generator
        seen, total = found[f"validation-dropped:{feed}:seen"], found[f"validation-dropped:{feed}:total"]
        assert seen[0] is True and seen[2] == [120, 120]  # validation_steps = 300 // 120
        assert total[0] is False and total[1] in ("coverage", "drift")
    assert found["naive_validation"][0] is False
    assert any("averages per-batch F1" in note for note in found["naive_validation"][1])
    # weighted loops under tf-keras: sample weights through evaluate and evaluate_generator, class weights in fit
    from sklearn.metrics import f1_score

    y, scores = worked_example()
    weights = np.resize(np.asarray([0.0, 1.0, 2.0, 3.0, 0.5], np.float32), len(y))
    right, wrong = found["weighted:WeightedF1"], found["weighted:UnweightedF1"]
    assert right[0] is True and right[2] is True
    assert right[1] == pytest.approx([f1_score(y.ravel(), scores.ravel() > 0.5, sample_weight=weights)], abs=1e-6)
    assert wrong[0] is False and wrong[1] == pytest.approx([F1_ALL], abs=1e-6)  # it ignored the weights
    assert wrong[2] is False and wrong[3] == ["ignores-sample-weights"]
