"""Hypothesis strategies over the data and partitions a check is fuzzed with.

Every argument is validated when the strategy is built, not when it draws.
Small datasets are drawn label by label and score by score, so a failure
shrinks to a handful of samples; large ones (up to realistic validation sets)
are drawn as a few parameters and a seed, so drawing 20,000 samples costs one
numpy call.  Both kinds include the awkward cases: scores of exactly the
threshold, 0 and 1, no positives at all, positives bunched so that whole
batches have none, classes absent from labels and predictions.

Multiclass scores are softmax rows by default (rows sum to 1, no exact tie
between the top classes, as a softmax head essentially never produces one);
``scores="softmax-ties"`` adds exact ties between the top two classes (the
reference takes the first argmax), ``scores="independent"`` draws each class's
score in [0, 1] on its own, as separate sigmoid heads would.

Importing this module is cheap: hypothesis and numpy load when a strategy is
built.
"""

from __future__ import annotations

import contextlib
import functools
import math
import tempfile

from . import feeds
from .errors import ConfigError
from .partitions import Partition
from .settings import MULTICLASS_SCORES, CheckSettings, is_whole

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
# Parameters of the large draws: rates from none to all positive, tie fractions, layouts.
RATES = (0.0, 0.001, 0.01, 0.1, 0.3, 0.5, 0.9, 0.99, 1.0)
TIES = (0.0, 0.01, 0.1, 0.5)
LAYOUTS = ("shuffled", "positives last", "positives first")
DEFAULT_CLASSES = 3


class InvalidStrategyArgument(ConfigError):
    """A strategy argument that cannot work; raised when the strategy is built."""


def _whole(name: str, value, minimum: int) -> int:
    import numpy as np

    if isinstance(value, bool) or not (is_whole(value) or isinstance(value, np.integer)) or value < minimum:
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
    from hypothesis import strategies as st

    if value is None:
        return st.integers(minimum, 5)
    return st.just(_whole("classes", value, minimum))


# -- partitions ---------------------------------------------------------------------------------------------


def _orders(n: int, shuffle: bool):
    from hypothesis import strategies as st

    return st.integers(0, 2**32 - 1).map(_order_seed) if shuffle and n > 1 else st.none()


def partitions(n: int, *, min_batches: int = 1, max_batches: int | None = None, max_batch_size: int | None = None,
               drop: bool | None = None, shuffle: bool = True):
    """Partitions of ``n`` samples.

    Two forms: uneven batches as sorted cut points (they shrink to
    ``[1, n-1]``, where a sequential draw does not), and the floor-steps form
    of ``fit_generator`` (a batch size ``bs``, ``n // bs`` batches fed,
    ``n % bs`` dropped).  ``drop=False`` draws only the first, ``drop=True``
    only the second, ``None`` both.  With ``shuffle`` the order is a seeded
    permutation that shrinks to the identity.

    Args:
        n: the number of samples.
        min_batches: the fewest batches a partition feeds.
        max_batches: the most batches a partition feeds (None: up to ``n``).
        max_batch_size: the largest batch (None: up to ``n``).
        drop: which forms to draw (see above).
        shuffle: whether orders other than the identity are drawn.

    Returns:
        A hypothesis strategy of :class:`f1check.Partition`.
    """
    from hypothesis import strategies as st

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
    forms = []
    if drop is not True:
        forms += _uneven_form(n, min_batches, max_batches, max_batch_size, drop, _orders(n, shuffle))
    if drop is not False:
        forms += _floor_form(n, min_batches, max_batches, max_batch_size, drop, _orders(n, shuffle))
    if not forms:
        raise InvalidStrategyArgument(f"no partition of n={n} satisfies these bounds.")
    return st.one_of(forms)


def _uneven_form(n, min_batches, max_batches, max_batch_size, drop, orders) -> list:
    from hypothesis import strategies as st

    most = min(n, max_batches or n)
    needed = max(min_batches, math.ceil(n / max_batch_size) if max_batch_size else 1)
    if needed > most:
        if drop is False:
            raise InvalidStrategyArgument(
                f"n={n} samples do not fit in max_batches={max_batches} batches of at most "
                f"max_batch_size={max_batch_size}."
            )
        return []
    cuts = st.sets(st.integers(1, n - 1), min_size=needed - 1, max_size=most - 1) if n > 1 else st.just(set())
    if max_batch_size:
        cuts = cuts.filter(lambda c: max(_diffs(n, c)) <= max_batch_size)
    return [st.builds(_uneven, st.just(n), cuts, orders)]


def _floor_form(n, min_batches, max_batches, max_batch_size, drop, orders) -> list:
    from hypothesis import strategies as st

    # steps = n // bs must lie in [min_batches, max_batches]: bs in [n // (max+1) + 1, n // min].
    smallest = n // (max_batches + 1) + 1 if max_batches else 1
    largest = min(n // min_batches, max_batch_size or n)
    if smallest > largest:
        if drop is True:
            raise InvalidStrategyArgument(
                f"no batch size gives between min_batches={min_batches} and max_batches={max_batches} full "
                f"batches of n={n} samples (with max_batch_size={max_batch_size})."
            )
        return []
    # Drawn as a distance below the largest batch size, so it shrinks to one full batch.
    sizes = st.integers(0, largest - smallest).map(lambda below: largest - below)
    return [st.builds(_floor, st.just(n), sizes, orders)]


def uniform_partitions(n: int, *, drop: bool = False, max_batches: int | None = None, shuffle: bool = True):
    """Equal batches of a drawn size and what is left: as ``numpy`` arrays and ``tf.data`` cut them.

    Args:
        n: the number of samples.
        drop: the rest is never fed (``drop_remainder=True``) instead of being the smaller last batch.
        max_batches: the most batches fed.
        shuffle: whether orders other than the identity are drawn.

    Returns:
        A strategy of :class:`f1check.Partition` that shrinks to one batch of all ``n``.
    """
    from hypothesis import strategies as st

    n = _whole("n", n, 1)
    if max_batches is not None:
        max_batches = _whole("max_batches", max_batches, 1)
    smallest = max(1, math.ceil(n / max_batches)) if max_batches else 1
    if drop and max_batches:
        smallest = n // (max_batches + 1) + 1
    sizes = st.integers(0, n - smallest).map(lambda below: n - below)
    return st.builds(_uniform, st.just(n), sizes, st.just(bool(drop)), _orders(n, shuffle))


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


# -- data ----------------------------------------------------------------------------------------------------


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


def _independent_columns(n, columns, rate, skill, ties, layout, seed, threshold):
    """0/1 labels per column and scores a classifier of the given skill would give."""
    import numpy as np

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
    """Binary data: ``(y_true, scores)`` as ``(N, 1)`` float32 arrays.

    Args:
        min_size: the fewest samples.
        max_size: the most samples.
        threshold: the threshold scores are drawn exactly at, often.

    Returns:
        A strategy of ``(y_true, scores)`` pairs.
    """
    from hypothesis import strategies as st

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
    """Multilabel data: ``(y_true, scores)`` as ``(N, C)`` float32 arrays of independent 0/1 labels.

    Args:
        classes: the number of labels (None: 2 to 5, drawn).
        min_size, max_size: bounds on the number of samples.
        threshold: the threshold scores are drawn exactly at, often.
    """
    from hypothesis import strategies as st

    min_size, max_size = _sizes(min_size, max_size)
    threshold = _threshold(threshold)
    small, large = _size_strategy(min_size, max_size)
    columns = _classes(classes)
    forms = []
    if small is not None:
        forms.append(columns.flatmap(lambda c: _samples(
            st.tuples(st.lists(st.integers(0, 1), min_size=c, max_size=c),
                      st.lists(_score(threshold), min_size=c, max_size=c)),
            small,
        ).map(_unzip(c))))
    if large is not None:
        forms.append(st.builds(
            _independent_columns, large, columns, st.sampled_from(RATES), st.floats(0, 1),
            st.sampled_from(TIES), st.sampled_from(LAYOUTS), st.integers(0, 2**32 - 1), st.just(threshold),
        ))
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


def _multiclass_large(n, columns, present, predicted, skill, ties, seed, kind):
    """One-hot labels over ``present`` classes; scores over ``predicted`` ones (softmax rows unless independent)."""
    import numpy as np

    labels, noise, tie = _streams(seed, 3)
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

    min_size, max_size = _sizes(min_size, max_size)
    if scores not in MULTICLASS_SCORES:
        raise InvalidStrategyArgument(f"scores={scores!r} must be one of {', '.join(map(repr, MULTICLASS_SCORES))}.")
    small, large = _size_strategy(min_size, max_size)
    columns = _classes(classes)
    forms = []
    if small is not None:
        forms.append(columns.flatmap(lambda c: _small_multiclass(c, small, scores)))
    if large is not None:
        forms.append(st.tuples(large, columns).flatmap(lambda nc: st.builds(
            _multiclass_large, st.just(nc[0]), st.just(nc[1]), st.integers(1, nc[1]), st.integers(1, nc[1]),
            st.floats(0, 1), st.sampled_from(TIES), st.integers(0, 2**32 - 1), st.just(scores),
        )))
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
    classes = sem.classes or DEFAULT_CLASSES
    if sem.task == "multiclass":
        return multiclass_data(classes=classes, min_size=min_size, max_size=max_size, scores=settings.multiclass_scores)
    return multilabel_data(classes=classes, min_size=min_size, max_size=max_size, threshold=sem.threshold)


# -- whole candidates --------------------------------------------------------------------------------------


def cases(settings: CheckSettings, mode: str, kinds: tuple[str, ...], fixed=None, explicit=None, *,
          max_batches: int, max_size: int | None = None):
    """A strategy of ``((y, scores), partition, feed)``: one candidate example of a check.

    The feed (how data reaches the loop) is drawn first, and the partition to
    suit it: feeds that cut equal batches get uniform partitions; dropped
    modes get the floor-steps form, the remainder never fed.  Under replicas
    every batch is a multiple of the replica count.  Built from strategies
    made once per size (drawing is the search's main cost).
    """
    from hypothesis import strategies as st

    replicas = settings.replicas
    drop = True if mode.endswith("-dropped") else None
    data = _data_strategy(settings, max_size or LARGEST)
    feed = st.sampled_from(kinds)

    def partition_of(draw, n, kind):
        return draw(_partitions_for(n // replicas, kind in feeds.UNIFORM_FEEDS, drop, max_batches)).scaled(replicas)

    @st.composite
    def fuzzed(draw):
        y, s = draw(data)
        if replicas > 1:  # whole multiples of the replicas: batches split evenly
            keep = max(replicas, len(y) - len(y) % replicas)
            y, s = y[:keep], s[:keep]
        kind = draw(feed)
        return (y, s), partition_of(draw, len(y), kind), kind

    @st.composite
    def over_fixed(draw):
        kind = draw(feed)
        return fixed, partition_of(draw, len(fixed[0]), kind), kind

    @st.composite
    def over_explicit(draw):
        p = draw(st.sampled_from(explicit))
        kind = draw(st.sampled_from([k for k in kinds if feeds.fits(k, p)] or ["pydataset"]))
        return draw(_data_strategy(settings, p.n, p.n)), p, kind

    if fixed is not None:
        return over_fixed()
    if explicit is not None:
        return over_explicit()
    return fuzzed()


@functools.lru_cache(maxsize=4096)
def _partitions_for(n: int, uniform: bool, drop: bool | None, max_batches: int):
    if uniform:
        return uniform_partitions(n, drop=bool(drop), max_batches=max_batches)
    return partitions(n, max_batches=max_batches, drop=drop)


def _data_strategy(settings: CheckSettings, max_size: int, min_size: int = 1):
    replicas = settings.replicas
    return _data_cached(settings.semantics, settings.multiclass_scores, max(min_size, replicas), max(max_size, replicas))


@functools.lru_cache(maxsize=256)
def _data_cached(semantics, multiclass_scores: str, min_size: int, max_size: int):
    return data_for(CheckSettings(semantics=semantics, multiclass_scores=multiclass_scores), min_size=min_size,
                    max_size=max_size)


# -- hypothesis's settings and storage ----------------------------------------------------------------------


@contextlib.contextmanager
def private_storage():
    """Point hypothesis's storage directory at a temporary one while f1check searches.

    f1check keeps no example database, but hypothesis may still write caches
    under ``./.hypothesis``; in the user's repository that would be litter.
    The user's own setting comes back afterwards.
    """
    from hypothesis import configuration

    name = "__hypothesis_home_directory"
    before = getattr(configuration, name, None)
    with tempfile.TemporaryDirectory(prefix="f1check-hypothesis-") as directory:
        configuration.set_hypothesis_home_dir(directory)
        try:
            yield
        finally:
            setattr(configuration, name, before)


def register_profiles() -> None:
    """Hypothesis profiles for repos that use these strategies in their own ``@given`` tests.

    ``f1check-ci``: deterministic (derandomized), no example database, quiet,
    no deadline (Keras's first call traces); ``f1check-dev``: random, with the
    default database, for exploring.  Registered whenever hypothesis is
    imported (a ``hypothesis`` entry point); load one with
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
