"""Data-parallel replicas (tf.distribute.MirroredStrategy over two logical CPUs): findings, pinned.

Replicas need TensorFlow's devices split before TensorFlow starts, and this
test process has started it long before: the checks run in a process of their
own (tests/replica_findings.py, a warm run: tests/warm.py, whose interpreter
imported TensorFlow but never started it).  Golden numbers come from sklearn and
the worked example.
"""

import json
import os
from pathlib import Path

import keras  # noqa: E402
import numpy as np
import pytest
import warm
from sklearn.metrics import f1_score

import f1check
from f1check import Partition
from f1check.data import worked_example

SCRIPT = Path(__file__).with_name("replica_findings.py")
WORKED_F1 = 122 / 151  # sklearn on all 300 samples of the worked example


# The tests that read the findings share one run of the script (a module fixture): marked long, they start first
# under -n, side by side in one worker's first chunk, so that the script runs once.
FINDINGS = pytest.mark.long


@pytest.fixture(scope="module")
def findings():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("replicas are a TensorFlow (tf.distribute) feature")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    status, out, err = warm.run_python(None, Path.cwd(), env, script=SCRIPT, args=["4"])
    assert status == 0, err[-4000:]
    return json.loads(out)


def per_replica_batch_mean_f1(replicas: int) -> float:
    """sklearn's F1 on each replica's half of each batch of 100, averaged: what a per-batch metric sees."""
    y, s = worked_example()
    shares = np.split(np.arange(300), 3 * replicas)
    return float(np.mean([f1_score(y[i].ravel(), (s[i] > 0.5).ravel(), zero_division=0) for i in shares]))


@FINDINGS
def test_a_per_batch_f1_averages_over_replica_shares_and_it_is_named_a_loop_error(findings):
    naive = findings["worked"]["naive_f1"]
    assert naive["passed"] is False
    assert naive["reported"] == pytest.approx(per_replica_batch_mean_f1(2), abs=1e-5)  # 0.321970
    assert naive["replayed"] == pytest.approx(0.643939, abs=1e-5)  # the same batches, whole, without replicas
    assert naive["f1_seen"] == pytest.approx(WORKED_F1, abs=1e-5)
    assert naive["blame"] == "loop"
    assert naive["fed_batch_sizes"] == [100, 100, 100]  # the recorder gathers every replica's share
    assert "under 2 replicas" in naive["diagnosis"][0] and "each replica's share of every batch" in naive["diagnosis"][0]
    assert naive["json"]["replicas"] == 2
    assert naive["json"]["error"]["loop"] + naive["json"]["error"]["aggregation"] == pytest.approx(
        naive["reported"] - WORKED_F1, abs=1e-6)


@FINDINGS
@pytest.mark.parametrize("name", ["keras_f1_score", "StreamingF1", "F1FromLogs", "predict_f1_callback"])
def test_count_based_subjects_survive_the_merge_across_replicas(findings, name):
    found = findings["worked"][name]
    assert found["passed"] is True
    assert found["reported"] == pytest.approx(WORKED_F1, abs=1e-5)


@FINDINGS
def test_fuzzed_checks_under_replicas_feed_only_batches_that_split_evenly(findings):
    naive, streaming = findings["fuzzed"]["naive_f1"], findings["fuzzed"]["StreamingF1"]
    assert naive["passed"] is False and streaming["passed"] is True and streaming["mode"] == "fit"
    for found in (naive, streaming):
        assert found["batch_sizes"] and all(size % 2 == 0 for sizes in found["batch_sizes"] for size in sizes)


@FINDINGS
def test_keras_predict_on_batch_repeats_rows_per_replica(findings):
    # Keras 3.15 under MirroredStrategy: predict_on_batch returns every row once per replica; predict does not.
    # (f1check's fit driver therefore uses predict for its end-of-epoch scores under replicas.)
    assert findings["predict_on_batch_rows"] == 8
    assert findings["predict_rows"] == 4


def test_a_batch_that_does_not_split_evenly_is_refused_before_anything_runs():
    y, s = worked_example()
    with pytest.raises(f1check.ConfigError, match=r"batches of \[1, 299\].*replicas=2.*multiples of 2"):
        f1check.check(lambda: None, data=(y, s), partitions=[Partition([1, 299])], replicas=2)
    with pytest.raises(f1check.ConfigError, match="replicas"):
        f1check.check(lambda: None, data=(y, s), partitions=[Partition([100, 200])], replicas=0)
    with pytest.raises(f1check.ConfigError, match="the data has 299 samples, not a multiple of 2"):
        f1check.check(lambda: None, data=(y[:299], s[:299]), replicas=2)


def test_the_replicas_option_and_key_run_targets_under_replicas_in_pytest(pytester):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("replicas are a TensorFlow (tf.distribute) feature")
    pytester.makepyprojecttoml(  # the command line asks for 2 replicas; one target's table sets it back to 1
        "[tool.f1check]\nexamples = 4\nmodes = [\"evaluate\"]\n"
        'targets = ["f1check.examples:StreamingF1", { metric = "f1check.examples:naive_f1", replicas = 1 }]\n'
    )
    report = pytester.path / "report.json"
    result = warm.runpytest(pytester, "--f1check", "--f1check-replicas=2", "-p", "no:cacheprovider",
                            f"--f1check-report={report}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*pytest --f1check --f1check-seed=0 --f1check-replicas=2 *naive_f1*"])
    found = {r["target"]: r for r in json.loads(report.read_text())["results"]}
    streaming, naive = found["f1check.examples:StreamingF1"], found["f1check.examples:naive_f1"]
    assert streaming["passed"] is True and streaming["worst"]["replicas"] == 2
    assert all(size % 2 == 0 for size in streaming["worst"]["batch_sizes"])
    assert naive["passed"] is False and "replicas" not in naive["counterexample"]
