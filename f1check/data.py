"""Labels and scores: validation, the worked example, and synthetic datasets.

Data is always handed to Keras as ``(N, C)`` float32: binary is ``(N, 1)``
(1-D input is reshaped), multiclass one-hot ``(N, C)``, multilabel ``(N, C)``
of 0/1.  Scores are probabilities in ``[0, 1]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.errors import DataError
from .core.settings import Semantics

if TYPE_CHECKING:
    import numpy as np

__all__ = ["validate", "worked_example", "synthetic"]

# The worked example of the README: three batches of 100, counts (TN, FN, FP, TP) per batch.
WORKED_EXAMPLE_COUNTS = ((50, 10, 10, 30), (90, 9, 0, 1), (70, 0, 0, 30))


def validate(y_true, scores, semantics: Semantics) -> tuple[np.ndarray, np.ndarray]:
    """Check labels and scores against the task; return them as ``(y_true, scores)``, each (N, C) float32."""
    import numpy as np

    try:
        y = np.asarray(y_true, dtype=np.float64)
        s = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"labels and scores must be numeric arrays: {exc}.") from None
    task = semantics.task
    if task == "binary":
        if y.ndim == 1:
            y = y[:, None]
        if s.ndim == 1:
            s = s[:, None]
    elif y.ndim == 1:
        hint = (
            "convert class indices with keras.utils.to_categorical(y, num_classes)"
            if task == "multiclass"
            else "give one 0/1 column per label"
        )
        raise DataError(f"{task} labels must be a 2-D (N, C) array, got shape {y.shape}: {hint}.")
    if y.ndim != 2 or s.ndim != 2:
        raise DataError(f"labels and scores must be (N,) or (N, C) arrays, got shapes {y.shape} and {s.shape}.")
    if y.shape != s.shape:
        raise DataError(
            f"labels have shape {y.shape} but scores have shape {s.shape}: give one score per label "
            "(for multiclass, one probability per class)."
        )
    n, c = y.shape
    if n == 0:
        raise DataError("the data is empty: give at least one sample.")
    if task == "binary" and c != 1:
        raise DataError(
            f"binary data has one column, got {c}: for one-hot classes use task='multiclass', "
            "for independent labels task='multilabel'."
        )
    if task != "binary" and c < 2:
        raise DataError(f"{task} data needs at least 2 columns, got {c}: for a single label use task='binary'.")
    if semantics.classes is not None and semantics.classes != c:
        raise DataError(f"classes={semantics.classes} but the data has {c} columns: make them agree.")
    if not np.all(np.isfinite(y)) or not np.all((y == 0) | (y == 1)):
        bad = y[~((y == 0) | (y == 1))].ravel()[0]
        raise DataError(f"labels must be 0 or 1, found {float(bad):g}: give class membership as 0/1, not scores or class ids.")
    if task == "multiclass":
        rows = y.sum(axis=1)
        if not np.all(rows == 1):
            row = int(np.flatnonzero(rows != 1)[0])
            raise DataError(
                f"multiclass labels must be one-hot, but row {row} has {int(rows[row])} ones: "
                "each sample belongs to exactly one class (use task='multilabel' for several)."
            )
    if np.isnan(s).any():
        raise DataError(f"scores contain NaN (first at row {int(np.flatnonzero(np.isnan(s).any(axis=1))[0])}).")
    if s.min() < 0 or s.max() > 1:
        raise DataError(
            f"scores must be probabilities in [0, 1], found {float(s.min() if s.min() < 0 else s.max()):g}: "
            "apply the sigmoid/softmax first (or pass probabilities, not logits)."
        )
    return y.astype(np.float32), s.astype(np.float32)


def worked_example() -> tuple[np.ndarray, np.ndarray]:
    """The 300 samples of the README's worked example, in three batches of 100 (identity order).

    Per batch, samples come as TN, FN, FP, TP runs with scores 0.1, 0.3, 0.7
    and 0.9, so round/threshold-at-0.5 predictions give exactly the table's
    counts.  Mean of per-batch F1 is 0.643939...; F1 of all 300 is 0.807947...
    """
    import numpy as np

    labels, scores = [], []
    for tn, fn, fp, tp in WORKED_EXAMPLE_COUNTS:
        labels += [0] * tn + [1] * fn + [0] * fp + [1] * tp
        scores += [0.1] * tn + [0.3] * fn + [0.7] * fp + [0.9] * tp
    return (
        np.asarray(labels, dtype=np.float32)[:, None],
        np.asarray(scores, dtype=np.float32)[:, None],
    )


def synthetic(
    n: int, semantics: Semantics, rng: np.random.Generator, positive_rate: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Random labels and scores that a classifier of middling skill would give.

    Scores are snapped to a grid of tenths a fifth of the time, so exact
    threshold ties (0.5), 0 and 1 occur.
    """
    import numpy as np

    c = semantics.columns
    rate = rng.choice([0.0, 0.05, 0.3, 0.5, 0.9, 1.0]) if positive_rate is None else positive_rate
    if semantics.task == "multiclass":
        cls = rng.integers(0, c, size=n)
        y = np.eye(c, dtype=np.float32)[cls]
        logits = rng.normal(size=(n, c)) + 1.5 * y
        s = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    else:
        y = (rng.random((n, c)) < rate).astype(np.float32)
        s = np.clip(0.5 + (y - 0.5) * rng.uniform(-0.4, 1.0, size=(n, c)), 0.0, 1.0)
    snap = rng.random((n, 1)) < 0.2
    s = np.where(snap, np.round(s * 10) / 10, s)
    if semantics.task == "multiclass":
        s = s / np.maximum(s.sum(axis=1, keepdims=True), 1e-12)
    return y.astype(np.float32), np.clip(s, 0.0, 1.0).astype(np.float32)


def learnable(n: int, features: int, semantics: Semantics, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: Gaussian features and labels from a noisy linear rule a small model can learn.

    Binary and multilabel labels are Bernoulli draws of ``sigmoid(x @ w)``
    per column; multiclass labels are the argmax of ``x @ W`` plus Gumbel
    noise, one-hot.
    """
    import numpy as np

    x = rng.normal(size=(n, features)).astype(np.float32)
    columns = semantics.columns
    weights = rng.normal(size=(features, columns)) * 1.5
    logits = x @ weights
    if semantics.task == "multiclass":
        noisy = logits + rng.gumbel(size=logits.shape)
        y = np.eye(columns, dtype=np.float32)[np.argmax(noisy, axis=1)]
    else:
        y = (rng.random(logits.shape) < 1 / (1 + np.exp(-(logits - 0.5)))).astype(np.float32)
    return x, y
