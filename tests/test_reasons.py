"""Every red says the right why: wrong F1 implementations, written as public code writes them, fail with the code
of their real cause (fixtures/reasons.py; each verdict checked by hand with plain Keras and sklearn first)."""

import pytest

import f1check
from f1check import examples

R = "fixtures.reasons"
CALLBACK = {"callback_key": "val_f1"}
WEIGHTED = {"weighted": True, "weights": ["sample"]}
CASES = [  # (id, subject, keyword arguments, mode, status, the reason codes)
    ("epsilon in the numerator, per batch", f"{R}:f1_epsilon_numerator", {}, "evaluate", "fail",
     ["per-batch-mean", "zero-division"]),
    ("epsilon in the numerator, streaming", f"{R}:EpsilonNumeratorF1", {}, "evaluate", "fail", ["zero-division"]),
    ("... passes with zero_division = 1", f"{R}:EpsilonNumeratorF1", {"zero_division": 1}, "evaluate", "pass", []),
    ("+1 smoothing", f"{R}:f1_plus_one", {}, "evaluate", "fail", ["per-batch-mean", "additive-smoothing"]),
    ("per-batch F2 as F1", f"{R}:f2_score", {}, "evaluate", "fail", ["per-batch-mean", "other-score"]),
    ("soft counts", f"{R}:soft_f1", {}, "evaluate", "fail", ["per-batch-mean", "soft-counts"]),
    ("running mean of a bool cast", f"{R}:BoolCastRunningF1", {}, "evaluate", "fail",
     ["per-batch-mean", "any-positive-score"]),
    ("no epsilon: NaN logged", f"{R}:f1_no_epsilon", {}, "evaluate", "fail", ["nan-logged"]),
    # a constant 0.5 meets the macro F1 of a one-sample last batch by chance: no reason stands on that
    ("a placeholder 0.5 left in result()", f"{R}:PlaceholderF1", {}, "evaluate", "fail", ["unexplained"]),
    ("... returned as the string '0.5'", f"{R}:StringPlaceholderF1", {}, "evaluate", "fail", ["unexplained"]),
    ("tied maxima", f"{R}:keras_f1_ties", {"task": "multiclass", "classes": 3, "multiclass_scores": "softmax-ties"},
     "evaluate", "fail", ["tied-maxima"]),
    ("a streaming F1", f"{R}:StreamingF1", {}, "fit", "pass", []),
    ("a callback that predicts a baseline at epoch begin", f"{R}:baseline_f1", CALLBACK, "fit", "pass", []),
    ("... in validation", f"{R}:baseline_f1", CALLBACK, "validation", "pass", []),
    ("a callback that scores the model before the epoch", f"{R}:stale_f1", CALLBACK, "fit", "fail", ["stale-model"]),
    ("a callback that scores the first batch", f"{R}:first_batch_f1", CALLBACK, "evaluate", "fail",
     ["scores-a-prefix"]),
    ("training counts as val_f1", f"{R}:CountsF1FromLogs",
     {"callback_key": "val_f1", "callback_metrics": list(examples.VALIDATION_COUNT_METRICS)}, "validation", "fail",
     ["training-counts-as-validation"]),
    # issue 35: each used to get a look-alike's reason (weights-on-true-positives, ignores-sample-weights,
    # macro-average, unexplained); constructed examples and the failing ones tell them apart
    ("weights clipped to [0, 1]", f"{R}:ClippedWeightF1", WEIGHTED, "evaluate", "fail", ["clipped-weights"]),
    ("weights normalised per batch", f"{R}:NormalisedWeightF1", WEIGHTED, "evaluate", "fail",
     ["weights-normalised-per-batch"]),
    ("(b, 1) weights broadcast against (b,) counts", f"{R}:BroadcastWeightF1", WEIGHTED, "evaluate", "fail",
     ["weights-broadcast"]),
    ("the Kaggle F-beta", f"{R}:kaggle_fbeta", {"score": "fbeta", "beta": 2.0}, "evaluate", "fail",
     ["per-batch-mean", "rounded-differences"]),
    ("a callback with sklearn's average='weighted'", f"{R}:weighted_average_f1", CALLBACK, "evaluate", "fail",
     ["weighted-average"]),
    ("... passes with average = 'weighted'", f"{R}:weighted_average_f1", {**CALLBACK, "average": "weighted"},
     "evaluate", "pass", []),
]


@pytest.mark.parametrize("what, subject, kwargs, mode, status, codes", CASES, ids=[c[0] for c in CASES])
def test_each_wrong_implementation_fails_with_its_reason(what, subject, kwargs, mode, status, codes):
    result = f1check.check(subject, modes=[mode], examples=10, seed=0, **kwargs).results[0]
    assert result.status == status, (result.why, str(result.worst))
    assert [r.code for r in result.why] == codes, result.why
    assert f1check.reporting.report.result_json(result)["why"] == [{"code": r.code, "text": r.text} for r in result.why]


def test_a_keras_2_callback_reading_validation_data_is_told_to_use_a_factory():
    with pytest.raises(f1check.SubjectError, match=r"no longer sets self.validation_data.*def make\(model, x, y\)") as info:
        f1check.check(f"{R}:Keras2ValidationF1", callback_key="val_f1", examples=2)
    assert info.value.code == "callback-reads-missing-attribute"
