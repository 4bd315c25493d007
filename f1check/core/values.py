"""Checks of plain values that every floor shares (the settings, partitions and strategies validate with these)."""

from __future__ import annotations

import enum
from numbers import Integral


class Spelled(str, enum.Enum):
    """A string enum that prints and formats as its spelling (``str(Feed.NUMPY) == "numpy"``), as the JSON and the
    config write it (``enum.StrEnum`` from Python 3.11).  ``Mode`` keeps its own two methods: core.modes is the
    ground floor and imports nothing of f1check."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


def is_whole(value: object) -> bool:
    """An integer (numpy's included) that is not a bool."""
    return isinstance(value, Integral) and not isinstance(value, bool)
