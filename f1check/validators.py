"""The checks every setting's validator is built from: each names the key, the value, where it came from and what
to give instead (:mod:`f1check.settings` builds the settings with them)."""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real

from .errors import ConfigError, did_you_mean, one_of
from .values import is_whole

__all__ = ["choice", "flag", "invalid", "listed", "number", "whole"]


def invalid(name: str, value: object, source: str, why: str) -> ConfigError:
    return ConfigError(f"Invalid {name} {value!r} (from {source}): {why}")


def choice(name: str, value: object, choices: tuple, source: str) -> str:
    if isinstance(value, str) and value in choices:
        return value
    raise invalid(name, value, source, f"valid values are {one_of(choices)}.{did_you_mean(value, choices)}")


def whole(name: str, value: object, source: str, minimum: int = 1) -> int:
    if not is_whole(value) or value < minimum:
        raise invalid(name, value, source, f"it must be a whole number >= {minimum}.")
    return int(value)


def number(name: str, value: object, source: str, low: float = -math.inf, high: float = math.inf, why: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not low <= float(value) <= high:
        raise invalid(name, value, source, why or f"it must be a number in [{low:g}, {high:g}].")
    return float(value)


def listed(name: str, value: object, source: str, one: Callable[[object], object], example: str) -> tuple:
    """A list setting drawn from per example: each element checked by ``one``, duplicates dropped, order kept."""
    if not isinstance(value, (list, tuple)):
        value = (value,)
    if not value:
        raise invalid(name, value, source, f"give at least one value, e.g. {example}.")
    return tuple(dict.fromkeys(one(v) for v in value))


def flag(name: str, value: object, source: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(name, value, source, "it must be true or false.")
    return value
