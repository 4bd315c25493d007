"""The search: fixed examples first, shrinking, determinism, power, and confirmation through the real loop."""

import math

import keras
import numpy as np
import pytest
from sklearn.metrics import f1_score
from support import driver, sklearn_batch_mean, sklearn_f1

import f1check
from f1check import Partition, examples
from f1check.subjects.targets import resolve


def test_naive_function_shrinks_to_at_most_four_samples():
    result = f1check.check(examples.naive_f1, seed=0).results[0]
    ce = result.counterexample
    assert not result.passed and ce is not None
    assert ce.n <= 4 and ce.partition.steps >= 2
    # The counterexample ran through the real loop: it logged the mean of its batches' F1.
    batches = [(ce.y_true[b], ce.scores[b]) for b in ce.partition.batches()]
    assert ce.reported == pytest.approx(sklearn_batch_mean(batches), abs=1e-5)
    assert ce.blame == "aggregation" and ce.error.loop == pytest.approx(0, abs=1e-6)


def test_ties_counted_positive_shrink_to_one_sample_at_the_threshold():
    ce = f1check.check(examples.TiesPositiveF1, seed=0).results[0].counterexample
    # The smallest data where ">= 0.5" and "> 0.5" disagree: one positive sample scored exactly 0.5.
    assert ce.partition == Partition([1])
    assert ce.y_true.ravel().tolist() == [1.0] and ce.scores.ravel().tolist() == [0.5]
    assert (ce.reported, ce.f1_seen) == (pytest.approx(1.0), 0.0)
    assert any("exactly the threshold (0.5) as positive" in note for note in (r.text for r in ce.diagnosis))


def test_a_cut_elsewhere_is_not_called_a_tie():
    # Cut at 0: the same smallest counterexample as a ">=" (y=[1], score 0.5), but the subject is also wrong
    # just below 0.5, so the tie reading does not hold and is not given.
    ce = f1check.check("fixtures.subjects:LogitCutF1", seed=2).results[0].counterexample
    assert ce.y_true.ravel().tolist() == [1.0] and ce.scores.ravel().tolist() == [0.5]
    assert (ce.reported, ce.f1_seen) == (pytest.approx(1.0), 0.0)
    assert not any("threshold" in note for note in (r.text for r in ce.diagnosis)), ce.diagnosis


def test_a_metric_that_keeps_only_the_last_batch_is_named():
    ce = f1check.check("fixtures.subjects:LastBatchF1", seed=0).results[0].counterexample
    last = ce.partition.batches()[-1]
    expected = f1_score(ce.y_true[last].ravel(), (ce.scores[last] > 0.5).ravel(), zero_division=0)
    assert ce.reported == pytest.approx(expected, abs=1e-6)
    assert any(note.startswith("the subject logs the last batch's F1 only") and f"{expected:.6f}" in note
               for note in (r.text for r in ce.diagnosis)), ce.diagnosis


def test_a_macro_average_on_binary_labels_is_named():
    result = f1check.check("fixtures.subjects:macro_predict_f1", callback_key="val_f1", seed=0).results[0]
    # evaluate mode: the model predicts exactly the fuzzed scores, so the callback scored these
    for example in (result.counterexample, result.worst):
        expected = f1_score(example.y_true.ravel(), (example.scores > 0.5).ravel(), average="macro", zero_division=0)
        assert example.reported == pytest.approx(expected, abs=1e-6)
    # the counterexample alone (a sample or two) reads several ways; the reason is the one the worst shows too
    assert [r.code for r in result.why] == ["macro-average"], result.why
    assert "averages over both classes (average='macro')" in result.why[0].text


def test_failure_message_prints_a_reproduction():
    with pytest.raises(f1check.F1CheckFailure) as info:
        f1check.assert_f1("f1check.examples:TiesPositiveF1", seed=0)
    message = str(info.value)
    assert "partitions = [f1check.Partition(batch_sizes=[1])]" in message
    assert "y_true = numpy.array([1], dtype='float32').reshape(-1, 1)" in message
    assert "scores = numpy.array([0.5], dtype='float32').reshape(-1, 1)" in message
    assert ("f1check.assert_f1('f1check.examples:TiesPositiveF1', data=(y_true, scores), partitions=partitions, "
            "modes=['evaluate'], feeds=['pydataset'], labels=['column'], label_dtypes=['float32'], seed=0)") in message


def test_same_seed_gives_identical_results_and_another_seed_explores_differently():
    a = f1check.check(examples.StreamingF1, examples=40, seed=3)
    b = f1check.check(examples.StreamingF1, examples=40, seed=3)
    c = f1check.check(examples.StreamingF1, examples=40, seed=4)
    assert a.to_json()["results"] == b.to_json()["results"]
    sizes = lambda report: [(e.n, e.batch_sizes, e.feed) for e in report.results[0].runs]  # noqa: E731
    assert sizes(a) == sizes(b) and sizes(a) != sizes(c)


@pytest.mark.parametrize(
    "subject, kwargs",
    [(examples.StreamingF1, {}), (examples.keras_f1_score, {}), (examples.StreamingF1, {"judge": "seen", "threshold": 0.3})],
    ids=["streaming metric", "keras.metrics.F1Score", "streaming at threshold 0.3"],
)
def test_correct_metrics_pass_hundreds_of_distinct_fuzzed_examples(subject, kwargs):
    if "threshold" in kwargs:
        subject = lambda: examples.StreamingF1(threshold=0.3)  # noqa: E731
    report = f1check.check(subject, examples=300, seed=1, **kwargs)
    assert report.passed, str(report)
    assert report.results[0].examples == 300  # distinct candidates: hypothesis's repeats are not counted


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


def test_softmax_multiclass_data_lets_keras_f1score_pass_and_ties_are_asked_for():
    macro = lambda: keras.metrics.F1Score(average="macro", threshold=None)  # noqa: E731
    for classes in (2, 3):
        # one-hot labels: keras.metrics.F1Score's documented contract (given class indices it misreads them)
        assert f1check.check(macro, task="multiclass", classes=classes, examples=200, seed=0, labels=["one-hot"]).passed
    # Keras's F1Score(threshold=None) counts every tied maximum as predicted; the reference takes the first.
    tied = f1check.check(macro, task="multiclass", classes=3, examples=200, seed=0, multiclass_scores="softmax-ties",
                         labels=["one-hot"])
    assert not tied.passed
    ce = tied.results[0].counterexample
    assert (ce.scores == ce.scores.max(axis=1, keepdims=True)).sum(axis=1).max() > 1  # a tie is in it


def test_a_per_class_threshold_on_three_softmax_classes_is_named():
    half = lambda: keras.metrics.F1Score(average="macro", threshold=0.5)  # noqa: E731
    assert f1check.check(half, task="multiclass", classes=2, examples=100, seed=0, labels=["one-hot"]).passed
    result = f1check.check(half, task="multiclass", classes=3, examples=50, seed=0, labels=["one-hot"]).results[0]
    assert not result.passed
    assert any("thresholds every class at 0.5 instead of taking the argmax" in r.text
               for r in result.counterexample.diagnosis)


def test_nan_logged_where_sklearn_gives_a_number_fails_and_names_the_batch():
    # A per-batch F1 without an epsilon: 0/0 on a batch with nothing positive. A wrong logged value, not bad input.
    y = np.asarray([0, 0, 1, 1], "float32")
    s = np.asarray([0.1, 0.2, 0.9, 0.8], "float32")
    result = f1check.check("fixtures.subjects:nan_f1", data=(y, s), partitions=[Partition([2, 2])]).results[0]
    assert result.status == "fail" and math.isnan(result.counterexample.reported)
    assert result.counterexample.f1_seen == pytest.approx(sklearn_f1(y, s))  # 1.0: sklearn gives a number
    assert [r.code for r in result.why] == ["nan-logged"]
    assert "fed alone, batch 0 (2 samples, 0 positive, 0 predicted positive) gives nan" in result.why[0].text
    record = f1check.reporting.report.result_json(result)
    assert record["counterexample"]["reported"] == "nan" and record["why"][0]["code"] == "nan-logged"
    fuzzed = f1check.check("fixtures.subjects:nan_f1", seed=0).results[0]
    assert fuzzed.status == "fail" and fuzzed.main_reason == "nan-logged"


@pytest.mark.parametrize("subject", [examples.NeverResetF1, "fixtures.subjects:RawVariableF1",
                                     "fixtures.subjects:PartialResetF1"],
                         ids=["no-op reset", "raw tf.Variable", "reset forgets fn"])
def test_a_metric_that_carries_state_fails_evaluate_and_says_so(subject):
    result = f1check.check(subject, examples=8, seed=0).results[0]
    assert not result.passed
    ce = result.counterexample
    assert ce.preceded_by  # the same model ran before: that is where its counts came from
    assert ce.blame == "aggregation" and ce.error.loop == pytest.approx(0, abs=1e-6)
    assert any(note.startswith("state carried across reset_state()") for note in (r.text for r in ce.diagnosis))


def test_callbacks_are_judged_and_confirmed_through_the_loop():
    report = f1check.check(examples.predict_first_samples_callback, callback_key="val_f1", examples=12, seed=0)
    result = report.results[0]
    assert not result.passed
    assert result.counterexample.n > 8  # it scores the first 8 samples, so it is right below that
    assert result.counterexample.blame == "aggregation"


def test_the_worst_example_is_a_real_loop_run():
    result = f1check.check(examples.naive_f1, examples=64, seed=2).results[0]
    worst = result.worst
    assert worst.badness() == max(e.badness() for e in result.runs)
    # Run the worst example's partition through the real loop again, apart from the search: the same value.
    again = driver(resolve(examples.naive_f1), "evaluate").run(
        worst.y_true, worst.scores, worst.partition, worst.loop
    )
    assert again.epochs[0].reported == pytest.approx(worst.reported, abs=1e-7)
    assert tuple(again.epochs[0].batch_sizes) == worst.fed_batch_sizes


def test_large_counterexamples_are_saved_small_ones_printed(tmp_path):
    y, s = f1check.data.worked_example()
    big = f1check.check(examples.naive_f1, data=(y, s), partitions=[Partition([100, 200])], save_dir=tmp_path).results[0]
    assert f"numpy.load({str(next(tmp_path.glob('*.npz')))!r})" in big.reproduce
    assert "y_true = numpy.array" not in big.reproduce
    y = np.asarray([0, 1, 0, 1, 1, 0, 0, 1], "float32")
    s = np.asarray([0.1, 0.9, 0.2, 0.8, 0.3, 0.2, 0.1, 0.9], "float32")
    small = f1check.check(examples.naive_f1, data=(y, s), partitions=[Partition([4, 4])]).results[0]
    assert "y_true = numpy.array([0, 1, 0, 1, 1, 0, 0, 1], dtype='float32').reshape(-1, 1)" in small.reproduce
    assert "scores = numpy.array([0.1, 0.9, 0.2, 0.8, 0.3, 0.2, 0.1, 0.9], dtype='float32')" in small.reproduce


@pytest.mark.parametrize("mode", ["evaluate", "fit", "fit-dropped"])
def test_the_naive_function_fails_from_the_first_examples_on_every_seed(mode):
    for seed in range(3):
        result = f1check.check(examples.naive_f1, modes=[mode], examples=3, seed=seed).results[0]
        assert not result.passed, (mode, seed)
