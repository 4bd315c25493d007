"""Other Keras backends: evaluate-mode verdicts on JAX match those on TensorFlow.

Keras fixes its backend when it is first imported, so each other backend runs
tests/backend_parity.py in a subprocess of its own, and this process runs it for
its own backend.  Without JAX installed the test
skips, except in CI (``F1CHECK_CI=1``, set by .ci/run), where a missing
backend is a failure.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score
from support import require

from f1check.data import worked_example

SCRIPT = Path(__file__).with_name("backend_parity.py")
FUZZED_EXAMPLES = 6
MEAN_OF_BATCH_F1 = (0.75 + 2 / 11 + 1.0) / 3  # per-batch F1 of the worked example's batches, the third cut to 50
EXPECTED = {  # the example subjects that are right pass; the wrong ones fail (fixed data, fuzzed)
    "naive_f1": ([False, False], False),
    "StreamingF1": ([True, True], True),
    "F1FromLogs": ([True, True], True),
    "predict_f1_callback": ([True, True], True),
    "predict_first_samples_callback": ([False, False], False),
}



def run_on(backends: dict[str, int]) -> dict:
    """The parity script's findings on every backend, with the number of fuzzed examples each gets (0: only the
    cases whose values are compared). This process's own backend runs here while the others run in subprocesses
    (Keras fixes its backend at import), started first: one process less to start, and they overlap on two cores."""
    import keras

    here = keras.backend.backend()
    procs = {}
    for name, fuzzed in backends.items():
        if name != here:
            env = dict(os.environ, KERAS_BACKEND=name, TF_CPP_MIN_LOG_LEVEL="2")
            procs[name] = subprocess.Popen([sys.executable, str(SCRIPT), str(fuzzed)], env=env,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = {}
    try:
        if here in backends:
            import backend_parity

            out[here] = json.loads(json.dumps(backend_parity.main(backends[here])))  # as the script prints it
    finally:
        for name, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=600)
            assert proc.returncode == 0, f"{name}:\n{stderr[-4000:]}"
            out[name] = json.loads(stdout)
    for name in backends:
        assert out[name]["backend"] == name
    return out


@pytest.mark.long
def test_jax_gives_the_verdicts_and_values_tensorflow_gives():
    require("jax", "pip install -e '.[jax]'")
    # TensorFlow runs only what is compared value for value; its fuzzed verdicts are the expected ones, which
    # tests/test_search.py and tests/test_fit.py hold there
    found = run_on({"tensorflow": 0, "jax": FUZZED_EXAMPLES})
    tf, jax = found["tensorflow"]["subjects"], found["jax"]["subjects"]
    assert sorted(tf) == sorted(jax) == sorted(EXPECTED)
    for name, (fixed_verdicts, fuzzed_verdict) in EXPECTED.items():
        for backend in (tf, jax):
            assert [case["passed"] for case in backend[name]["fixed"]] == fixed_verdicts, name
        assert jax[name]["fuzzed_passed"] is fuzzed_verdict, name
        for on_tf, on_jax in zip(tf[name]["fixed"], jax[name]["fixed"]):
            assert on_jax["reported"] == pytest.approx(on_tf["reported"], abs=1e-6), name
    # The worked example, batches of 100: the naive function logs the mean of per-batch F1 on both.
    y, _ = worked_example()
    assert len(y) == 300
    assert tf["naive_f1"]["fixed"][0]["reported"][0] == pytest.approx(0.643939, abs=1e-5)
    assert jax["naive_f1"]["fixed"][0]["reported"][0] == pytest.approx(0.643939, abs=1e-5)
    # The phantom step is TensorFlow's: a generator without steps over batches of
    # 100/100/50 divides by one step too many there, and not on JAX.
    assert found["tensorflow"]["generator_without_steps_naive_reported"] == pytest.approx(
        MEAN_OF_BATCH_F1 * 3 / 4, abs=1e-5)
    assert found["jax"]["generator_without_steps_naive_reported"] == pytest.approx(MEAN_OF_BATCH_F1, abs=1e-5)
    # fit modes run on JAX too, with the expected verdicts; fuzzed partitions there feed at most 8 batches (Keras on
    # JAX compiles per batch shape), and the search replays eagerly (no tf.function on JAX)
    assert sorted(found["jax"]["fit"]) == [f"{n}:{m}" for n in ("F1FromLogs", "naive_f1") for m in ("fit", "fit-dropped")]
    for key, on_jax in found["jax"]["fit"].items():
        assert on_jax["passed"] is not key.startswith("naive_f1"), key
        assert on_jax["most_batches"] <= 8, key
    assert found["jax"]["compiled_replay"] is False and found["tensorflow"]["compiled_replay"] is True
    # weighted loops on both backends: F1Score weighs as sklearn does (sample_weight), StreamingF1 ignores its weights
    y, s = worked_example()
    w = np.resize(np.asarray([0.0, 1.0, 2.0, 3.0, 0.5], np.float32), len(y))
    weighted = f1_score(y.ravel(), s.ravel() > 0.5, sample_weight=w)
    for on in (found["tensorflow"]["weighted"], found["jax"]["weighted"]):
        assert on["keras_f1_score"]["passed"]
        assert on["keras_f1_score"]["reported"] == pytest.approx(weighted, abs=1e-5)
        assert not on["StreamingF1"]["passed"]
        assert on["StreamingF1"]["reported"] == pytest.approx(f1_score(y.ravel(), s.ravel() > 0.5), abs=1e-5)
        assert on["StreamingF1"]["f1_seen"] == pytest.approx(weighted, abs=1e-9)
    assert found["jax"]["weighted"]["keras_f1_score"]["fit_passed"] is True  # sample and class weights in fit
    assert found["jax"]["weighted"]["StreamingF1"]["fit_passed"] is False
