"""Strategies of partitions: uneven cut points, the floor-steps form, equal batches; orders that shrink to the identity."""

from __future__ import annotations

import math

from ..core.partitions import Partition
from .validate import InvalidStrategyArgument, whole


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

    n = whole("n", n, 1)
    min_batches = whole("min_batches", min_batches, 1)
    if max_batches is not None:
        max_batches = whole("max_batches", max_batches, 1)
        if min_batches > max_batches:
            raise InvalidStrategyArgument(f"min_batches={min_batches} is larger than max_batches={max_batches}.")
    if max_batch_size is not None:
        max_batch_size = whole("max_batch_size", max_batch_size, 1)
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

    n = whole("n", n, 1)
    if max_batches is not None:
        max_batches = whole("max_batches", max_batches, 1)
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
