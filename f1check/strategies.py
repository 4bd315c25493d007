"""Hypothesis strategies over the data and partitions an F1 check is fuzzed with.

Every argument is validated when the strategy is built, not when it draws.
Small datasets are drawn label by label and score by score, so a failure
shrinks to a handful of samples; large ones (up to realistic validation sets)
are drawn as a few parameters and a seed, so drawing 20,000 samples costs one
numpy call.  Both kinds include the awkward cases: scores of exactly the
threshold, 0 and 1, no positives at all, positives bunched so that whole
batches have none, classes absent from labels and predictions, argmax ties.
"""

from __future__ import annotations

import math

import hypothesis.errors
import numpy as np
from hypothesis import strategies as st

from .errors import ConfigError
from .partitions import Partition

__all__ = [
    "InvalidStrategyArgument",
    "binary_data",
    "multiclass_data",
    "multilabel_data",
    "partitions",
    "uniform_partitions",
]

SMALL = 24  # datasets up to this size are drawn element by element (and shrink that way)
LARGEST = 20_000


class InvalidStrategyArgument(ConfigError, hypothesis.errors.InvalidArgument):
    """A strategy argument that cannot work; raised when the strategy is built."""


def _whole(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidStrategyArgument(f"{name}={value!r} must be a whole number >= {minimum}.")
    return int(value)


def _sizes(min_size, max_size) -> tuple[int, int]:
    min_size = _whole("min_size", min_size, 1)
    max_size = _whole("max_size", max_size, 1)
    if min_size > max_size:
        raise InvalidStrategyArgument(f"min_size={min_size} is larger than max_size={max_size}.")
    return min_size, max_size


def _threshold(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise InvalidStrategyArgument(f"threshold={value!r} must be a number in [0, 1].")
    return float(value)


def _classes(value, minimum: int = 2):
    if value is None:
        return st.integers(minimum, 5)
    return st.just(_whole("classes", value, minimum))


def partitions(
    n: int,
    *,
    min_batches: int = 1,
    max_batches: int | None = None,
    max_batch_size: int | None = None,
    drop: bool | None = None,
    shuffle: bool = True,
) -> st.SearchStrategy[Partition]:
    """Partitions of ``n`` samples.

    Two forms: uneven batches as sorted cut points (they shrink to
    ``[1, n-1]``, where a sequential draw does not), and the floor-steps form
    of ``fit_generator`` (a batch size ``bs``, ``n // bs`` batches fed,
    ``n % bs`` dropped).  ``drop=False`` draws only the first, ``drop=True``
    only the second, ``None`` both.  With ``shuffle`` the order is a seeded
    permutation that shrinks to the identity.
    """
    n = _whole("n", n, 1)
    min_batches = _whole("min_batches", min_batches, 1)
    if max_batches is not None:
        max_batches = _whole("max_batches", max_batches, 1)
        if min_batches > max_batches:
            raise InvalidStrategyArgument(f"min_batches={min_batches} is larger than max_batches={max_batches}.")
    if max_batch_size is not None:
        max_batch_size = _whole("max_batch_size", max_batch_size, 1)
    if drop not in (None, True, False):
        raise InvalidStrategyArgument(f"drop={drop!r} must be True, False or None (both forms).")
    if min_batches > n:
        raise InvalidStrategyArgument(f"min_batches={min_batches} is larger than n={n}: every batch holds a sample.")
    most = min(n, max_batches or n)
    orders = st.integers(0, 2**32 - 1).map(_order_seed) if shuffle and n > 1 else st.none()

    forms = []
    if drop is not True:
        needed = max(min_batches, math.ceil(n / max_batch_size) if max_batch_size else 1)
        if needed > most:
            if drop is False:
                raise InvalidStrategyArgument(
                    f"n={n} samples do not fit in max_batches={max_batches} batches of at most "
                    f"max_batch_size={max_batch_size}."
                )
        else:
            cuts = st.sets(st.integers(1, n - 1), min_size=needed - 1, max_size=most - 1) if n > 1 else st.just(set())
            if max_batch_size:
                cuts = cuts.filter(lambda c: max(_diffs(n, c)) <= max_batch_size)
            forms.append(st.builds(_uneven, st.just(n), cuts, orders))
    if drop is not False:
        # steps = n // bs must lie in [min_batches, max_batches]: bs in [n // (max+1) + 1, n // min].
        smallest = n // (max_batches + 1) + 1 if max_batches else 1
        largest = min(n // min_batches, max_batch_size or n)
        if smallest <= largest:
            # Drawn as a distance below the largest batch size, so it shrinks to one full batch.
            sizes = st.integers(0, largest - smallest).map(lambda below: largest - below)
            forms.append(st.builds(_floor, st.just(n), sizes, orders))
        elif drop is True:
            raise InvalidStrategyArgument(
                f"no batch size gives between min_batches={min_batches} and max_batches={max_batches} full "
                f"batches of n={n} samples (with max_batch_size={max_batch_size})."
            )
    if not forms:
        raise InvalidStrategyArgument(f"no partition of n={n} satisfies these bounds.")
    return st.one_of(forms)


def uniform_partitions(n: int, *, drop: bool = False, max_batches: int | None = None, shuffle: bool = True):
    """Equal batches of a drawn size and what is left: as ``numpy`` arrays and ``tf.data`` cut them.

    With ``drop`` the rest is never fed (``drop_remainder=True``); without,
    it is the smaller last batch.  Shrinks to one batch of all ``n``.
    """
    n = _whole("n", n, 1)
    if max_batches is not None:
        max_batches = _whole("max_batches", max_batches, 1)
    smallest = max(1, math.ceil(n / (max_batches + (1 if drop else 0)))) if max_batches else 1
    if drop and max_batches:
        smallest = n // (max_batches + 1) + 1
    orders = st.integers(0, 2**32 - 1).map(_order_seed) if shuffle and n > 1 else st.none()
    sizes = st.integers(0, n - smallest).map(lambda below: n - below)
    return st.builds(_uniform, st.just(n), sizes, st.just(bool(drop)), orders)


def _uniform(n: int, batch_size: int, drop: bool, order_seed) -> Partition:
    rest = n % batch_size
    sizes = [batch_size] * (n // batch_size) + ([rest] if rest and not drop else [])
    return Partition(sizes, dropped=rest if drop else 0, order_seed=order_seed)


def _order_seed(value: int) -> int | None:
    """Odd values seed a permutation, even ones keep the identity: one draw, shrinking to 0 = identity."""
    return value if value % 2 else None


def _diffs(n: int, cuts) -> list[int]:
    bounds = [0, *sorted(cuts), n]
    return [b - a for a, b in zip(bounds[:-1], bounds[1:])]


def _uneven(n: int, cuts, order_seed) -> Partition:
    return Partition(_diffs(n, cuts), order_seed=order_seed)


def _floor(n: int, batch_size: int, order_seed) -> Partition:
    return Partition([batch_size] * (n // batch_size), dropped=n % batch_size, order_seed=order_seed)


def _size_strategy(min_size: int, max_size: int):
    """``(small, large)``: the bounds of element-wise draws, and log-uniform large sizes.

    Small datasets are lists of samples, which hypothesis shrinks by deleting
    samples; large ones are a size and parameters.
    """
    small = (min_size, min(max_size, SMALL)) if min_size <= SMALL else None
    if max_size <= SMALL:
        return small, None
    # Log-uniform from min_size: the parametric branch also shrinks smoothly down to a few samples.
    exponents = st.integers(math.floor(math.log2(min_size)), math.ceil(math.log2(max_size)))
    large = exponents.flatmap(lambda e: st.integers(max(min_size, 2 ** (e - 1)), min(max_size, max(min_size, 2**e))))
    return small, large


def _samples(sample, bounds):
    return st.lists(sample, min_size=bounds[0], max_size=bounds[1])


def _score(threshold: float):
    """Scores that shrink to 0 and hit the threshold, 0 and 1 often."""
    return st.one_of(
        st.sampled_from(sorted({0.0, threshold, 1.0})),
        st.floats(0.0, 1.0, width=32),
    )


def _as_columns(values, columns: int) -> np.ndarray:
    return np.asarray(values, dtype=np.float32).reshape(-1, columns)


def _unzip(columns: int):
    """``[(label, score), ...]`` to ``(y, scores)`` arrays of ``columns`` columns."""

    def unzip(samples):
        return _as_columns([s[0] for s in samples], columns), _as_columns([s[1] for s in samples], columns)

    return unzip


# Parameters of the large draws: rates from none to all positive, tie fractions, layouts.
RATES = (0.0, 0.001, 0.01, 0.1, 0.3, 0.5, 0.9, 0.99, 1.0)
TIES = (0.0, 0.01, 0.1, 0.5)
LAYOUTS = ("shuffled", "positives last", "positives first")


def _streams(seed: int, count: int):
    """Independent generators, so that each array's first k rows do not depend on n:
    shrinking n keeps a prefix of the same data."""
    return [np.random.default_rng([seed, k]) for k in range(count)]


def _independent_columns(n, columns, rate, skill, ties, layout, seed, threshold):
    """0/1 labels per column and scores a classifier of the given skill would give."""
    labels, noise, tie, edge = (g.random((n, columns)) for g in _streams(seed, 4))
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
    """``(y_true, scores)`` as ``(N, 1)`` float32 arrays."""
    min_size, max_size = _sizes(min_size, max_size)
    threshold = _threshold(threshold)
    small, large = _size_strategy(min_size, max_size)
    forms = []
    if small is not None:
        forms.append(_samples(st.tuples(st.integers(0, 1), _score(threshold)), small).map(_unzip(1)))
    if large is not None:
        forms.append(st.builds(
            _independent_columns, large, st.just(1), st.sampled_from(RATES), st.floats(0, 1),
            st.sampled_from(TIES), st.sampled_from(LAYOUTS), st.integers(0, 2**32 - 1), st.just(threshold),
        ))
    return st.one_of(forms)


def multilabel_data(*, classes: int | None = None, min_size: int = 1, max_size: int = LARGEST, threshold: float = 0.5):
    """``(y_true, scores)`` as ``(N, C)`` float32 arrays of independent 0/1 labels."""
    min_size, max_size = _sizes(min_size, max_size)
    threshold = _threshold(threshold)
    small, large = _size_strategy(min_size, max_size)
    columns = _classes(classes)
    forms = []
    if small is not None:
        forms.append(columns.flatmap(lambda c: _samples(
            st.tuples(st.lists(st.integers(0, 1), min_size=c, max_size=c), st.lists(_score(threshold), min_size=c, max_size=c)),
            small,
        ).map(_unzip(c))))
    if large is not None:
        forms.append(st.builds(
            _independent_columns, large, columns, st.sampled_from(RATES), st.floats(0, 1),
            st.sampled_from(TIES), st.sampled_from(LAYOUTS), st.integers(0, 2**32 - 1), st.just(threshold),
        ))
    return st.one_of(forms)


def _one_hot(classes_drawn, columns: int) -> np.ndarray:
    return np.eye(columns, dtype=np.float32)[np.asarray(classes_drawn, dtype=np.int64)]


def _multiclass_large(n, columns, present, predicted, skill, ties, seed):
    """One-hot labels over ``present`` classes; softmax-like scores over ``predicted`` ones, some tied."""
    labels, noise, tie = _streams(seed, 3)
    present = max(1, min(present, columns))
    predicted = max(1, min(predicted, columns))
    truth = labels.integers(0, present, size=n)
    y = _one_hot(truth, columns)
    logits = noise.normal(size=(n, columns))
    logits[:, predicted:] = -np.inf
    logits[np.arange(n), truth] += 3.0 * skill * (truth < predicted)
    s = np.exp(logits - logits.max(axis=1, keepdims=True))
    s = s / s.sum(axis=1, keepdims=True)
    tied = np.flatnonzero(tie.random(n) < ties)
    if predicted >= 2 and len(tied):
        top_two = np.argsort(-s[tied], axis=1)[:, :2]
        s[tied, top_two[:, 1]] = s[tied, top_two[:, 0]]  # an exact argmax tie
    return y, np.clip(s, 0.0, 1.0).astype(np.float32)


def multiclass_data(*, classes: int | None = None, min_size: int = 1, max_size: int = LARGEST):
    """``(y_true, scores)``: one-hot ``(N, C)`` labels and ``(N, C)`` scores in [0, 1]."""
    min_size, max_size = _sizes(min_size, max_size)
    small, large = _size_strategy(min_size, max_size)
    columns = _classes(classes)
    row_score = st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.floats(0.0, 1.0, width=32))
    forms = []
    if small is not None:
        forms.append(columns.flatmap(lambda c: _samples(
            st.tuples(st.integers(0, c - 1), st.lists(row_score, min_size=c, max_size=c)), small,
        ).map(lambda rows: (_one_hot([r[0] for r in rows], c), _as_columns([r[1] for r in rows], c)))))
    if large is not None:
        forms.append(st.tuples(large, columns).flatmap(lambda nc: st.builds(
            _multiclass_large, st.just(nc[0]), st.just(nc[1]), st.integers(1, nc[1]), st.integers(1, nc[1]),
            st.floats(0, 1), st.sampled_from(TIES), st.integers(0, 2**32 - 1),
        )))
    return st.one_of(forms)


def data_for(task: str, *, classes: int | None, threshold: float, min_size: int = 1, max_size: int = LARGEST):
    """The data strategy of a task."""
    if task == "binary":
        return binary_data(min_size=min_size, max_size=max_size, threshold=threshold)
    if task == "multiclass":
        return multiclass_data(classes=classes, min_size=min_size, max_size=max_size)
    return multilabel_data(classes=classes, min_size=min_size, max_size=max_size, threshold=threshold)


def register_profiles() -> None:
    """Hypothesis profiles for repos that use these strategies in their own ``@given`` tests.

    ``f1check-ci``: deterministic (derandomized), no example database, quiet,
    no deadline (Keras's first call traces); ``f1check-dev``: random, with the
    default database, for exploring.  Load one with
    ``hypothesis.settings.load_profile("f1check-ci")``.
    """
    from hypothesis import HealthCheck, Verbosity, settings

    settings.register_profile(
        "f1check-ci",
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=True,
        verbosity=Verbosity.quiet,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.register_profile("f1check-dev", deadline=None)


register_profiles()
