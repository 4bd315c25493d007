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
