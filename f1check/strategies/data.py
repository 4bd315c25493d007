"""Strategies of ``(y_true, scores)``: binary, multiclass (softmax rows by default) and multilabel data.

Multiclass scores are softmax rows unless asked otherwise (rows sum to 1, no
exact tie between the top classes, as a softmax head essentially never
produces one): ``scores="softmax-ties"`` adds exact ties between the top two
classes (the reference takes the first argmax), ``scores="independent"``
draws each class's score in [0, 1] on its own, as separate sigmoid heads
would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.settings import MULTICLASS_SCORES, CheckSettings
from .validate import InvalidStrategyArgument, classes_strategy, sizes, threshold_value

SMALL = 24  # datasets up to this size are drawn element by element (and shrink that way)
LARGEST = 20_000
# Parameters of the large draws: rates from none to all positive, tie fractions, layouts.
RATES = (0.0, 0.001, 0.01, 0.1, 0.3, 0.5, 0.9, 0.99, 1.0)
TIES = (0.0, 0.01, 0.1, 0.5)
LAYOUTS = ("shuffled", "positives last", "positives first")


def _size_strategy(min_size: int, max_size: int):
    """``(small, large)``: the bounds of element-wise draws, and log-uniform large sizes."""
    from hypothesis import strategies as st

    small = (min_size, min(max_size, SMALL)) if min_size <= SMALL else None
    if max_size <= SMALL:
        return small, None
    # Log-uniform from min_size: the parametric branch also shrinks smoothly down to a few samples.
    exponents = st.integers(math.floor(math.log2(min_size)), math.ceil(math.log2(max_size)))
    large = exponents.flatmap(lambda e: st.integers(max(min_size, 2 ** (e - 1)), min(max_size, max(min_size, 2**e))))
    return small, large


def _samples(sample, bounds):
    from hypothesis import strategies as st

    return st.lists(sample, min_size=bounds[0], max_size=bounds[1])


def _score(threshold: float):
    """Scores that shrink to 0 and hit the threshold, 0 and 1 often."""
    from hypothesis import strategies as st

    return st.one_of(st.sampled_from(sorted({0.0, threshold, 1.0})), st.floats(0.0, 1.0, width=32))


def _as_columns(values, columns: int):
    import numpy as np

    return np.asarray(values, dtype=np.float32).reshape(-1, columns)


def _unzip(columns: int):
    """``[(label, score), ...]`` to ``(y, scores)`` arrays of ``columns`` columns."""

    def unzip(samples):
        return _as_columns([s[0] for s in samples], columns), _as_columns([s[1] for s in samples], columns)

    return unzip


def _streams(seed: int, count: int):
    """Independent generators, so that each array's first k rows do not depend on n:
    shrinking n keeps a prefix of the same data."""
    import numpy as np

    return [np.random.default_rng([seed, k]) for k in range(count)]


@dataclass(frozen=True)
class _IndependentColumns:
    """The parameters of a large draw of 0/1 labels per column, and scores a classifier of the given skill would give."""

    n: int
    columns: int
    rate: float
    skill: float
    ties: float
    layout: str
    seed: int
    threshold: float

    def arrays(self):
        return _independent_columns(self)


def _independent_columns(draw: _IndependentColumns):
    """0/1 labels per column and scores a classifier of the given skill would give."""
    import numpy as np

    n, columns, rate, skill, ties = draw.n, draw.columns, draw.rate, draw.skill, draw.ties
    layout, threshold = draw.layout, draw.threshold
    labels, noise, tie, edge = (g.random((n, columns)) for g in _streams(draw.seed, 4))
    y = (labels < rate).astype(np.float32)
    if layout != "shuffled":  # positives bunched, so whole batches have none
        y = np.sort(y, axis=0)
        if layout == "positives first":
            y = y[::-1]
    s = np.where(y == 1, 0.5 + 0.5 * skill * noise + 0.5 * (1 - skill) * (noise - 0.5), (1 - skill) * noise)
    s = np.where(tie < ties, threshold, np.clip(s, 0.0, 1.0))
    s = np.where(edge < 0.02, 0.0, np.where(edge > 0.98, 1.0, s))
    return y, s.astype(np.float32)


def binary_data(*, min_size: int = 1, max_size: int = LARGEST, threshold: float = 0.5):
    """Binary data: ``(y_true, scores)`` as ``(N, 1)`` float32 arrays.

    Args:
        min_size: the fewest samples.
        max_size: the most samples.
        threshold: the threshold scores are drawn exactly at, often.

    Returns:
        A strategy of ``(y_true, scores)`` pairs.
    """
    from hypothesis import strategies as st

    min_size, max_size = sizes(min_size, max_size)
    threshold = threshold_value(threshold)
    small, large = _size_strategy(min_size, max_size)
    forms = []
    if small is not None:
        forms.append(_samples(st.tuples(st.integers(0, 1), _score(threshold)), small).map(_unzip(1)))
    if large is not None:
        forms.append(st.builds(
            _IndependentColumns, large, st.just(1), st.sampled_from(RATES), st.floats(0, 1),
            st.sampled_from(TIES), st.sampled_from(LAYOUTS), st.integers(0, 2**32 - 1), st.just(threshold),
        ).map(_IndependentColumns.arrays))
    return st.one_of(forms)


def multilabel_data(*, classes: int | None = None, min_size: int = 1, max_size: int = LARGEST, threshold: float = 0.5):
    """Multilabel data: ``(y_true, scores)`` as ``(N, C)`` float32 arrays of independent 0/1 labels.

    Args:
        classes: the number of labels (None: 2 to 5, drawn).
        min_size, max_size: bounds on the number of samples.
        threshold: the threshold scores are drawn exactly at, often.
    """
    from hypothesis import strategies as st

    min_size, max_size = sizes(min_size, max_size)
    threshold = threshold_value(threshold)
    small, large = _size_strategy(min_size, max_size)
    columns = classes_strategy(classes)
    forms = []
    if small is not None:
        forms.append(columns.flatmap(lambda c: _samples(
            st.tuples(st.lists(st.integers(0, 1), min_size=c, max_size=c),
                      st.lists(_score(threshold), min_size=c, max_size=c)),
            small,
        ).map(_unzip(c))))
    if large is not None:
        forms.append(st.builds(
            _IndependentColumns, large, columns, st.sampled_from(RATES), st.floats(0, 1),
            st.sampled_from(TIES), st.sampled_from(LAYOUTS), st.integers(0, 2**32 - 1), st.just(threshold),
        ).map(_IndependentColumns.arrays))
    return st.one_of(forms)


def _one_hot(classes_drawn, columns: int):
    import numpy as np

    return np.eye(columns, dtype=np.float32)[np.asarray(classes_drawn, dtype=np.int64)]


def _softmax_rows(logits, distinct: bool):
    """Softmax of integer logits; ``distinct`` adds 0.01 per class so no two classes ever tie exactly."""
    import numpy as np

    logits = np.asarray(logits, np.float64)
    if distinct:
        logits = logits + 0.01 * np.arange(logits.shape[1])
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


@dataclass(frozen=True)
class _LargeMulticlass:
    """The parameters of a large multiclass draw: one-hot labels over ``present`` classes, scores over ``predicted``."""

    n: int
    columns: int
    present: int
    predicted: int
    skill: float
    ties: float
    seed: int
    kind: str

    def arrays(self):
        return _multiclass_large(self)


def _multiclass_large(draw: _LargeMulticlass):
    """One-hot labels over ``present`` classes; scores over ``predicted`` ones (softmax rows unless independent)."""
    import numpy as np

    n, columns, present, predicted, skill = draw.n, draw.columns, draw.present, draw.predicted, draw.skill
    ties, kind = draw.ties, draw.kind
    labels, noise, tie = _streams(draw.seed, 3)
    present = max(1, min(present, columns))
    predicted = max(1, min(predicted, columns))
    truth = labels.integers(0, present, size=n)
    y = _one_hot(truth, columns)
    if kind == "independent":
        s = noise.random((n, columns))
        s[np.arange(n), truth] = np.clip(s[np.arange(n), truth] + skill, 0, 1)
        return y, s.astype(np.float32)
    logits = noise.normal(size=(n, columns))
    logits[:, predicted:] = -np.inf
    logits[np.arange(n), truth] += 3.0 * skill * (truth < predicted)
    s = np.exp(logits - logits.max(axis=1, keepdims=True))
    s = s / s.sum(axis=1, keepdims=True)
    tied = np.flatnonzero(tie.random(n) < (ties if kind == "softmax-ties" else 0.0))
    if predicted >= 2 and len(tied):
        top_two = np.argsort(-s[tied], axis=1)[:, :2]
        s[tied, top_two[:, 1]] = s[tied, top_two[:, 0]]  # an exact argmax tie
    return y, np.clip(s, 0.0, 1.0).astype(np.float32)


def multiclass_data(*, classes: int | None = None, min_size: int = 1, max_size: int = LARGEST, scores: str = "softmax"):
    """Multiclass data: one-hot ``(N, C)`` labels and ``(N, C)`` scores.

    Args:
        classes: the number of classes (None: 2 to 5, drawn).
        min_size, max_size: bounds on the number of samples.
        scores: ``"softmax"`` (rows of a softmax: sum 1, no exact tie between the top classes),
            ``"softmax-ties"`` (softmax rows whose top two classes sometimes tie exactly) or
            ``"independent"`` (each class's score in [0, 1] on its own).

    Returns:
        A strategy of ``(y_true, scores)`` pairs.
    """
    from hypothesis import strategies as st

    min_size, max_size = sizes(min_size, max_size)
    if scores not in MULTICLASS_SCORES:
        raise InvalidStrategyArgument(f"scores={scores!r} must be one of {', '.join(map(repr, MULTICLASS_SCORES))}.")
    small, large = _size_strategy(min_size, max_size)
    columns = classes_strategy(classes)
    forms = []
    if small is not None:
        forms.append(columns.flatmap(lambda c: _small_multiclass(c, small, scores)))
    if large is not None:
        forms.append(st.tuples(large, columns).flatmap(lambda nc: st.builds(
            _LargeMulticlass, st.just(nc[0]), st.just(nc[1]), st.integers(1, nc[1]), st.integers(1, nc[1]),
            st.floats(0, 1), st.sampled_from(TIES), st.integers(0, 2**32 - 1), st.just(scores),
        ).map(_LargeMulticlass.arrays)))
    return st.one_of(forms)


def _small_multiclass(columns: int, bounds, kind: str):
    from hypothesis import strategies as st

    if kind == "independent":
        row = st.lists(st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.floats(0.0, 1.0, width=32)),
                       min_size=columns, max_size=columns)
        return _samples(st.tuples(st.integers(0, columns - 1), row), bounds).map(
            lambda rows: (_one_hot([r[0] for r in rows], columns), _as_columns([r[1] for r in rows], columns)))
    logits = st.lists(st.integers(0, 6), min_size=columns, max_size=columns)
    return _samples(st.tuples(st.integers(0, columns - 1), logits), bounds).map(
        lambda rows: (_one_hot([r[0] for r in rows], columns),
                      _softmax_rows([r[1] for r in rows], distinct=kind == "softmax").reshape(-1, columns)))


def data_for(settings: CheckSettings, *, min_size: int = 1, max_size: int = LARGEST):
    """The data strategy of a check's task."""
    sem = settings.semantics
    if sem.task == "binary":
        return binary_data(min_size=min_size, max_size=max_size, threshold=sem.threshold)
    classes = sem.columns
    if sem.task == "multiclass":
        return multiclass_data(classes=classes, min_size=min_size, max_size=max_size, scores=settings.multiclass_scores)
    return multilabel_data(classes=classes, min_size=min_size, max_size=max_size, threshold=sem.threshold)
