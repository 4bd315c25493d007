"""Readings of what users mix up: another of sklearn's averages, weights taken another way, a Kaggle snippet.

:mod:`f1check.judging.readings` holds the nearby quantities every score has;
these are the ones a weighted or binary target's subject computes when its
author took sklearn's ``average="weighted"`` (or ``"micro"``) for the target's,
clipped the weights to [0, 1], divided them by their batch's sum, multiplied
(b, 1) weights against (b,) counts (an outer product: every count of a batch
times the batch's total weight), or copied the Kaggle F-beta that counts from
rounded differences.  Several of them meet other readings on some data (on
balanced labels the weighted average is the macro one; on one batch broadcast
weights cancel): :mod:`f1check.search.discriminate` tells them apart.
"""

from __future__ import annotations

from dataclasses import replace

from ..core.settings import Semantics
from ..core.weights import Batch, weight_of
from . import reference
from .readings import Reading, _hard, _score

__all__ = ["mixups"]

FIX_WEIGHTS = "multiply every count by sample_weight as given (tp += sum(w * y_true * y_pred), w of shape (b,))"


def mixups(semantics: Semantics) -> list[Reading]:
    """The mix-ups that apply to the target: its task, average, score and whether it is weighted."""
    found = _averages(semantics)
    if semantics.weighted:
        found += _weights(semantics)
    if semantics.task == "binary" and semantics.threshold == 0.5 and semantics.score in ("f1", "fbeta"):
        found.append(_rounded_differences(semantics))
    return found


def _averages(semantics: Semantics) -> list[Reading]:
    """sklearn's other averages where the target is binary (the positive class's) or macro."""
    if semantics.score == "mcc" or semantics.average not in ("binary", "macro"):
        return []
    found = []
    for average, says in (("weighted", "each class's value weighed by its support (sklearn's average='weighted')"),
                          ("micro", "counts pooled over the classes (sklearn's average='micro')")):
        if semantics.task == "binary" and average == "micro" and semantics.score != "f1":
            continue  # binary micro precision, recall and F-beta all equal accuracy; F1's name says it best
        other = replace(semantics, average=average)
        found.append(Reading(
            f"{average}-average", f"averages over both classes, {says}",
            f"if the {average} average is what you mean, set the target's average = \"{average}\"",
            lambda y, s, w=None, other=other: reference.reference(y, s, other, w), setting={"average": average}))
    return found


def _weights(semantics: Semantics) -> list[Reading]:
    """Weights clipped to [0, 1], normalised by their batch's sum, or broadcast into an outer product."""
    import numpy as np

    def clipped(y, s, w=None):
        return reference.reference(y, s, semantics, None if w is None else np.clip(np.asarray(w, np.float64), 0, 1))

    def per_batch(batches, scale):
        counts = None
        for batch in batches:
            w = weight_of(batch)
            indicators = _hard(batch[0], batch[1], semantics)
            factor = np.ones((len(batch[0]), 1)) if w is None else scale(np.asarray(w, np.float64).reshape(-1, 1))
            summed = [(a * factor).sum(0, keepdims=True) for a in indicators]
            counts = summed if counts is None else [c + a for c, a in zip(counts, summed)]
        return _score(*counts, semantics)

    def normalised(w):
        total = w.sum()
        return w / total if total > 0 else np.zeros_like(w)

    def broadcast(w):
        return np.full_like(w, w.sum())

    return [
        Reading("clipped-weights", "clips its sample weights to [0, 1] (a weight of 3 counts as 1)",
                f"do not clip the weights: {FIX_WEIGHTS}", clipped),
        Reading("weights-normalised-per-batch", "divides the weights by their batch's sum (every batch weighs 1 "
                "in all, whatever its size and weights)", f"do not normalise the weights per batch: {FIX_WEIGHTS}",
                lambda y, s, w=None: per_batch([Batch(y, s, w)], normalised),
                batched=lambda batches: per_batch(batches, normalised)),
        Reading("weights-broadcast", "multiplies (b, 1) weights against (b,) counts: the (b, b) outer product summed"
                " is every count of a batch times the batch's total weight", f"reshape the weights to (b,) or the "
                "labels and predictions to (b, 1) before multiplying: " + FIX_WEIGHTS,
                lambda y, s, w=None: per_batch([Batch(y, s, w)], broadcast),
                batched=lambda batches: per_batch(batches, broadcast)),
    ]


def _rounded_differences(semantics: Semantics) -> Reading:
    """The Kaggle F-beta: ``tp = sum(round(clip(y * p)))``, ``fp = sum(round(clip(p - y)))``,
    ``fn = sum(round(clip(y - p)))``, ``precision = (tp + eps) / (tp + fp + eps)``, recall likewise, then
    ``(1 + b²) p r / (b² p + r + eps)``.  A positive scored exactly 0.5 is neither a true positive
    (round(0.5) = 0) nor a false negative (round(1 - 0.5) = 0); precision and recall are 1 where nothing was
    predicted, or nothing is, positive."""
    import numpy as np

    def value(y, s, w=None):
        tp, fp, fn = (a.sum() for a in _hard(y, s, semantics))
        fn -= float(np.sum((np.asarray(y).reshape(-1) == 1) & (np.asarray(s).reshape(-1) == np.float32(0.5))))
        precision = tp / (tp + fp) if tp + fp > 0 else 1.0
        recall = tp / (tp + fn) if tp + fn > 0 else 1.0
        b2 = 1.0 if semantics.beta is None else semantics.beta ** 2
        denominator = b2 * precision + recall
        return float((1 + b2) * precision * recall / denominator) if denominator > 0 else 0.0

    return Reading(
        "rounded-differences", "counts as the Kaggle F-beta does, from rounded differences (fn = sum(round(clip(y_true"
        " - y_pred, 0, 1)))): a positive scored exactly 0.5 is neither a true positive nor a false negative, and an "
        "epsilon on tp makes precision and recall 1 where their denominators are 0",
        "count from the thresholded predictions (predicted = y_pred > 0.5; fn = sum(y_true * (1 - predicted))) and "
        "guard the denominators with the epsilon alone (tp / (tp + fp + epsilon))", value)

