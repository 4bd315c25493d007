"""The rules a setting's value must keep: the generic checks (``choice``, ``whole``, ``listed``...) and each key's own.

Every check names the key, the value, where it came from and what to give instead.  A key's own rule takes
``(name, value, where)``; one that depends on keys validated before it takes ``(name, value, source, *those)``,
``source(key)`` naming where any key came from.  :data:`f1check.core.settings.SETTINGS` says which rule each key keeps
and which keys it needs.  Pure Python, like the table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real

from .errors import ConfigError, did_you_mean, one_of
from .feeds import Feed
from .labels import LABEL_DTYPES, LabelForm
from .modes import Mode
from .values import is_whole
from .weights import KINDS as WEIGHT_KINDS

__all__ = ["choice", "flag", "invalid", "listed", "number", "whole"]

TASKS = ("binary", "multiclass", "multilabel")
AVERAGES = ("binary", "micro", "macro", "weighted")
JUDGES = ("seen", "total")
MODES = tuple(m.value for m in Mode)
# The quantities a subject may log, and how messages name each.
SCORE_NAMES = {"f1": "F1", "precision": "precision", "recall": "recall", "fbeta": "F-beta", "mcc": "MCC"}
SCORES = tuple(SCORE_NAMES)
DEVICES = ("auto", "cpu", "gpu")
# How fuzzed multiclass scores are drawn: rows of a softmax (sum 1, no exact tie between the top classes),
# softmax rows where the top two classes sometimes tie exactly, or independent per-class scores in [0, 1].
MULTICLASS_SCORES = ("softmax", "softmax-ties", "independent")
# How data reaches the loop (f1check.core.feeds builds them).
FEEDS = tuple(f.value for f in Feed)
# Keras dtype policies a loop can run under (the model computes in the 16-bit ones; variables stay float32).
DTYPE_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


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


def count(name: str, value: object, source: str) -> int:
    """A whole number >= 0 (the seed)."""
    return whole(name, value, source, minimum=0)


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


# -- each key's own rule -------------------------------------------------------------------------------------


def tolerance(name: str, value: object, source: str) -> float:
    value = number(name, value, source, why="it must be a finite number, such as 0.001.")
    if not math.isfinite(value):
        raise invalid(name, value, source, "it must be a finite number, such as 0.001.")
    if value < 0:
        raise invalid(
            name, value, source, "it bounds |reported - sklearn| and cannot be negative; use 0 for exact agreement."
        )
    return value


def threshold(name: str, value: object, source: str) -> float:
    return number(name, value, source, 0.0, 1.0, "it must be a number in [0, 1]; scores above it are positive.")


def zero_division(name: str, value: object, source: str) -> float | str:
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
    raise invalid(name, value, source, "valid values are 0, 1, 'warn' and 'nan', as in sklearn.")


def modes(name: str, value: object, source: str) -> tuple[Mode, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not value:
        raise invalid(name, value, source, f"give a non-empty list of modes out of {one_of(MODES)}.")
    return tuple(dict.fromkeys(Mode(choice("mode", mode, MODES, source)) for mode in value))


def timeout(name: str, value: object, source: str) -> float | None:
    if value is None:
        return None
    seconds = number(name, value, source, why="it must be a number of seconds > 0, such as 300.")
    if not 0 < seconds < math.inf:
        raise invalid(name, value, source, "it must be a number of seconds > 0, such as 300.")
    return seconds


def weights(name: str, value: object, source: Callable[[str], str], weighted: bool, task: str,
            modes_: tuple[Mode, ...]) -> tuple[str, ...]:
    """The weight kinds the search draws from; every mode must have one it can run.

    Unset, a weighted subject meets loops with and without per-sample weights, an unweighted one loops without.
    """
    where = source(name)
    if value is None:
        value = ("none", "sample") if weighted else ("none",)
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not value:
        raise invalid(name, value, where, f"give a list out of {one_of(WEIGHT_KINDS)}.")
    kinds = tuple(dict.fromkeys(choice(name, kind, WEIGHT_KINDS, where) for kind in value))
    if "class" in kinds and task == "multilabel":
        raise invalid(name, list(kinds), where,
                      "Keras's class_weight is for one label per sample; multilabel data takes \"sample\" weights.")
    for mode in modes_:
        if not any(kind != "class" or mode.takes_class_weights for kind in kinds):
            raise invalid(
                name, list(kinds), where,
                f"mode {mode.value!r} is given no class_weight (Keras applies class_weight in fit only, and "
                "f1check's reloaded mode judges an evaluate): add \"sample\" or \"none\", or drop the mode.",
            )
    return kinds


# What compile() is given, drawn per example; strings as an ini file gives them ("4", "true") are read as the
# numbers and booleans they spell.

def steps_per_execution(name: str, value: object, source: str) -> tuple[int, ...]:
    def one(v):
        return whole(name, int(v) if isinstance(v, str) and v.strip().isdigit() else v, source)

    return listed(name, value, source, one, "[1, 4]")


def jit_compile(name: str, value: object, source: str) -> tuple[bool, ...]:
    def one(v):
        return flag(name, {"true": True, "false": False}.get(v.strip().lower(), v) if isinstance(v, str) else v, source)

    return listed(name, value, source, one, "[false, true]")


def dtype_policies(name: str, value: object, source: str) -> tuple[str, ...]:
    return listed(name, value, source, lambda v: choice(name, v, DTYPE_POLICIES, source), '["float32", "mixed_bfloat16"]')


def output(name: str, value: object, source: str) -> str | None:
    """The name of the head the subject is checked on: an output layer's name, as ``compile(metrics={name: ...})``."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.isidentifier() or value in ("f1check_other", "loss"):
        raise invalid(name, value, source, "give the name of the head, a Python identifier such as \"label\" "
                      "(the subject is compiled as compile(metrics={name: subject}) on a model with two outputs).")
    return value


def outputs(name: str, value: object, source: Callable[[str], str], head: str | None) -> tuple[str, ...] | None:
    """How a two-output model gives its outputs (``"dict"``, ``"list"``), drawn per example; only with ``output``."""
    if value is None:
        return None
    if head is None:
        raise invalid(name, value, source(name), "it says how a two-output model gives its outputs: set output too.")
    return listed(name, value, source(name), lambda v: choice(name, v, ("dict", "list"), source(name)), '["list"]')


def feeds(name: str, value: object, source: Callable[[str], str], modes_: tuple[Mode, ...]) -> tuple[Feed, ...] | None:
    """The feeds drawn from (None: every feed the mode can use); every mode must have one it can use among them
    (the backend aside: that is known only later)."""
    where = source(name)
    if value is None:
        return None
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not value:
        raise invalid(name, value, where, "give at least one feed, or None for all.")
    out = []
    for kind in value:
        if kind not in FEEDS:
            raise ConfigError(
                f"Invalid feed {kind!r} (from {where}): valid feeds are {one_of(FEEDS)}.{did_you_mean(kind, FEEDS)}"
            )
        out.append(Feed(kind))
    chosen = tuple(dict.fromkeys(out))
    for mode in modes_:
        if not any(f.can_feed(mode) for f in chosen):
            possible = [f.value for f in Feed if f.can_feed(mode)]
            raise invalid(
                name, [f.value for f in chosen], where,
                f"none of them can feed mode {mode.value!r} (it takes {one_of(possible)}): generator-no-steps is "
                "evaluate-only (Keras cannot restart a generator for a second epoch), numpy and tf.data-unknown "
                "cannot drop a remainder. Add a feed the mode can use, or drop the mode.",
            )
    return chosen


def labels(name: str, value: object, source: Callable[[str], str], task: str) -> tuple[LabelForm, ...]:
    """The label forms drawn from (None: every form ``task``'s labels can come in), the order of the task's forms
    kept: the first of them is the fixed examples' first."""
    where, allowed = source(name), LabelForm.for_task(task)
    if value is None:
        return allowed
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not value:
        raise invalid(name, value, where, f"give at least one label form, out of {one_of([f.value for f in allowed])}.")
    spelled, every = [f.value for f in allowed], [f.value for f in LabelForm]
    for form in value:
        if form not in every:
            raise invalid(name, list(value), where, f"unknown label form {form!r}; {task} labels come as "
                          f"{one_of(spelled)}.{did_you_mean(form, every)}")
    # a list for several tasks (["column", "one-hot"] for a whole repo): each target takes its task's forms
    chosen = tuple(f for f in allowed if f.value in value)
    if not chosen and task == "multilabel":  # its one form: a repo's list of the other tasks' forms leaves it so
        return allowed
    if not chosen:
        other = next(t for t in TASKS if value[0] in
                     [f.value for f in LabelForm.for_task(t)])
        raise invalid(name, list(value), where, f"{value[0]!r} is a form of {other} labels; {task} labels come as "
                      f"{one_of(spelled)}: add one of them.")
    return chosen


def label_dtypes(name: str, value: object, source: Callable[[str], str], forms: tuple[LabelForm, ...]) -> tuple[str, ...]:
    """The label dtypes drawn from (None: every dtype the forms can be fed in); float32 first where given."""
    where = source(name)
    if value is None:
        value = LABEL_DTYPES
    chosen = listed(name, value, where, lambda v: choice(name, v, LABEL_DTYPES, where), '["float32", "int64"]')
    if not any(form.dtypes(chosen) for form in forms):
        raise invalid(name, list(chosen), where, f"class indices ({', '.join(f.value for f in forms)}) are never "
                      "bool: add float32 or int64.")
    return tuple(sorted(chosen, key=LABEL_DTYPES.index))


def average(name: str, value: object, source: Callable[[str], str], task: str) -> str:
    """The sklearn ``average``; ``None`` picks ``binary`` or ``macro`` by task."""
    if value is None:
        return "binary" if task == "binary" else "macro"
    chosen = choice(name, value, AVERAGES, source(name))
    if chosen == "binary" and task != "binary":
        raise invalid(
            name, value, source(name),
            f"'binary' averaging needs task='binary', but task={task!r}; use 'micro', 'macro' or 'weighted'.",
        )
    return chosen


def classes(name: str, value: object, source: Callable[[str], str], task: str) -> int | None:
    if value is None:
        return 1 if task == "binary" else None
    found = whole(name, value, source(name))
    if task == "binary" and found != 1:
        raise invalid(name, value, source(name), "binary data has one column; use task='multiclass' for more classes.")
    if task != "binary" and found < 2:
        raise invalid(name, value, source(name), f"task={task!r} needs at least 2 classes.")
    return found


def score(name: str, value: object, source: Callable[[str], str], task: str) -> str:
    """The quantity the subject logs."""
    chosen = choice(name, value, SCORES, source(name))
    if chosen == "mcc" and task == "multilabel":
        raise invalid(
            name, value, source(name),
            "sklearn's matthews_corrcoef does not define MCC for multilabel data; check each label as a "
            "binary target, or use task='multiclass' or 'binary'.",
        )
    return chosen


def beta(name: str, value: object, source: Callable[[str], str], score_: str) -> float | None:
    """F-beta's ``beta``: required for, and only for, ``score="fbeta"``."""
    if score_ != "fbeta":
        if value is not None:
            raise invalid(name, value, source(name), f"beta belongs to score='fbeta', but score={score_!r}.")
        return None
    if value is None:
        # named where fbeta was asked for: a missing beta has no place of its own
        raise invalid(name, value, source("score"), "score='fbeta' needs beta = <a positive number>, e.g. 2.0.")
    value = number(name, value, source(name), why="it must be a positive number, such as 0.5 or 2.")
    if not 0 < value < math.inf:
        raise invalid(name, value, source(name), "it must be a positive finite number, such as 0.5 or 2.")
    return value


def targets(name: str, value: object, source: str) -> list:
    """The list of targets (each item is checked by :mod:`f1check.plugin.config`, which knows what a target is)."""
    if isinstance(value, (str, dict)) or not isinstance(value, list):
        raise ConfigError(
            f"Invalid targets {value!r} (from {source}): targets is a list, e.g. "
            'targets = ["pkg.metrics:f1", { callback = "pkg.callbacks:F1FromLogs", key = "f1" }].'
        )
    return value


def report(name: str, value: object, source: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(f"Invalid report {value!r} (from {source}): give a file path for the JSON report.")
    return value
