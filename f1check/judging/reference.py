"""The sklearn reference, the same numbers from confusion counts, and the attribution of an error.

Every sklearn call passes ``average``, ``labels`` and ``zero_division``
explicitly: sklearn and Keras disagree on every default (sklearn's
``f1_score`` averages ``binary``, Keras's ``F1Score`` returns per-class values;
without ``labels=range(C)`` an absent class silently changes a macro
average).  :class:`Confusion` computes the same references from per-sample
confusion indicators, so the search can score thousands of subsets without
calling sklearn; tests pin it to sklearn.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.settings import Semantics

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Attribution", "Confusion", "attribute", "batch_mean", "reference", "predicted_labels", "true_labels"]


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
        kwargs = {"average": "binary", "pos_label": 1, "zero_division": semantics.zero_division}
    else:
        labels = [0, 1] if semantics.task == "binary" else list(range(classes))
        kwargs = {"average": semantics.average, "labels": labels, "zero_division": semantics.zero_division}
    if semantics.score == "fbeta":
        kwargs["beta"] = semantics.beta
    return kwargs


def reference(y: np.ndarray, scores: np.ndarray, semantics: Semantics, sample_weight=None) -> float:
    """sklearn's value of ``semantics.score`` for (N, C) labels and scores; ``sample_weight`` (one per sample)
    weighs them, for a weighted subject (``semantics.weighted``) only."""
    truth, predicted = true_labels(y, semantics), predicted_labels(scores, semantics)
    weight = {} if sample_weight is None or not semantics.weighted else {"sample_weight": sample_weight}
    if weight and not float(sum(sample_weight)) > 0:
        # every weight 0: nothing counts (sklearn refuses such weights); what counts sum to is 0/0 everywhere
        return Confusion(y, scores, semantics, sample_weight).all
    key = _asked(truth, predicted, semantics, y.shape[1], weight.get("sample_weight"))
    if key not in _ANSWERS:
        if len(_ANSWERS) >= _ANSWERS_KEPT:
            _ANSWERS.clear()
        _ANSWERS[key] = _sklearn(truth, predicted, semantics, y.shape[1], weight)
    return _ANSWERS[key]


# sklearn's answers by question: the search, the readings and the explanations ask sklearn the same question many
# times (the same batch under several hypotheses); its answer is a function of the labels, the predictions, the
# weights and the arguments, so an answer kept is sklearn's. Bounded: cleared when full.
_ANSWERS: dict = {}
_ANSWERS_KEPT = 50_000


def _asked(truth, predicted, semantics: Semantics, classes: int, sample_weight) -> tuple:
    """What identifies a question to sklearn: the arguments, and a digest of the arrays with their shapes and
    types."""
    import hashlib

    import numpy as np

    digest = hashlib.blake2b(digest_size=20)
    arrays = (truth, predicted) if sample_weight is None else (truth, predicted, np.asarray(sample_weight))
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return semantics, classes, sample_weight is None, digest.digest()


def _sklearn(truth, predicted, semantics: Semantics, classes: int, weight: dict) -> float:
    from sklearn import metrics
    from sklearn.exceptions import UndefinedMetricWarning

    with warnings.catch_warnings():
        # zero_division="warn" is the user's explicit choice; the warning itself is noise here, and
        # matthews_corrcoef (which takes no labels=) warns when a subset holds a single label.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
        if semantics.score == "mcc":
            return float(metrics.matthews_corrcoef(truth, predicted, **weight))
        function = {
            "f1": metrics.f1_score,
            "precision": metrics.precision_score,
            "recall": metrics.recall_score,
            "fbeta": metrics.fbeta_score,
        }[semantics.score]
        return float(function(truth, predicted, **sklearn_kwargs(semantics, classes), **weight))


def macro_of_present_classes(y: np.ndarray, scores: np.ndarray, semantics: Semantics, sample_weight=None) -> float:
    """sklearn's macro average over the labels present in ``y`` or the predictions (``labels=None``): what
    ``f1_score(y, p, average="macro")`` gives on binary labels. NaN for MCC, which has no average."""
    from sklearn import metrics
    from sklearn.exceptions import UndefinedMetricWarning

    if semantics.score == "mcc":
        return math.nan
    function = {"f1": metrics.f1_score, "precision": metrics.precision_score, "recall": metrics.recall_score,
                "fbeta": metrics.fbeta_score}[semantics.score]
    extra = {"beta": semantics.beta} if semantics.score == "fbeta" else {}
    if sample_weight is not None and semantics.weighted and float(sum(sample_weight)) > 0:
        extra["sample_weight"] = sample_weight
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return float(function(true_labels(y, semantics).ravel(), predicted_labels(scores, semantics).ravel(),
                              average="macro", labels=None, zero_division=semantics.zero_division, **extra))


def batch_mean(batches, semantics: Semantics) -> float:
    """The mean of the per-batch reference over ``[(y_batch, scores_batch), ...]``: what a naive metric logs."""
    values = [reference(y, s, semantics) for y, s in batches]
    return sum(values) / len(values) if values else math.nan


# -- the attribution ----------------------------------------------------------------------------------------

TERMS = ("loop", "aggregation", "coverage", "drift")  # the attribution's terms, in the order every writer uses
JUDGED_TERMS = {"seen": TERMS[:2], "total": TERMS}  # judge "seen" bounds reported - f1_seen = loop + aggregation


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

    TERMS = TERMS

    @property
    def total(self) -> float:
        return self.loop + self.aggregation + self.coverage + self.drift

    def dominant(self, judge: str = "total") -> str:
        """The largest term among those the judge bounds (a term that is NaN or infinite first).

        Judge ``seen`` bounds ``reported - f1_seen = loop + aggregation``;
        ``total`` bounds all four terms.
        """
        terms = JUDGED_TERMS[judge]
        magnitudes = {t: getattr(self, t) for t in terms}
        if not math.isfinite(magnitudes["aggregation"]):
            return "aggregation"  # the subject itself computes NaN or infinity
        if not math.isfinite(magnitudes["loop"]):
            return "loop"  # the loop logged NaN or infinity where the subject did not
        return max(terms, key=lambda t: abs(magnitudes[t]) if math.isfinite(magnitudes[t]) else math.inf)


def attribute(reported: float, replayed: float, f1_seen: float, f1_fed_end: float, f1_all: float) -> Attribution:
    return Attribution(
        loop=reported - replayed,
        aggregation=replayed - f1_seen,
        coverage=f1_fed_end - f1_all,
        drift=f1_seen - f1_fed_end,
    )


# -- the same numbers from confusion counts ----------------------------------------------------------------


def zero_division_value(zero_division) -> float:
    """sklearn's value for a 0/0: ``"warn"`` counts as 0."""
    return 0.0 if zero_division == "warn" else float(zero_division)


def _divide(numerator, denominator, zero_division):
    import numpy as np

    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), zero_division)


def _average(values, support, average: str) -> float:
    """sklearn's averaging of per-label values: NaN labels skipped; weights that sum to 0 fall back to the mean."""
    import numpy as np

    keep = ~np.isnan(values)
    if not keep.any():
        return math.nan
    if average == "weighted":
        weights = support[keep]
        if weights.sum() > 0:
            return float(np.average(values[keep], weights=weights))
    return float(values[keep].mean())


def from_counts(tp, fp, fn, samples: float, semantics: Semantics) -> float:
    """sklearn's value of ``semantics.score`` from per-label counts (K,) over ``samples`` samples.

    F-beta is ``(1+b²)·tp / ((1+b²)·tp + b²·fn + fp)`` (F1 at b = 1), precision
    ``tp / (tp+fp)``, recall ``tp / (tp+fn)``, each ``zero_division`` where the
    denominator is 0; ``micro`` sums the counts first.  MCC is sklearn's
    multiclass formula over the labels' true and predicted counts (for binary
    data the labels are the two classes).
    """
    import numpy as np

    tp, fp, fn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn))
    if semantics.score == "mcc":
        true, predicted, correct = tp + fn, tp + fp, tp.sum()
        covariance = correct * samples - true @ predicted
        denominator = (samples**2 - predicted @ predicted) * (samples**2 - true @ true)
        return 0.0 if denominator == 0 else float(covariance / math.sqrt(denominator))
    support = tp + fn
    if semantics.average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    zero = zero_division_value(semantics.zero_division)
    if semantics.score == "precision":
        values = _divide(tp, tp + fp, zero)
    elif semantics.score == "recall":
        values = _divide(tp, tp + fn, zero)
    else:
        b2 = 1.0 if semantics.score == "f1" else semantics.beta**2
        values = _divide((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp, zero)
    return _average(values, support, semantics.average)


class Confusion:
    """Per-sample confusion indicators, so the reference of any subset is a sum and a division.

    Columns are sklearn's labels: the positive class for ``average='binary'``
    (F1, precision, recall, F-beta), classes 0 and 1 for other binary
    averages and for MCC, every class otherwise.  This is the search's
    reference; tests pin it to :func:`reference` on fuzzed data.
    """

    def __init__(self, y, scores, semantics: Semantics, weights=None):
        import numpy as np

        self.semantics = semantics
        weights = None if weights is None or not semantics.weighted else np.asarray(weights, np.float64).reshape(-1, 1)
        truth = true_labels(y, semantics)
        predicted = predicted_labels(scores, semantics)
        if semantics.task == "binary":
            truth, predicted = truth[:, None], predicted[:, None]
            if semantics.average != "binary" or semantics.score == "mcc":
                truth = np.concatenate([1 - truth, truth], axis=1)
                predicted = np.concatenate([1 - predicted, predicted], axis=1)
        elif semantics.task == "multiclass":
            eye = np.eye(y.shape[1], dtype=np.int64)
            truth, predicted = eye[truth], eye[predicted]
        # One (N, 3K + 1) array: [tp | fp | fn | weight], summed in one pass (weighted: each row times its weight)
        table = np.concatenate([truth * predicted, (1 - truth) * predicted, truth * (1 - predicted),
                                np.ones((len(truth), 1), np.int64)], axis=1)
        self.table = table.astype(np.int64) if weights is None else table * weights
        self.labels = truth.shape[1]
        self.total = self.table.sum(axis=0)
        self.all = self._value(self.total)

    def _value(self, total) -> float:
        """The reference from summed rows; the last column is the (weighted) number of samples."""
        k = self.labels
        return from_counts(total[:k], total[k : 2 * k], total[2 * k : 3 * k], total[3 * k], self.semantics)

    def fed(self, order, fed: int) -> float:
        """The reference over the first ``fed`` samples of ``order``: all counts minus the dropped ones' (few)."""
        if fed == len(order):
            return self.all
        if fed >= len(order) - fed:
            total = self.total - self.table[order[fed:]].sum(axis=0)
        else:
            total = self.table[order[:fed]].sum(axis=0)
        return self._value(total)
