"""How a loop feeds the data: an order, a sequence of batch sizes, a remainder.

A :class:`Partition` of ``n`` samples feeds ``order[:fed]`` in batches of
``batch_sizes`` and never feeds the last ``dropped`` samples of the order (the
``fit_generator`` behaviour of ``steps_per_epoch = n // batch_size``).
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import PartitionError
from .values import is_whole as _whole

__all__ = ["Partition"]


class Partition:
    """How a loop feeds ``n`` samples: in which order, in which batches, and how many never.

    Partitions are immutable values; ``repr`` is the Python that rebuilds one.

    Args:
        batch_sizes: the size of every fed batch, in order (each >= 1).
        order: a permutation of ``range(n)``, ``n = sum(batch_sizes) + dropped``; the identity if None.
        dropped: how many samples, the last of the order, are never fed (a dropped remainder).
        order_seed: (keyword) the order is ``numpy.random.default_rng(order_seed).permutation(n)``, made
            when first needed; see :meth:`shuffled`.

    Raises:
        PartitionError: a batch size below 1, a negative ``dropped``, or an order that is not a permutation.

    Example:
        >>> f1check.Partition([100, 100, 100]).short()
        '100+100+100'
        >>> f1check.Partition.floor_steps(1000, 128)    # steps_per_epoch = 1000 // 128: 104 never fed
        f1check.Partition(batch_sizes=[128] * 7, dropped=104)
    """

    __slots__ = ("batch_sizes", "_order", "dropped", "order_seed")

    def __init__(self, batch_sizes: Sequence[int], order: Sequence[int] | None = None, dropped: int = 0, *,
                 order_seed: int | None = None):
        sizes, order, dropped, order_seed = _validated(batch_sizes, order, dropped, order_seed)
        object.__setattr__(self, "batch_sizes", sizes)
        object.__setattr__(self, "_order", order)
        object.__setattr__(self, "dropped", dropped)
        object.__setattr__(self, "order_seed", order_seed)

    def __setattr__(self, name, value):
        raise AttributeError("Partition is immutable")

    @classmethod
    def floor_steps(cls, n: int, batch_size: int, order: Sequence[int] | None = None, **kw) -> Partition:
        """``n // batch_size`` batches of ``batch_size``; the ``n % batch_size`` rest is dropped."""
        if not _whole(n) or n < 1 or not _whole(batch_size) or batch_size < 1:
            raise PartitionError(f"floor_steps needs n >= 1 and batch_size >= 1, got n={n!r}, batch_size={batch_size!r}.")
        if batch_size > n:
            raise PartitionError(
                f"batch_size={batch_size} is larger than n={n}: steps_per_epoch = n // batch_size would be 0."
            )
        return cls([batch_size] * (n // batch_size), order=order, dropped=n % batch_size, **kw)

    @classmethod
    def shuffled(cls, batch_sizes: Sequence[int], order_seed: int, dropped: int = 0) -> Partition:
        """A partition whose order is ``numpy.random.default_rng(order_seed).permutation(n)``.

        The permutation is made when it is needed, so fuzzing large datasets
        does not pay for orders it never looks at.
        """
        return cls(batch_sizes, dropped=dropped, order_seed=order_seed)

    @property
    def shuffled_order(self) -> bool:
        return self._order is not None or self.order_seed is not None

    @property
    def order(self) -> tuple[int, ...] | None:
        """The permutation of ``range(n)`` the partition feeds, or None for the identity."""
        if self._order is not None:
            return self._order
        if self.order_seed is None:
            return None
        return tuple(self.indices().tolist())

    @property
    def n(self) -> int:
        """The number of samples the partition covers, fed or not."""
        return self.fed + self.dropped

    @property
    def fed(self) -> int:
        return sum(self.batch_sizes)

    @property
    def steps(self) -> int:
        return len(self.batch_sizes)

    def check_fits(self, n_samples: int) -> None:
        if self.n != n_samples:
            raise PartitionError(
                f"{self.short()} covers {self.n} samples (fed {self.fed} + dropped {self.dropped}) "
                f"but the data has {n_samples}: batch sizes plus dropped must add up to the number of samples."
            )

    def indices(self):
        """The sample order as an int64 array (fed first, dropped last)."""
        import numpy as np

        if self._order is not None:
            return np.asarray(self._order, dtype=np.int64)
        if self.order_seed is not None:
            return np.random.default_rng(self.order_seed).permutation(self.n)
        return np.arange(self.n)

    def batches(self):
        """The sample indices of every fed batch, in the order they are fed."""
        import numpy as np

        order = self.indices()
        cuts = np.cumsum((0,) + self.batch_sizes)
        return [order[a:b] for a, b in zip(cuts[:-1], cuts[1:])]

    def scaled(self, factor: int) -> Partition:
        """This partition with every batch (and the remainder) ``factor`` times as large.

        Under replicas every batch must split evenly over them: a partition
        scaled by ``replicas`` does.  A spelled-out order maps sample ``i`` to
        samples ``i*factor ... i*factor+factor-1``; a seeded order is the
        seed's permutation of the larger range.
        """
        if factor == 1:
            return self
        sizes = [b * factor for b in self.batch_sizes]
        dropped = self.dropped * factor
        if self.order_seed is not None:
            return Partition.shuffled(sizes, self.order_seed, dropped)
        if self._order is not None:
            return Partition(sizes, order=[g * factor + j for g in self._order for j in range(factor)], dropped=dropped)
        return Partition(sizes, dropped=dropped)

    def dropped_indices(self):
        return self.indices()[self.fed :]

    def short(self) -> str:
        """A one-line description: ``100+100+50, 3 dropped, shuffled``."""
        return _short(self)

    def literal(self, max_order: int = 64, order_expr: str | None = None) -> str:
        """Python a user can paste to rebuild this partition (an order longer than ``max_order`` by its seed;
        ``order_expr``, if given, is the Python of the order, such as where it was saved)."""
        return _literal(self, max_order, order_expr)

    def __repr__(self) -> str:
        return self.literal(max_order=16)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Partition):
            return NotImplemented
        if (self.batch_sizes, self.dropped) != (other.batch_sizes, other.dropped):
            return False
        if self._order is None and other._order is None:
            return self.order_seed == other.order_seed
        return self.order == other.order

    def __hash__(self) -> int:  # the order is left out so seeded and spelled-out orders hash alike
        return hash((self.batch_sizes, self.dropped))


def _validated(batch_sizes, order, dropped, order_seed) -> tuple:
    """The constructor's arguments checked and normalised: ``(sizes, order or None, dropped, order_seed or None)``."""
    try:
        sizes = tuple(batch_sizes)
    except TypeError:
        raise PartitionError(
            f"batch_sizes={batch_sizes!r} is not a sequence: give the size of every batch, "
            "e.g. Partition(batch_sizes=[100, 100, 50])."
        ) from None
    if not sizes:
        raise PartitionError("batch_sizes is empty: a partition feeds at least one batch.")
    bad = [s for s in sizes if not _whole(s) or s < 1]
    if bad:
        raise PartitionError(
            f"batch_sizes={list(sizes)!r} has {bad[0]!r}: every batch size must be a whole number >= 1."
        )
    if not _whole(dropped) or dropped < 0:
        raise PartitionError(f"dropped={dropped!r}: the number of samples never fed must be a whole number >= 0.")
    sizes = tuple(int(s) for s in sizes)
    n = sum(sizes) + int(dropped)
    if order is not None:
        order = tuple(int(i) if _whole(i) else i for i in order)
        if len(order) != n or sorted(order) != list(range(n)):
            raise PartitionError(
                f"order is not a permutation of range({n}) (n = sum(batch_sizes) + dropped = "
                f"{sum(sizes)} + {dropped}); give each sample index exactly once, or order=None."
            )
        if order == tuple(range(n)):
            order = None
    if order is not None:
        order_seed = None if order_seed is None else int(order_seed)
    elif order_seed is not None and n > 1:
        order_seed = int(order_seed)  # the order is numpy.random.default_rng(order_seed).permutation(n)
    else:
        order_seed = None
    return sizes, order, int(dropped), order_seed


def _short(partition: Partition) -> str:
    """:meth:`Partition.short`."""
    sizes = partition.batch_sizes
    if len(sizes) > 6 and len(set(sizes[:-1])) == 1:
        text = f"{len(sizes) - 1}x{sizes[0]}+{sizes[-1]}" if sizes[-1] != sizes[0] else f"{len(sizes)}x{sizes[0]}"
    elif len(sizes) > 8:
        text = "+".join(map(str, sizes[:4])) + f"+...({len(sizes)} batches)"
    else:
        text = "+".join(map(str, sizes))
    if partition.dropped:
        text += f", {partition.dropped} dropped"
    if partition.shuffled_order:
        text += ", shuffled"
    return text


def _literal(partition: Partition, max_order: int, order_expr: str | None) -> str:
    """:meth:`Partition.literal`."""
    parts = [f"batch_sizes={_sizes_literal(partition.batch_sizes)}"]
    if partition.shuffled_order:
        if order_expr is not None:
            parts.append(f"order={order_expr}")
        elif partition.order_seed is None or partition.n <= max_order:
            parts.append(f"order={list(partition.order)!r}")
        else:
            parts.append(f"order=numpy.random.default_rng({partition.order_seed}).permutation({partition.n}).tolist()")
    if partition.dropped:
        parts.append(f"dropped={partition.dropped}")
    return "f1check.Partition(" + ", ".join(parts) + ")"


def _sizes_literal(sizes: tuple[int, ...]) -> str:
    """Batch sizes as Python, runs of four or more equal sizes as ``[128] * 156`` (``[128] * 156 + [32]``)."""
    runs: list[list[int]] = []  # [size, count]
    for size in sizes:
        if runs and runs[-1][0] == size:
            runs[-1][1] += 1
        else:
            runs.append([size, 1])
    pieces, loose = [], []
    for size, count in runs:
        if count < 4:
            loose += [size] * count
            continue
        if loose:
            pieces.append(repr(loose))
            loose = []
        pieces.append(f"[{size}] * {count}")
    if loose or not pieces:
        pieces.append(repr(loose))
    return " + ".join(pieces)
