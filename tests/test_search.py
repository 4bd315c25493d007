"""The hypothesis search: shrinking, determinism, fuzzing power, and confirmation through the loop."""

import numpy as np
import pytest

import f1check
from f1check import Partition, SubjectError

pytest.importorskip("keras")
examples = pytest.importorskip("f1check.examples")


def test_naive_function_shrinks_to_at_most_four_samples():
    result = f1check.check(examples.naive_f1, seed=0).results[0]
    ce = result.counterexample
    assert not result.passed and ce is not None
    assert ce.n <= 4 and ce.partition.steps >= 2
    # The counterexample ran through the real loop: it logged the mean of its batches' F1.
    batches = [(ce.y_true[b], ce.scores[b]) for b in ce.partition.batches()]
    assert ce.reported == pytest.approx(f1check.reference.batch_mean_f1(batches, f1check.options.Semantics()), abs=1e-5)
    assert ce.blame == "aggregation" and ce.error.loop == pytest.approx(0, abs=1e-6)


def test_ties_counted_positive_shrink_to_one_sample_at_the_threshold():
    ce = f1check.check(examples.TiesPositiveF1, seed=0).results[0].counterexample
    # The smallest data where ">= 0.5" and "> 0.5" disagree: one positive sample scored exactly 0.5.
    assert ce.partition == Partition([1])
    assert ce.y_true.ravel().tolist() == [1.0] and ce.scores.ravel().tolist() == [0.5]
    assert (ce.reported, ce.f1_seen) == (pytest.approx(1.0), 0.0)


def test_failure_message_shows_the_counterexample_literally():
    with pytest.raises(f1check.F1CheckFailure) as info:
        f1check.assert_f1("f1check.examples:TiesPositiveF1", seed=0)
    message = str(info.value)
    assert "partition = f1check.Partition(batch_sizes=[1])" in message
    assert "y_true = [1.0]" in message and "scores = [0.5]" in message
    assert "f1check.assert_f1('f1check.examples:TiesPositiveF1', data=(y_true, scores), partitions=[partition]" in message
    assert "rerun: f1check.assert_f1('f1check.examples:TiesPositiveF1', modes=['evaluate'], seed=0)" in message


def test_same_seed_gives_identical_results():
    a = f1check.check(examples.naive_f1, examples=40, seed=3).to_json()
    b = f1check.check(examples.naive_f1, examples=40, seed=3).to_json()
    assert a["results"] == b["results"]
    assert a["results"][0]["counterexample"] is not None


@pytest.mark.parametrize(
    "subject, kwargs",
    [(examples.StreamingF1, {}), (examples.keras_f1_score, {}), (examples.StreamingF1, {"judge": "seen", "threshold": 0.3})],
    ids=["streaming metric", "keras.metrics.F1Score", "streaming at threshold 0.3"],
)
def test_correct_metrics_pass_a_thousand_fuzzed_examples(subject, kwargs):
    if "threshold" in kwargs:
        subject = lambda: examples.StreamingF1(threshold=0.3)  # noqa: E731
    report = f1check.check(subject, examples=1000, seed=1, **kwargs)
    assert report.passed, str(report)
    assert report.results[0].examples >= 1000


def test_fixed_data_fuzzes_partitions_only():
    y, s = f1check.data.worked_example()
    result = f1check.check(examples.naive_f1, data=(y, s), examples=64, seed=0).results[0]
    assert not result.passed
    ce = result.counterexample
    assert ce.n == 300 and np.array_equal(ce.y_true, y)
    assert ce.partition.steps == 2 and not ce.partition.shuffled_order  # shrunk toward [k, 300-k], identity


def test_explicit_partitions_with_fuzzed_data():
    parts = [Partition([2, 2]), Partition([1, 3])]
    result = f1check.check(examples.naive_f1, partitions=parts, examples=32, seed=0).results[0]
    assert not result.passed and result.counterexample.partition in parts


def test_multiclass_search_through_replay():
    import keras

    report = f1check.check(
        lambda: keras.metrics.F1Score(average="macro", threshold=None), task="multiclass", classes=3, examples=200, seed=0
    )
    # Keras's F1Score(threshold=None) counts every tied maximum as predicted; the reference takes the first.
    assert not report.passed
    ce = report.results[0].counterexample
    assert ce.n <= 3
    assert (ce.scores == ce.scores.max(axis=1, keepdims=True)).sum(axis=1).max() > 1  # a tie is in it


def test_nan_from_a_subject_is_an_error_about_the_smallest_batch():
    with pytest.raises(SubjectError, match="returned NaN when fed .* 0 positive, 0 predicted positive") as info:
        f1check.check("fixtures.subjects:nan_f1", seed=0)
    assert not getattr(info.value, "__notes__", [])  # hypothesis's notes about our internal test are gone


def test_a_metric_that_does_not_reset_is_replayed_fresh_and_passes():
    # Its reset_state is a no-op: the compiled path (one instance, reset between examples) would be
    # unfaithful, so the search replays a fresh instance per example instead.
    from f1check.check import _Settings, run_example
    from f1check.options import Semantics
    from f1check.search import Search
    from f1check.subjects import resolve

    settings = _Settings(("evaluate",), 1e-3, "seen", Semantics(classes=1), 16, 0)
    search = Search(resolve(examples.NeverResetF1), "evaluate", settings, None, None, run_example)
    assert search.replay is None and search.slow
    assert f1check.check(examples.NeverResetF1, examples=16).passed


def test_callbacks_are_searched_through_the_loop():
    report = f1check.check(examples.predict_first_samples_callback, callback_key="val_f1", examples=6, seed=0)
    result = report.results[0]
    assert not result.passed
    assert result.counterexample.n > 8  # it scores the first 8 samples, so it is right below that
    assert result.counterexample.blame == "aggregation"


def test_worst_example_is_confirmed_through_the_loop():
    result = f1check.check(examples.naive_f1, examples=64, seed=2).results[0]
    worst = result.worst
    assert worst.badness() >= result.counterexample.badness()
    assert worst.fed_batch_sizes == tuple(worst.partition.batch_sizes)  # the recorder saw the loop run


def test_labels_and_scores_of_large_counterexamples_are_not_printed():
    from f1check.report import example_literal

    y, s = f1check.data.worked_example()
    ex = f1check.check(examples.naive_f1, data=(y, s), partitions=[Partition([100, 200])]).results[0].worst
    assert example_literal(ex) == ["partition = f1check.Partition(batch_sizes=[100, 200])"]
    assert np.array_equal(ex.y_true, y)
