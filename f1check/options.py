"""The options of a check, validated in one place.

Every validator takes the value and ``source``, the place the value came from
("the tolerance= argument", "[tool.f1check] in pyproject.toml",
"--f1check-tolerance"), so a bad value is reported where the user wrote it.
Nothing here imports Keras or numpy: the plugin validates configuration with
these before any test runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

from .errors import ConfigError, did_you_mean, one_of

TASKS = ("binary", "multiclass", "multilabel")
AVERAGES = ("binary", "micro", "macro", "weighted")
JUDGES = ("seen", "total")
MODES = ("evaluate", "fit", "fit-dropped")
ZERO_DIVISIONS = ("warn", 0, 1, "nan")

DEFAULT_TOLERANCE = 1e-3
DEFAULT_EXAMPLES = 50
DEFAULT_SEED = 0
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Semantics:
    """How labels and scores become an F1: the reference's fixed conventions.

    Binary scores are positive iff ``score > threshold`` (strict, as
    ``keras.metrics.F1Score`` and half-to-even rounding do); multiclass data is
    one-hot and the predicted class is the first argmax; multilabel data is
    thresholded per column.  ``classes`` is the number of columns (1 for
    binary) once the data is known.
    """

    task: str = "binary"
    classes: int | None = None
    average: str = "binary"
    threshold: float = DEFAULT_THRESHOLD
    zero_division: float | str = 0


def _invalid(name: str, value: object, source: str, why: str) -> ConfigError:
    return ConfigError(f"Invalid {name} {value!r} (from {source}): {why}")


def _choice(name: str, value: object, choices: tuple, source: str) -> str:
    if isinstance(value, str) and value in choices:
        return value
    raise _invalid(name, value, source, f"valid values are {one_of(choices)}.{did_you_mean(value, choices)}")


def task(value: object, source: str = "the task= argument") -> str:
    return _choice("task", value, TASKS, source)


def judge(value: object, source: str = "the judge= argument") -> str:
    return _choice("judge", value, JUDGES, source)


def average(value: object, task_name: str, source: str = "the average= argument") -> str:
    """The sklearn ``average``; ``None`` picks ``binary`` or ``macro`` by task."""
    if value is None:
        return "binary" if task_name == "binary" else "macro"
    chosen = _choice("average", value, AVERAGES, source)
    if chosen == "binary" and task_name != "binary":
        raise _invalid(
            "average",
            value,
            source,
            f"'binary' averaging needs task='binary', but task={task_name!r}; "
            "use 'micro', 'macro' or 'weighted'.",
        )
    return chosen


def modes(value: object, source: str = "the modes= argument") -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not value:
        raise _invalid("modes", value, source, f"give a non-empty list of modes out of {one_of(MODES)}.")
    out = []
    for mode in value:
        out.append(_choice("mode", mode, MODES, source))
    return tuple(dict.fromkeys(out))


def tolerance(value: object, source: str = "the tolerance= argument") -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise _invalid("tolerance", value, source, "it must be a finite number, such as 0.001.")
    if value < 0:
        raise _invalid(
            "tolerance",
            value,
            source,
            "it bounds |reported - sklearn| and cannot be negative; use 0 for exact agreement.",
        )
    return float(value)


def threshold(value: object, source: str = "the threshold= argument") -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 <= float(value) <= 1.0:
        raise _invalid("threshold", value, source, "it must be a number in [0, 1]; scores above it are positive.")
    return float(value)


def zero_division(value: object, source: str = "the zero_division= argument") -> float | str:
    """sklearn's ``zero_division``: ``0``, ``1``, ``"warn"`` or NaN."""
    if isinstance(value, str):
        if value == "warn":
            return value
        if value.lower() == "nan":
            return math.nan
    elif isinstance(value, Real) and not isinstance(value, bool):
        if math.isnan(value):
            return math.nan
        if value in (0, 1):
            return float(value)
    raise _invalid("zero_division", value, source, "valid values are 0, 1, 'warn' and 'nan', as in sklearn.")


def positive_int(name: str, value: object, source: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise _invalid(name, value, source, f"it must be a whole number >= {minimum}.")
    return int(value)


def classes(value: object, task_name: str, source: str = "the classes= argument") -> int | None:
    if value is None:
        return 1 if task_name == "binary" else None
    count = positive_int("classes", value, source)
    if task_name == "binary" and count != 1:
        raise _invalid("classes", value, source, "binary data has one column; use task='multiclass' for more classes.")
    if task_name != "binary" and count < 2:
        raise _invalid("classes", value, source, f"task={task_name!r} needs at least 2 classes.")
    return count


def seed(value: object, source: str = "the seed= argument") -> int:
    if value is None:
        return DEFAULT_SEED
    return positive_int("seed", value, source, minimum=0)


def semantics(
    *,
    task_name: object = "binary",
    class_count: object = None,
    average_name: object = None,
    threshold_value: object = DEFAULT_THRESHOLD,
    zero_division_value: object = 0,
    source: str | None = None,
) -> Semantics:
    """Validate the reference's settings together (average depends on task)."""

    def where(name: str) -> str:
        return source if source is not None else f"the {name}= argument"

    task_ok = task(task_name, where("task"))
    return Semantics(
        task=task_ok,
        classes=classes(class_count, task_ok, where("classes")),
        average=average(average_name, task_ok, where("average")),
        threshold=threshold(threshold_value, where("threshold")),
        zero_division=zero_division(zero_division_value, where("zero_division")),
    )
