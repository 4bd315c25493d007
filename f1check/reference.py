"""The sklearn reference and the attribution of an error.

Every call to ``sklearn.metrics.f1_score`` passes ``average``, ``labels`` and
``zero_division`` explicitly (see STYLE.md: sklearn and Keras disagree on every
default), with the conventions of DESIGN.md §2 fixed by :class:`Semantics`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .options import Semantics

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Attribution", "attribute", "batch_mean_f1", "f1", "predicted_labels", "true_labels"]


def true_labels(y: np.ndarray, semantics: Semantics) -> np.ndarray:
    """Labels in sklearn's form: 1-D for binary and multiclass, indicator for multilabel."""
    import numpy as np

    if semantics.task == "binary":
        return y.reshape(-1).astype(np.int64)
    if semantics.task == "multiclass":
        return np.argmax(y, axis=1)
    return y.astype(np.int64)


def predicted_labels(scores: np.ndarray, semantics: Semantics) -> np.ndarray:
    """Predictions: strict ``score > threshold``, or the first argmax for multiclass."""
    import numpy as np

    if semantics.task == "binary":
        return (scores.reshape(-1) > semantics.threshold).astype(np.int64)
    if semantics.task == "multiclass":
        return np.argmax(scores, axis=1)  # numpy returns the first of tied maxima
    return (scores > semantics.threshold).astype(np.int64)


def sklearn_kwargs(semantics: Semantics, classes: int) -> dict:
    """The explicit sklearn arguments: ``labels=range(C)`` so absent classes still count."""
    if semantics.average == "binary":
        return {"average": "binary", "pos_label": 1, "zero_division": semantics.zero_division}
    labels = [0, 1] if semantics.task == "binary" else list(range(classes))
    return {"average": semantics.average, "labels": labels, "zero_division": semantics.zero_division}


def f1(y: np.ndarray, scores: np.ndarray, semantics: Semantics) -> float:
    """sklearn's F1 of (N, C) labels and scores under ``semantics``."""
    import warnings

    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import f1_score

    with warnings.catch_warnings():
        # zero_division="warn" is the user's explicit choice; the warning itself is noise here.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        value = f1_score(
            true_labels(y, semantics),
            predicted_labels(scores, semantics),
            **sklearn_kwargs(semantics, y.shape[1]),
        )
    return float(value)


def batch_mean_f1(batches, semantics: Semantics) -> float:
    """The mean of per-batch F1 over ``[(y_batch, scores_batch), ...]``: what a naive metric logs."""
    values = [f1(y, s, semantics) for y, s in batches]
    return sum(values) / len(values) if values else math.nan


JUDGED_TERMS = {"seen": ("loop", "aggregation"), "total": ("loop", "aggregation", "coverage", "drift")}


@dataclass(frozen=True)
class Attribution:
    """The total error ``reported - f1_all``, split into terms that add up to it.

    - ``loop = reported - replayed``: the Keras loop logged something other
      than what the subject computes when fed the same batches directly;
    - ``aggregation = replayed - f1_seen``: the subject's own fault;
    - ``drift = f1_seen - f1_fed_end``: predictions on the fed samples moved
      between when they were fed and the end of the epoch (0 in evaluate);
    - ``coverage = f1_fed_end - f1_all``: samples never fed.
    """

    loop: float
    aggregation: float
    coverage: float
    drift: float

    TERMS = ("loop", "aggregation", "coverage", "drift")

    @property
    def total(self) -> float:
        return self.loop + self.aggregation + self.coverage + self.drift

    def dominant(self, judge: str = "total") -> str:
        """The largest term among those the judge bounds (``loop`` if the report is NaN).

        Judge ``seen`` bounds ``reported - f1_seen = loop + aggregation``;
        ``total`` bounds all four terms.
        """
        terms = JUDGED_TERMS[judge]
        magnitudes = {t: getattr(self, t) for t in terms}
        if any(math.isnan(v) for v in magnitudes.values()):
            return "loop"
        return max(terms, key=lambda t: abs(magnitudes[t]))

    def to_json(self) -> dict:
        return {t: _json_float(getattr(self, t)) for t in self.TERMS}


def attribute(reported: float, replayed: float, f1_seen: float, f1_fed_end: float, f1_all: float) -> Attribution:
    return Attribution(
        loop=reported - replayed,
        aggregation=replayed - f1_seen,
        coverage=f1_fed_end - f1_all,
        drift=f1_seen - f1_fed_end,
    )


def _json_float(value: float):
    return None if value is None or math.isnan(value) or math.isinf(value) else round(float(value), 10)


def zero_division_value(zero_division) -> float:
    """sklearn's value for a 0/0: ``"warn"`` counts as 0."""
    return 0.0 if zero_division == "warn" else float(zero_division)


def f1_from_counts(tp, fp, fn, semantics: Semantics) -> float:
    """sklearn's F1 from per-label counts (K,), averaged as sklearn averages.

    ``F1 = 2·tp / (2·tp + fp + fn)`` per label, ``zero_division`` where the
    denominator is 0; ``micro`` sums the counts first; ``macro`` and
    ``weighted`` average the labels, skipping NaN and falling back to the plain
    mean when every weight is 0 (sklearn's ``_nanaverage``).
    """
    import numpy as np

    tp, fp, fn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn))
    if semantics.average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    denominator = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1), zero_division_value(semantics.zero_division))
    keep = ~np.isnan(scores)
    if not keep.any():
        return math.nan
    if semantics.average == "weighted":
        weights = (tp + fn)[keep]
        if weights.sum() > 0:
            return float(np.average(scores[keep], weights=weights))
    return float(scores[keep].mean())


class Confusion:
    """Per-sample confusion indicators, so F1 of any subset is a sum and a division.

    Columns are sklearn's labels: the positive class for ``average='binary'``,
    classes 0 and 1 for other binary averages, every class otherwise.  This is
    the fast path's reference; tests pin it to :func:`f1` on fuzzed data.
    """

    def __init__(self, y, scores, semantics: Semantics):
        import numpy as np

        self.semantics = semantics
        truth = true_labels(y, semantics)
        predicted = predicted_labels(scores, semantics)
        if semantics.task == "binary":
            truth, predicted = truth[:, None], predicted[:, None]
            if semantics.average != "binary":
                truth = np.concatenate([1 - truth, truth], axis=1)
                predicted = np.concatenate([1 - predicted, predicted], axis=1)
        elif semantics.task == "multiclass":
            eye = np.eye(y.shape[1], dtype=np.int64)
            truth, predicted = eye[truth], eye[predicted]
        # One (N, 3K) array: [tp | fp | fn], summed in one pass.
        self.table = np.concatenate(
            [truth * predicted, (1 - truth) * predicted, truth * (1 - predicted)], axis=1
        ).astype(np.int64)
        self.labels = truth.shape[1]
        self.total = self.table.sum(axis=0)
        k = self.labels
        self.f1_all = f1_from_counts(self.total[:k], self.total[k : 2 * k], self.total[2 * k :], semantics)

    def counts(self, index=None):
        """(tp, fp, fn) per label over the samples ``index`` (all if None)."""
        total = self.total if index is None else self.table[index].sum(axis=0)
        k = self.labels
        return total[:k], total[k : 2 * k], total[2 * k :]

    def f1(self, index=None) -> float:
        """F1 of the samples ``index`` (all if None)."""
        if index is None:
            return self.f1_all
        return f1_from_counts(*self.counts(index), self.semantics)

    def f1_fed(self, order, fed: int) -> float:
        """F1 of the first ``fed`` samples of ``order``: all counts minus the dropped ones' (few)."""
        if fed == len(order):
            return self.f1_all
        if fed >= len(order) - fed:
            total = self.total - self.table[order[fed:]].sum(axis=0)
        else:
            total = self.table[order[:fed]].sum(axis=0)
        k = self.labels
        return f1_from_counts(total[:k], total[k : 2 * k], total[2 * k :], self.semantics)
