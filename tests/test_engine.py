"""The engine through the real Keras loop: the issue's snippet, subject kinds, verdicts."""

import re

import keras
import numpy as np
import pytest
from support import sklearn_f1

import f1check
from f1check import Partition, examples
from f1check.data import worked_example

# The worked example: batch F1 0.75, 2/11, 1.0; all 300: 2*61 / (2*61 + 10 + 19) = 122/151.
MEAN_OF_BATCH_F1 = (0.75 + 2 / 11 + 1.0) / 3
F1_ALL = 122 / 151
THIRDS = Partition(batch_sizes=[100, 100, 100])


@pytest.fixture(scope="module")
def worked():
    return worked_example()


def test_the_naive_function_logs_the_mean_of_batch_f1(worked):
    bad = f1check.check(examples.naive_f1, data=worked, partitions=[THIRDS], modes=["evaluate"])
    result = bad.results[0]
    assert result.passed is False
    assert result.worst.reported == pytest.approx(MEAN_OF_BATCH_F1, abs=1e-5)
    assert result.worst.f1_all == pytest.approx(F1_ALL, abs=1e-5)
    assert result.worst.error.aggregation == pytest.approx(MEAN_OF_BATCH_F1 - F1_ALL, abs=1e-5)
    assert result.worst.error.loop == pytest.approx(0.0, abs=1e-6)
    assert result.worst.blame == "aggregation"
    assert any("averages per-batch F1" in reason.text for reason in result.worst.diagnosis)
    assert result.counterexample is result.worst


def test_keras_f1score_passes_the_worked_example(worked):
    good = f1check.check(lambda: keras.metrics.F1Score(threshold=0.5), data=worked, partitions=[THIRDS])
    assert good.passed is True
    assert good.results[0].worst.reported == pytest.approx(F1_ALL, abs=1e-5)
    assert good.results[0].counterexample is None


def test_the_recorder_sees_the_batches_the_loop_fed(worked):
    y, s = worked
    part = Partition.shuffled([7, 93, 150], order_seed=3, dropped=50)
    result = f1check.check(examples.StreamingF1, data=worked, partitions=[part]).results[0]
    example = result.worst
    assert example.fed_batch_sizes == (7, 93, 150)
    fed = part.indices()[: part.fed]
    assert example.f1_seen == pytest.approx(sklearn_f1(y[fed], s[fed]))
    assert example.error.coverage == pytest.approx(example.f1_seen - example.f1_all)


def test_assert_f1_raises_an_assertion_error_that_explains(worked):
    with pytest.raises(f1check.F1CheckFailure) as info:
        f1check.assert_f1("f1check.examples:naive_f1", data=worked, partitions=[THIRDS])
    message = str(info.value)
    assert isinstance(info.value, AssertionError)
    for expected in (
        "f1check.examples:naive_f1 [evaluate] FAILED",
        "0.643939",
        f"{122 / 151:.6f}",
        "averages per-batch F1",
        "partitions = [f1check.Partition(batch_sizes=[100, 100, 100])]",
        "f1check.assert_f1('f1check.examples:naive_f1', data=(y_true, scores), partitions=partitions, "
        "modes=['evaluate'], feeds=['pydataset'], labels=['column'], label_dtypes=['float32'], seed=0)",
        "saved = numpy.load(",  # 300 samples are too many to print: saved as .npz
        "--f1check-seed=0",
    ):
        assert expected in message
    assert re.search(r"aggregation +-0\.164008", message)
    assert info.value.report.passed is False


def test_each_attribution_term_matches_an_independent_computation():
    from sklearn.metrics import f1_score

    y, s = worked_example()
    partitions = [THIRDS, Partition.shuffled([60, 40, 150], order_seed=1, dropped=50), Partition.floor_steps(300, 70)]
    for example in f1check.check(examples.naive_f1, data=(y, s), partitions=partitions).results[0].runs:
        order = example.partition.indices()
        fed, cuts = order[: example.partition.fed], np.cumsum([0, *example.batch_sizes])
        labels, predicted = y.ravel().astype(int), (s.ravel() > 0.5).astype(int)
        per_batch = [f1_score(labels[fed[a:b]], predicted[fed[a:b]], zero_division=0) for a, b in zip(cuts[:-1], cuts[1:])]
        seen = f1_score(labels[fed], predicted[fed], zero_division=0)
        everything = f1_score(labels, predicted, zero_division=0)
        # replayed: the subject fed the batches directly is the mean of sklearn's per-batch F1 (float32 + epsilon)
        assert example.replayed == pytest.approx(np.mean(per_batch), abs=1e-5)
        assert example.error.aggregation == pytest.approx(np.mean(per_batch) - seen, abs=1e-5)
        assert example.error.coverage == pytest.approx(seen - everything, abs=1e-12)  # evaluate: no drift
        assert example.error.drift == 0.0 and example.error.loop == pytest.approx(0.0, abs=1e-6)


class Loaded(examples.NeverResetF1):
    """A metric instance that already holds counts and whose reset_state does nothing."""


def _loaded_instance():
    metric = Loaded()
    metric.update_state(np.ones((50, 1), "float32"), np.zeros((50, 1), "float32"))
    return metric


SUBJECT_KINDS = [
    ("metric function", examples.naive_f1, {}, False),
    ("Metric subclass", examples.StreamingF1, {}, True),
    ("Metric instance, cloned per example", _loaded_instance(), {}, True),
    ("zero-argument factory", examples.keras_f1_score, {}, True),
    ("module:attr string", "f1check.examples:StreamingF1", {}, True),
    ("module:attr of a function", "f1check.examples:naive_f1", {}, False),
    (
        "callback class with companion metrics",
        examples.F1FromLogs,
        {"callback_key": "f1", "callback_metrics": list(examples.COUNT_METRICS)},
        True,
    ),
    (
        "callback zero-argument factory, metrics as strings",
        lambda: examples.F1FromLogs(key="f1"),
        {
            "callback_key": "f1",
            "callback_metrics": [
                "f1check.examples:true_positives",
                "f1check.examples:actual_positives",
                "f1check.examples:predicted_positives",
            ],
        },
        True,
    ),
    ("callback factory (model, x, y)", examples.predict_f1_callback, {"callback_key": "val_f1"}, True),
    ("callback that scores too little", examples.predict_first_samples_callback, {"callback_key": "val_f1"}, False),
    ("Metric that counts ties as positive", examples.TiesPositiveF1, {}, False),
]


@pytest.mark.parametrize("kind, subject, kwargs, right", SUBJECT_KINDS, ids=[k[0] for k in SUBJECT_KINDS])
def test_every_subject_kind_is_driven_and_judged(kind, subject, kwargs, right):
    # Data with ties at 0.5 and a partition with uneven batches: wrong subjects show.
    y = np.asarray([1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0], "float32")
    s = np.asarray([0.9, 0.5, 0.5, 0.7, 0.2, 0.6, 0.1, 0.5, 0.8, 0.3, 0.0, 1.0, 0.4, 0.5, 0.2, 0.5, 0.9, 0.1, 0.7, 0.3], "float32")
    part = Partition([3, 9, 1, 5, 2])
    report = f1check.check(subject, data=(y, s), partitions=[part], **kwargs)
    assert report.passed is right, str(report)
    if isinstance(subject, str):
        assert report.results[0].target == subject


def test_judge_total_fails_a_dropped_remainder_and_blames_coverage():
    y, s = worked_example()
    part = Partition.floor_steps(300, 128)  # 2 batches of 128, 44 dropped: batch 3 is 30 TP of 30
    kwargs = {"callback_key": "f1", "callback_metrics": list(examples.COUNT_METRICS), "data": (y, s), "partitions": [part]}
    seen = f1check.check(examples.F1FromLogs, **kwargs)
    total = f1check.check(examples.F1FromLogs, judge="total", **kwargs)
    assert seen.passed and not total.passed
    assert total.results[0].worst.blame == "coverage"
    assert abs(total.results[0].worst.error.coverage) > 1e-3


def test_multiclass_macro_through_the_loop_counts_absent_classes():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    classes = rng.integers(0, 3, size=60)
    y = np.eye(4, dtype="float32")[classes]  # class 3 never occurs
    s = rng.dirichlet(np.ones(4), size=60).astype("float32")
    report = f1check.check(
        lambda: keras.metrics.F1Score(average="macro"),
        task="multiclass",
        data=(y, s),
        partitions=[Partition([10, 20, 30])],
    )
    assert report.passed, str(report)
    expected = f1_score(classes, s.argmax(1), labels=range(4), average="macro", zero_division=0)
    assert report.results[0].worst.f1_seen == pytest.approx(expected)


def test_same_seed_same_results():
    a = f1check.check(examples.naive_f1, examples=4, seed=11)
    b = f1check.check(examples.naive_f1, examples=4, seed=11)
    assert a.to_json()["results"] == b.to_json()["results"]


def test_fuzzed_data_catches_the_naive_function_and_passes_a_streaming_metric():
    assert not f1check.check(examples.naive_f1, examples=32).passed
    assert f1check.check(examples.StreamingF1, examples=32).passed


def test_zero_division_is_the_targets_choice_through_the_real_loop():
    y, s = np.zeros(20, "float32"), np.full(20, 0.1, "float32")  # no positive label, no positive prediction
    parts = [Partition([10, 10])]
    assert f1check.check(examples.StreamingF1, data=(y, s), partitions=parts, zero_division=0).passed
    result = f1check.check(examples.StreamingF1, data=(y, s), partitions=parts, zero_division=1).results[0]
    assert not result.passed  # sklearn gives 1.0 with zero_division=1; the metric returns 0 there
    assert (result.worst.f1_seen, result.worst.reported) == (1.0, 0.0)


@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
def test_multilabel_averages_through_the_real_loop(average):
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(4)
    y = (rng.random((90, 3)) < 0.4).astype("float32")
    s = np.clip(y * 0.6 + rng.random((90, 3)) * 0.5, 0, 1).astype("float32")
    subject = lambda: keras.metrics.F1Score(average=average, threshold=0.5)  # noqa: E731
    result = f1check.check(subject, task="multilabel", average=average, data=(y, s),
                           partitions=[Partition([30, 45, 15])]).results[0]
    assert result.passed, result
    expected = f1_score(y.astype(int), (s > 0.5).astype(int), average=average, labels=[0, 1, 2], zero_division=0)
    assert result.worst.f1_seen == pytest.approx(expected, abs=1e-12)
    assert result.worst.reported == pytest.approx(expected, abs=1e-5)
