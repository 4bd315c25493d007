"""fit and fit-dropped modes, the feeds, and the phantom step, through real Keras loops."""

import keras
import numpy as np
import pytest
from support import driver, sklearn_f1

import f1check
from f1check import Partition, examples
from f1check.core.settings import FEEDS
from f1check.data import worked_example
from f1check.subjects.targets import resolve

COUNTS = {"callback_key": "f1", "callback_metrics": list(examples.COUNT_METRICS)}


def design_100_100_50():
    """Batches of 100, 100 and 50 whose per-batch F1 are 0.75, 2/11 and 1.0 (the worked example's batches,
    the third cut to its last 50 samples: 20 TN and 30 TP)."""
    y, s = worked_example()
    keep = np.r_[0:200, 250:300]
    return y[keep], s[keep]


MEAN_OF_BATCH_F1 = (0.75 + 2 / 11 + 1.0) / 3  # 0.643939...
PHANTOM = MEAN_OF_BATCH_F1 * 3 / 4  # 0.482955..., the value seen with TF 2.21 (Keras averages over 4 steps)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the phantom step is a TensorFlow-backend effect")
def test_a_generator_without_steps_adds_a_phantom_step_and_it_is_named_a_loop_error():
    data, part = design_100_100_50(), Partition([100, 100, 50])
    with_steps = f1check.check(examples.naive_f1, data=data, partitions=[part], feeds=["generator"]).results[0]
    assert with_steps.worst.reported == pytest.approx(MEAN_OF_BATCH_F1, abs=1e-5)
    result = f1check.check(examples.naive_f1, data=data, partitions=[part], feeds=["generator-no-steps"]).results[0]
    worst = result.worst
    assert worst.reported == pytest.approx(PHANTOM, abs=1e-5)
    assert worst.replayed == pytest.approx(MEAN_OF_BATCH_F1, abs=1e-5)
    assert worst.error.loop == pytest.approx(PHANTOM - MEAN_OF_BATCH_F1, abs=1e-5)
    assert any(note.startswith("loop error") and "phantom step" in note and "without steps" in note
               for note in (r.text for r in worst.diagnosis))
    for feed in ("generator-no-steps", "tf.data-unknown"):  # stateful metrics and the count ratio are immune
        assert f1check.check(examples.StreamingF1, data=data, partitions=[part], feeds=[feed]).passed
        assert f1check.check(examples.F1FromLogs, data=data, partitions=[part], feeds=[feed], **COUNTS).passed


def test_every_feed_feeds_the_same_batches():
    y, s = worked_example()
    uniform = Partition([128, 128, 44])  # numpy / tf.data cut 128s and a smaller last batch
    report = f1check.check(examples.StreamingF1, data=(y, s), partitions=[uniform], feeds=list(FEEDS))
    runs = report.results[0].runs
    expected = ["generator", "generator-no-steps", "numpy", "pydataset"]
    if keras.backend.backend() == "tensorflow":
        expected += ["tf.data", "tf.data-unknown"]
    assert sorted(e.feed for e in runs) == expected
    f1_fed = sklearn_f1(y, s)  # all 300 fed: sklearn's F1 of everything
    for e in runs:
        assert e.fed_batch_sizes == (128, 128, 44) and e.passed
        assert e.reported == pytest.approx(f1_fed, abs=1e-6)


def test_uneven_partitions_go_only_to_feeds_that_can_cut_them():
    y, s = worked_example()
    with pytest.raises(f1check.ConfigError, match="none of feeds=.'numpy'. can feed these partitions"):
        f1check.check(examples.StreamingF1, data=(y, s), partitions=[Partition([1, 299])], feeds=["numpy"])
    with pytest.raises(f1check.ConfigError, match="Invalid feed 'numpi'.*Did you mean 'numpy'"):
        f1check.check(examples.StreamingF1, feeds=["numpi"])


RIGHT = [
    ("streaming metric", examples.StreamingF1, {}),
    ("keras.metrics.F1Score", examples.keras_f1_score, {}),
    ("count metrics + log callback", examples.F1FromLogs, COUNTS),
]


@pytest.mark.parametrize("mode", ["fit", "fit-dropped"])
@pytest.mark.parametrize("name, subject, kwargs", RIGHT, ids=[r[0] for r in RIGHT])
def test_right_subjects_pass_fit_modes(mode, name, subject, kwargs):
    report = f1check.check(subject, modes=[mode], examples=12, seed=0, **kwargs)
    assert report.passed, str(report)
    assert report.results[0].worst.epochs == 2


WRONG = [
    ("naive function", examples.naive_f1, {}, "aggregation", "averages per-batch F1"),
    ("metric that never resets", examples.NeverResetF1, {}, "aggregation", "state carried across reset_state()"),
    ("predict callback on the first samples", examples.predict_first_samples_callback, {"callback_key": "val_f1"},
     "aggregation", "the callback scores only the first samples"),
]


# One mode each here; the example model repo's end-to-end test runs all three in both fit modes.
@pytest.mark.parametrize(
    "mode, name, subject, kwargs, term, why", [(m, *w) for m, w in zip(["fit-dropped", "fit", "fit"], WRONG)],
    ids=[w[0] for w in WRONG],
)
def test_wrong_subjects_fail_fit_modes_with_the_right_term(mode, name, subject, kwargs, term, why):
    result = f1check.check(subject, modes=[mode], examples=6, seed=0, **kwargs).results[0]
    assert not result.passed
    ce = result.counterexample
    assert ce.blame == term
    assert any(why in reason.text for reason in result.why), result.why
    if name == "metric that never resets":
        assert ce.epoch == 1  # the second epoch: the first is right


def test_judge_total_fails_the_log_approach_on_a_dropped_remainder_and_blames_coverage():
    y, s = worked_example()
    part = Partition.floor_steps(300, 120)  # 2 batches of 120; the last 60 (30 TP among them) never fed
    seen = f1check.check(examples.F1FromLogs, modes=["fit-dropped"], data=(y, s), partitions=[part], **COUNTS)
    total = f1check.check(examples.F1FromLogs, modes=["fit-dropped"], data=(y, s), partitions=[part], judge="total",
                          **COUNTS)
    assert seen.passed
    worst = total.results[0].worst
    assert not total.passed and worst.blame == "coverage"
    assert abs(worst.error.coverage) > 0.001 and worst.error.aggregation == pytest.approx(0, abs=1e-6)
    assert any("never fed" in r.text and "right about what it saw" in r.text for r in worst.diagnosis)
    message = str(pytest.raises(f1check.F1CheckFailure, f1check.assert_f1, examples.F1FromLogs, modes=["fit-dropped"],
                                data=(y, s), partitions=[part], judge="total", **COUNTS).value)
    assert "coverage" in message and "60 samples were never fed" in message


def test_fit_attribution_has_drift_against_the_end_of_epoch_model():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.5).astype("float32")
    s = np.clip(0.5 + (y - 0.5) * 0.1 + rng.normal(0, 0.05, 300), 0, 1).astype("float32")  # close to 0.5: easy to flip
    part = Partition([10] * 30)
    report = f1check.check(examples.StreamingF1, modes=["fit"], data=(y, s), partitions=[part], judge="total")
    worst = report.results[0].worst
    assert not report.passed and worst.blame == "drift"
    assert worst.error.loop == pytest.approx(0, abs=1e-6) and worst.error.coverage == 0
    # f1_all is sklearn on the end-of-epoch model's predictions: run the same fit again and compute it apart.
    epoch = driver(resolve(examples.StreamingF1), "fit").run(y[:, None], s[:, None], part).epochs[worst.epoch]
    end = sklearn_f1(y, epoch.end_scores)
    fed_scores = np.concatenate([b[1] for b in epoch.batches])
    assert worst.f1_all == pytest.approx(end, abs=1e-9)
    fed_labels = np.concatenate([b[0] for b in epoch.batches])
    assert worst.error.drift == pytest.approx(sklearn_f1(fed_labels, fed_scores) - end, abs=1e-9)
    assert worst.error.drift != 0  # the weights moved during the epoch
    # the note gives the end-of-epoch model's F1 minus the training-time one (all 300 samples are fed here)
    assert f"differs by {end - sklearn_f1(fed_labels, fed_scores):+.6f}" in " ".join(r.text for r in worst.diagnosis)


def test_fit_starts_from_the_given_scores():
    # In the first step of fit the model predicts exactly the given scores: one batch, so the whole
    # first epoch's predictions are the scores and F1 logged equals sklearn on them.
    y, s = worked_example()
    report = f1check.check(examples.StreamingF1, modes=["fit"], data=(y, s), partitions=[Partition([300])])
    runs = report.results[0].runs
    assert runs[0].passed
    observation = driver(resolve(examples.StreamingF1), "fit").run(y, s, Partition([300]))
    first = observation.epochs[0]
    np.testing.assert_allclose(first.batches[0][1], s, atol=1e-6)


def test_gpu_fit_when_there_is_one(f1check_device):
    if f1check_device != "GPU":
        pytest.skip("no GPU on this machine")
    report = f1check.check(examples.StreamingF1, modes=["fit"], examples=5)
    assert report.passed and report.environment.device == "GPU"
