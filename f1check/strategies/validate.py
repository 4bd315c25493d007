"""Argument checks shared by the strategies: a bad argument fails when the strategy is built."""

from __future__ import annotations

from ..core.errors import ConfigError
from ..core.values import is_whole


class InvalidStrategyArgument(ConfigError):
    """A strategy argument that cannot work; raised when the strategy is built."""


def whole(name: str, value, minimum: int) -> int:
    if not is_whole(value) or value < minimum:
        raise InvalidStrategyArgument(f"{name}={value!r} must be a whole number >= {minimum}.")
    return int(value)


def sizes(min_size, max_size) -> tuple[int, int]:
    min_size = whole("min_size", min_size, 1)
    max_size = whole("max_size", max_size, 1)
    if min_size > max_size:
        raise InvalidStrategyArgument(f"min_size={min_size} is larger than max_size={max_size}.")
    return min_size, max_size


def threshold_value(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise InvalidStrategyArgument(f"threshold={value!r} must be a number in [0, 1].")
    return float(value)


def classes_strategy(value, minimum: int = 2):
    from hypothesis import strategies as st

    if value is None:
        return st.integers(minimum, 5)
    return st.just(whole("classes", value, minimum))
