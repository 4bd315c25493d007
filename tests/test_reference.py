"""Pins the reference's semantics (strict threshold, first argmax, labels=range(C)) with hand-computed golden values."""

import math

import numpy as np
import pytest

from f1check.core import settings
from f1check.judging import reference


def sem(**kw):
    return settings.semantics(kw, settings.argument_source)


def col(values):
    return np.asarray(values, dtype=np.float32)[:, None]


def test_worked_example_reference_values():
    from f1check.data import worked_example

    y, s = worked_example()
    # The worked example: all 300 -> TP 61, FP 10, FN 19 -> F1 = 122/151.
    assert reference.reference(y, s, sem()) == pytest.approx(122 / 151, abs=1e-12)
    batches = [(y[i : i + 100], s[i : i + 100]) for i in (0, 100, 200)]
    assert reference.batch_mean(batches, sem()) == pytest.approx((0.75 + 2 / 11 + 1.0) / 3, abs=1e-12)


def test_a_score_of_exactly_the_threshold_is_negative():
    # y=[1, 1, 0], scores [0.5, 0.9, 0.1]: 0.5 is not > 0.5, so TP=1, FN=1, FP=0 -> F1 = 2/3.
    assert reference.reference(col([1, 1, 0]), col([0.5, 0.9, 0.1]), sem()) == pytest.approx(2 / 3)
    # A threshold of 0.4 makes it positive: F1 = 1.
    assert reference.reference(col([1, 1, 0]), col([0.5, 0.9, 0.1]), sem(threshold=0.4)) == pytest.approx(1.0)


@pytest.mark.parametrize("zero_division, expected", [(0, 0.0), (1, 1.0)])
def test_zero_division_decides_f1_without_any_positive(zero_division, expected):
    y, s = col([0, 0, 0]), col([0.1, 0.2, 0.5])
    assert reference.reference(y, s, sem(zero_division=zero_division)) == expected


def test_zero_division_nan_gives_nan():
    assert math.isnan(reference.reference(col([0, 0]), col([0.1, 0.2]), sem(zero_division="nan")))


def test_absent_class_counts_in_the_macro_average():
    # Classes 0 and 1 predicted perfectly; class 2 never occurs. labels=range(3) -> (1 + 1 + 0) / 3.
    y = np.eye(3, dtype=np.float32)[[0, 1, 1, 0]]
    s = np.asarray([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]], dtype=np.float32)
    assert reference.reference(y, s, sem(task="multiclass", average="macro")) == pytest.approx(2 / 3)
    assert reference.reference(y, s, sem(task="multiclass", average="micro")) == pytest.approx(1.0)


def test_multiclass_ties_go_to_the_first_argmax():
    y = np.eye(3, dtype=np.float32)[[0, 1]]
    # Row 0 ties classes 0 and 1 -> class 0 (right); row 1 ties 0 and 1 -> class 0 (wrong).
    s = np.asarray([[0.4, 0.4, 0.2], [0.4, 0.4, 0.2]], dtype=np.float32)
    assert reference.predicted_labels(s, sem(task="multiclass")).tolist() == [0, 0]
    assert reference.reference(y, s, sem(task="multiclass", average="micro")) == pytest.approx(0.5)


def test_multilabel_thresholds_each_column():
    y = np.asarray([[1, 0], [1, 1]], dtype=np.float32)
    s = np.asarray([[0.9, 0.5], [0.2, 0.7]], dtype=np.float32)
    # Column 0: TP 1, FN 1 -> 2/3. Column 1: TP 1 -> 1. Macro = 5/6; micro: TP 2, FN 1 -> 4/5.
    assert reference.reference(y, s, sem(task="multilabel", average="macro")) == pytest.approx(5 / 6)
    assert reference.reference(y, s, sem(task="multilabel", average="micro")) == pytest.approx(4 / 5)


def test_binary_macro_averages_both_classes():
    # y=[1,0,0], pred=[1,1,0]: class 1 F1 = 2/3, class 0 F1 = 2/3 -> macro 2/3.
    y, s = col([1, 0, 0]), col([0.9, 0.8, 0.1])
    assert reference.reference(y, s, sem(average="macro")) == pytest.approx(2 / 3)


def test_attribution_adds_up_to_the_total_error():
    a = reference.attribute(reported=0.6, replayed=0.62, f1_seen=0.7, f1_fed_end=0.72, f1_all=0.75)
    assert a.total == pytest.approx(0.6 - 0.75)
    assert (a.loop, a.aggregation, a.drift, a.coverage) == pytest.approx((-0.02, -0.08, -0.02, -0.03))
    assert a.dominant("seen") == "aggregation"
    assert a.dominant("total") == "aggregation"


def test_sklearns_answers_are_kept_per_question_labels_weights_and_arguments():
    """The reference keeps sklearn's answers (the search asks the same question many times): an answer kept must
    be the answer to that question only: same labels under other arguments or weights, or other labels of the same
    shape, are asked again. Golden values by hand."""
    y, s = col([1, 1, 0, 0]), col([0.9, 0.2, 0.8, 0.1])  # TP 1, FN 1, FP 1
    assert reference.reference(y, s, sem()) == pytest.approx(0.5)
    assert reference.reference(y, s, sem()) == pytest.approx(0.5)  # asked again: the same
    assert reference.reference(y, s, sem(score="precision")) == pytest.approx(0.5)
    assert reference.reference(y, s, sem(score="fbeta", beta=2.0)) == pytest.approx(0.5)
    assert reference.reference(y, col([0.9, 0.8, 0.2, 0.1]), sem()) == pytest.approx(1.0)  # other predictions
    assert reference.reference(y, s, sem(threshold=0.15)) == pytest.approx(0.8)  # 2 TP, 1 FP: 4/5
    weighted = sem(weighted=True)
    # weights 3 on the true positive, 1 elsewhere: 2*3 / (2*3 + 1 + 1) = 0.75; 3 on the false positive: 2 / (2 + 1 + 3)
    assert reference.reference(y, s, weighted, np.asarray([3.0, 1, 1, 1])) == pytest.approx(0.75)
    assert reference.reference(y, s, weighted, np.asarray([1.0, 1, 3, 1])) == pytest.approx(2 / 6)
    assert reference.reference(y, s, weighted) == pytest.approx(0.5)  # no weights: unweighted
