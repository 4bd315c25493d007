"""Checks of plain values that every floor shares (the settings, partitions and strategies validate with these)."""

from __future__ import annotations

from numbers import Integral


def is_whole(value: object) -> bool:
    """An integer (numpy's included) that is not a bool."""
    return isinstance(value, Integral) and not isinstance(value, bool)
