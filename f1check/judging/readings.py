"""Other readings of the same labels and scores: the quantities wrong subjects compute instead of the target's.

A subject that logs the wrong number usually computes a *nearby* quantity:
sklearn's value with another ``zero_division``, with ``>=`` instead of ``>``,
over both classes, of another score, from probabilities instead of
predictions, with one added to every count, or with every tied top class
predicted.  Each :class:`Reading` computes one such quantity from labels and
scores, so the diagnosis can say *which* one the subject logs, by its numbers,
with the fix that makes the check pass.  Pure numpy and sklearn; no Keras.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..core.labels import LabelForm
from ..core.settings import Semantics
from ..core.weights import weight_of, weights_of
from . import reference

__all__ = ["Reading", "counted_in", "prefix_values", "readings", "same"]


@dataclass(frozen=True)
class Reading:
    """One way to read labels and scores.

    Attributes:
        code: the reason code when a subject computes this (``None``: the target's own reading).
        says: what the subject does, as the diagnosis words it.
        fix: what makes the check pass.
        value: the quantity of ``(y_true, scores)`` under this reading.
        batched: for a reading that depends on where the batches end (weights normalised or broadcast per batch),
            its quantity over ``[Batch, ...]``; ``value`` is then its quantity over one batch.
        setting: where the fix is a change of the target's settings, that change (``{"average": "macro"}``): the
            advice is stated only where the failing example passes under it.
    """

    code: str | None
    says: str
    fix: str
    value: Callable
    batched: Callable | None = None
    setting: dict | None = None

    def of_batches(self, batches) -> float:
        """Its quantity over ``[(y_true, scores) or Batch, ...]`` taken whole."""
        import numpy as np

        if self.batched is not None:
            return self.batched(batches)
        y = np.concatenate([b[0] for b in batches])
        s = np.concatenate([b[1] for b in batches])
        return self.value(y, s, weights_of(batches))


def readings(semantics: Semantics, tie_present: bool, form: LabelForm | None = None) -> list[Reading]:
    """The target's own reading first, then the nearby ones that apply to its task and score (and to labels fed
    in ``form``: the ways a metric misreads them)."""
    name = semantics.score_name
    found = [Reading(None, f"computes sklearn's {name}", "", lambda y, s, w=None: reference.reference(y, s, semantics, w))]
    found += _zero_division(semantics)
    if semantics.task == "multiclass":
        found += _multiclass(semantics)
    else:
        found += _thresholds(semantics, tie_present)
        found += _counts(semantics)
    if semantics.task == "binary" and semantics.average == "binary" and semantics.score != "mcc":
        found += _macro(semantics)
    found += _other_scores(semantics)
    return found + _weightings(semantics) + _label_forms(semantics, form)


def _label_forms(semantics: Semantics, form: LabelForm | None) -> list[Reading]:
    """How a metric misreads labels fed in ``form``: flat labels broadcast
    against a column of predictions, class indices read as one-hot labels, one-hot labels read as indices."""
    import numpy as np

    if form is None:
        return []
    columns = semantics.columns
    found = []
    if form is LabelForm.FLAT:
        def broadcast(batches):  # per batch, every count over the (b, b) outer product of labels and predictions
            parts = []
            for batch in batches:  # the sum over outer(t, p) is sum(t) * sum(p): exact, without the (b, b) array
                truth = reference.true_labels(batch[0], semantics).reshape(-1).astype(np.float64)
                predicted = reference.predicted_labels(batch[1], semantics).reshape(-1).astype(np.float64)
                t, p, b = truth.sum(), predicted.sum(), float(len(truth))
                parts.append([np.asarray([[t * p]]), np.asarray([[(b - t) * p]]), np.asarray([[t * (b - p)]])])
            return _score(*(np.concatenate(p) for p in zip(*parts)), semantics)

        found.append(Reading(
            "labels-broadcast", "multiplies (b,) labels against (b, 1) predictions, so every count is taken over the "
            "(b, b) outer product of the batch (labels fed flat, as df[\"label\"].values gives them)",
            "reshape the labels to the predictions' shape before counting (y_true = ops.reshape(y_true, "
            "ops.shape(y_pred)), or ops.reshape(y_true, (-1,)) and y_pred likewise)",
            lambda y, s, w=None: broadcast([(y, s)]), batched=broadcast))
    if form is LabelForm.SPARSE_COLUMN:
        def as_class_zero(y, s, w=None):  # argmax(y_true, -1) of a one-column row is 0 whatever the index
            return reference.reference(np.eye(columns, dtype=np.float32)[np.zeros(len(y), int)], s, semantics, w)

        def values_as_labels(y, s, w=None):  # (n, 1) indices times (n, C) predictions: the index counted per class
            index = np.argmax(y, axis=1).astype(np.float64)[:, None] * np.ones((1, columns))
            predicted = np.eye(columns)[reference.predicted_labels(s, semantics)]  # one-hot of the first argmax
            indicators = (index * predicted, (1 - index) * predicted, index * (1 - predicted))
            return _score(*_weigh(indicators, w, semantics), semantics)

        fix = (f"give it one-hot labels (keras.utils.to_categorical(y, {columns})), or turn indices into one-hot in "
               f"update_state (ops.one_hot(ops.reshape(ops.cast(y_true, \"int32\"), (-1,)), {columns}))")
        found += [
            Reading("indices-read-as-one-hot", "reads (n, 1) class indices as one-hot labels: the argmax of a "
                    "one-column row is 0, so every sample counts as class 0", fix, as_class_zero),
            Reading("indices-read-as-one-hot", "multiplies (n, 1) class indices against (n, C) predictions as if "
                    "they were one-hot labels, each index's value counted in every class (as keras.metrics.F1Score "
                    "does: its documented contract is one-hot labels)", fix, values_as_labels),
        ]
    if form is LabelForm.ONE_HOT:
        def first_column(y, s, w=None):  # y_true[:, 0] as the index: 1 for class 0, 0 for every other class
            index = (np.argmax(y, axis=1) == 0).astype(int)
            return reference.reference(np.eye(columns, dtype=np.float32)[index], s, semantics, w)

        found.append(Reading(
            "one-hot-read-as-indices", "reads one-hot labels as class indices (the first column taken as the index: "
            "class 1 for samples of class 0, class 0 for all others)",
            "take the argmax of one-hot labels (ops.argmax(y_true, -1)) where they are one-hot, or feed class indices "
            "as the metric expects (labels = [\"sparse\"] for this target if that is what your loop feeds)",
            first_column))
    return found


def _weightings(semantics: Semantics) -> list[Reading]:
    """How weighted subjects get their weights wrong, and an unweighted one that weighs."""
    import numpy as np

    unweighted = replace(semantics, weighted=False)
    if not semantics.weighted:
        weighted = replace(semantics, weighted=True)
        return [Reading("uses-sample-weights", "weighs the samples with the loop's weights, though the target is not "
                        "a weighted metric", "set the target's weighted = true if it is one (compiled in "
                        "weighted_metrics)", lambda y, s, w=None: reference.reference(y, s, weighted, w),
                        setting={"weighted": True})]

    def tp_only(y, s, w=None):
        tp, fp, fn = _hard(y, s, semantics)
        if w is not None:
            tp = tp * np.asarray(w, np.float64).reshape(-1, 1)
        return _score(tp, fp, fn, semantics)

    return [
        Reading("ignores-sample-weights", "ignores its sample weights: its value is sklearn's unweighted one",
                "multiply every count by sample_weight in update_state (tp += sum(w * y_true * y_pred), ...)",
                lambda y, s, w=None: reference.reference(y, s, unweighted)),
        Reading("weights-on-true-positives", "weighs its true positives only (fp and fn are counted unweighted)",
                "multiply every count by sample_weight, false positives and false negatives too", tp_only),
        Reading("weights-as-mask", "uses the weights as a 0/1 mask (every weight above 0 counts as 1)",
                "multiply the counts by the weights themselves, not by (sample_weight > 0)",
                lambda y, s, w=None: reference.reference(y, s, semantics, None if w is None else (np.asarray(w) > 0) * 1.0)),
        Reading("weights-applied-twice", "applies the weights twice (each sample counts its weight squared)",
                "multiply by sample_weight once (Keras has not applied it before update_state is called)",
                lambda y, s, w=None: reference.reference(y, s, semantics, None if w is None else np.square(w))),
    ]


def _zero_division(semantics: Semantics) -> list[Reading]:
    if semantics.score == "mcc":
        return []
    other = 1.0 if semantics.zero_division != 1 else 0.0
    chosen = replace(semantics, zero_division=other)
    return [Reading(
        "zero-division",
        f"gives {other:g} where nothing is positive and nothing is predicted positive (sklearn's zero_division = "
        f"{other:g}; the target's is {reference.zero_division_value(semantics.zero_division):g}), as an epsilon in "
        "the numerator or a guard that returns 1 does",
        f"if {other:g} is what you mean there, set the target's zero_division = {other:g}; else return "
        f"{reference.zero_division_value(semantics.zero_division):g} when the denominator is 0",
        lambda y, s, w=None: reference.reference(y, s, chosen, w), setting={"zero_division": other},
    )]


def _thresholds(semantics: Semantics, tie_present: bool) -> list[Reading]:
    import numpy as np

    found = []
    if tie_present:
        tie = np.float32(semantics.threshold)
        found.append(Reading(
            "threshold-tie",
            f"counts a score of exactly the threshold ({semantics.threshold:g}) as positive (score >= "
            f"{semantics.threshold:g})",
            "Keras (keras.metrics.F1Score, and rounding half to even) and this check take score > threshold; use a "
            "strict >, or set the target's threshold to what the subject means",
            lambda y, s, w=None: reference.reference(y, np.where(s == tie, np.nextafter(s, np.float32(2)), s), semantics,
                                                     w),
        ))
    if semantics.threshold > 0:
        at_zero = replace(semantics, threshold=0.0)
        found.append(Reading(
            "any-positive-score",
            "counts every score above 0 as positive (score > 0, as a cast of the scores to bool does)",
            f"threshold the scores (y_pred > {semantics.threshold:g}, or round them) before counting",
            lambda y, s, w=None: reference.reference(y, s, at_zero, w),
        ))
    return found


def _counts(semantics: Semantics) -> list[Reading]:
    """Readings from per-label counts: soft counts (probabilities), and counts with one added (smoothing)."""
    import numpy as np

    if semantics.score == "mcc":
        return []

    def soft(y, s, w=None):
        truth = reference.true_labels(y, semantics).reshape(len(y), -1).astype(np.float64)
        scores = np.asarray(s, np.float64).reshape(len(y), -1)
        return _score(*_weigh((truth * scores, (1 - truth) * scores, truth * (1 - scores)), w, semantics), semantics)

    def smoothed_terms(y, s, w=None):  # precision = (tp + 1) / (tp + fp + 1), recall likewise, then their score
        return _score(*_weigh(_hard(y, s, semantics), w, semantics), semantics, plus_one=True)

    def smoothed_f1(y, s, w=None):  # F1 = (2 tp + 1) / (2 tp + fp + fn + 1)
        tp, fp, fn = _weigh(_hard(y, s, semantics), w, semantics)
        tp, fp, fn = (a.sum(0) for a in (tp, fp, fn))
        if semantics.average == "micro":
            tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
        return float(((2 * tp + 1) / (2 * tp + fp + fn + 1)).mean())

    found = [
        Reading("soft-counts", "counts probabilities, not predictions (tp = sum(y_true * y_pred), no threshold)",
                f"threshold the scores first (y_pred > {semantics.threshold:g}), then count", soft),
        Reading("additive-smoothing", "adds one to its counts (Laplace smoothing: precision = (tp + 1) / (tp + fp + 1),"
                " recall likewise)", "count without the +1 (guard a 0/0 with keras.config.epsilon() in the "
                "denominator, or return the target's zero_division there)", smoothed_terms),
    ]
    if semantics.score == "f1":
        found.append(Reading("additive-smoothing", "adds one to its counts (Laplace smoothing: F1 = (2 tp + 1) / "
                             "(2 tp + fp + fn + 1))", "count without the +1 (guard a 0/0 with keras.config.epsilon() "
                             "in the denominator, or return the target's zero_division there)", smoothed_f1))
    return found


def _weigh(indicators, w, semantics: Semantics):
    """Per-sample indicators times each sample's weight (a weighted subject's counts)."""
    import numpy as np

    if w is None or not semantics.weighted:
        return indicators
    column = np.asarray(w, np.float64).reshape(-1, 1)
    return tuple(a * column for a in indicators)


def _hard(y, s, semantics: Semantics):
    """Per-sample true positive, false positive and false negative indicators, (N, labels) float64."""
    import numpy as np

    truth = reference.true_labels(y, semantics).reshape(len(y), -1).astype(np.float64)
    predicted = reference.predicted_labels(s, semantics).reshape(len(y), -1).astype(np.float64)
    return truth * predicted, (1 - truth) * predicted, truth * (1 - predicted)


def _score(tp, fp, fn, semantics: Semantics, plus_one: bool = False) -> float:
    """The score from per-sample (N, labels) indicators (or soft counts), averaged as the target averages."""
    import numpy as np

    tp, fp, fn = (np.asarray(a, np.float64).reshape(len(a), -1).sum(0) for a in (tp, fp, fn))
    if semantics.average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    one = 1.0 if plus_one else 0.0
    zero = reference.zero_division_value(semantics.zero_division)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp + one > 0, (tp + one) / np.maximum(tp + fp + one, 1e-300), zero)
        recall = np.where(tp + fn + one > 0, (tp + one) / np.maximum(tp + fn + one, 1e-300), zero)
        b2 = 1.0 if semantics.beta is None else semantics.beta ** 2
        if plus_one:  # the score of the smoothed precision and recall
            fbeta = (1 + b2) * precision * recall / (b2 * precision + recall)
        else:
            denominator = (1 + b2) * tp + b2 * fn + fp
            fbeta = np.where(denominator > 0, (1 + b2) * tp / np.maximum(denominator, 1e-300), zero)
    values = {"precision": precision, "recall": recall}.get(semantics.score, fbeta)
    if semantics.average == "weighted":
        support = tp + fn
        return float(np.average(values, weights=support)) if support.sum() > 0 else float(values.mean())
    return float(values.mean())


def _macro(semantics: Semantics) -> list[Reading]:
    both = replace(semantics, average="macro")
    return [
        Reading("macro-average", "averages over both classes (average='macro')",
                "if the macro average is what you mean, set the target's average = \"macro\"",
                lambda y, s, w=None: reference.reference(y, s, both, w), setting={"average": "macro"}),
        Reading("macro-average", "averages over the classes present (sklearn's average='macro' without labels=)",
                "if the macro average is what you mean, set the target's average = \"macro\"",
                lambda y, s, w=None: reference.macro_of_present_classes(y, s, semantics, w),
                setting={"average": "macro"}),
    ]


def _multiclass(semantics: Semantics) -> list[Reading]:
    import numpy as np

    if semantics.score == "mcc":
        return []
    per_class = replace(semantics, task="multilabel", threshold=0.5)

    def tied(y, s, w=None):
        top = (s == s.max(axis=1, keepdims=True)).astype(np.float64)  # every class tied for the top is predicted
        truth = np.eye(y.shape[1])[np.argmax(y, axis=1)]
        return _score(*_weigh((truth * top, (1 - truth) * top, truth * (1 - top)), w, semantics), semantics)

    return [
        Reading("per-class-threshold",
                "thresholds every class at 0.5 instead of taking the argmax (on softmax rows over 3 or more classes "
                "a row whose top class is at most 0.5 predicts no class)",
                "for a one-class-per-sample task compute the argmax (keras.metrics.F1Score(threshold=None)), or "
                "check the target as task='multilabel' if per-class thresholds are what you mean",
                lambda y, s, w=None: reference.reference(y, s, per_class, w)),
        Reading("tied-maxima", "predicts every class tied for the top score (as keras.metrics.F1Score(threshold=None) "
                "does), where the target takes the first argmax",
                "break ties by taking the first argmax (ops.argmax), or set multiclass_scores = \"softmax\" if your "
                "head never ties", tied),
    ]


def _other_scores(semantics: Semantics) -> list[Reading]:
    if semantics.score == "mcc":
        return []
    found = []
    for score, beta in [("f1", None), ("fbeta", 0.5), ("fbeta", 2.0), ("precision", None), ("recall", None)]:
        if (score, beta) == (semantics.score, semantics.beta):
            continue
        other = replace(semantics, score=score, beta=beta)
        setting = f'score = "fbeta", beta = {beta:g}' if score == "fbeta" else f'score = "{score}"'
        found.append(Reading(
            "other-score", f"computes {other.score_name}, not the target's {semantics.score_name}",
            f"if {other.score_name} is what it logs, set the target's {setting}",
            lambda y, s, w=None, other=other: reference.reference(y, s, other, w),
            setting={"score": score, "beta": beta},
        ))
    return found


EXACT_UP_TO = {"float16": 2048, "bfloat16": 256}  # the largest count each 16-bit type holds in ones from zero


def counted_in(batches, semantics: Semantics, dtype: str) -> float:
    """The score from unweighted counts summed batch by batch in ``dtype`` (``"float16"`` or ``"bfloat16"``), as
    a metric whose count variables are 16-bit keeps them: each batch's count is exact, each running sum rounded.
    NaN where that is no other reading: weighted counts, or no count past where ``dtype`` counts in ones."""
    import ml_dtypes  # installed with Keras
    import numpy as np

    if semantics.weighted or any(weight_of(b) is not None for b in batches):
        return math.nan
    kind = np.float16 if dtype == "float16" else ml_dtypes.bfloat16
    totals, exact = None, None
    for batch in batches:
        counts = [a.sum(0) for a in _hard(batch[0], batch[1], semantics)]
        exact = counts if exact is None else [e + c for e, c in zip(exact, counts)]
        counts = [c.astype(np.float32).astype(kind) for c in counts]
        totals = counts if totals is None else [(t + c).astype(kind) for t, c in zip(totals, counts)]
    if totals is None or max(float(np.max(e)) for e in exact) <= EXACT_UP_TO[dtype]:
        return math.nan
    return _score(*(t.astype(np.float64).reshape(1, -1) for t in totals), semantics)


def prefix_values(y, scores, semantics: Semantics, weights=None):
    """sklearn's value over the first k samples, for every k from 1 to n (cumulative counts: one pass)."""
    import numpy as np

    confusion = reference.Confusion(y, scores, semantics, weights)
    cumulative = np.cumsum(confusion.table, axis=0)
    return [confusion._value(cumulative[k - 1]) for k in range(1, len(y) + 1)]


def same(a: float, b: float, within: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= within

