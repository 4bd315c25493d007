"""The settings of a check: names, defaults, validators, and the one frozen record they build.

Every setting is validated here and nowhere else.  A validator takes the
value and ``source``, the place the value came from (``the tolerance=
argument``, ``[tool.f1check] in /repo/pyproject.toml``,
``--f1check-tolerance``), so a bad value is reported where the user wrote it,
with the nearest valid spelling.  :func:`build` turns a mapping of raw values
into a :class:`CheckSettings`; ``check()``, ``[tool.f1check]``, the marker and
the fixtures all go through it.  Pure Python: the plugin validates with this
before any test runs, without importing Keras or numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from numbers import Real

from .errors import ConfigError, did_you_mean, one_of
from .feeds import Feed
from .modes import API_MODES, Mode
from .validators import choice, flag, invalid, listed, number, whole
from .weights import KINDS as WEIGHT_KINDS

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
# How data reaches the loop (f1check.feeds builds them).
FEEDS = tuple(f.value for f in Feed)

DEFAULT_TOLERANCE = 1e-3
DEFAULT_EXAMPLES = 50
DEFAULT_SEED = 0
DEFAULT_THRESHOLD = 0.5
DEFAULT_CLASSES = 3  # columns of fuzzed multiclass/multilabel data when classes is not given

# Keys of one check's settings: check() arguments, [tool.f1check] and per-target keys, marker arguments.
SETTING_KEYS = (
    "modes", "tolerance", "judge", "examples", "seed", "task", "classes", "average", "threshold",
    "zero_division", "score", "beta", "feeds", "replicas", "multiclass_scores", "timeout", "weighted", "weights",
    "steps_per_execution", "jit_compile", "dtype_policies", "output", "outputs",
)
# Keras dtype policies a loop can run under (the model computes in the 16-bit ones; variables stay float32).
DTYPE_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


@dataclass(frozen=True)
class Semantics:
    """How labels and scores become the reference number.

    Binary scores are positive iff ``score > threshold`` (strict, as
    ``keras.metrics.F1Score`` and half-to-even rounding do); multiclass data is
    one-hot and the predicted class is the first argmax; multilabel data is
    thresholded per column.  ``classes`` is the number of columns (1 for
    binary) once the data is known.  ``score`` picks the quantity: F1,
    precision, recall, F-beta (with ``beta``) or the Matthews correlation.
    """

    task: str = "binary"
    classes: int | None = 1
    average: str = "binary"
    threshold: float = DEFAULT_THRESHOLD
    zero_division: float | str = 0
    score: str = "f1"
    beta: float | None = None
    weighted: bool = False  # the subject is a weighted metric: the reference weighs each sample as the loop did

    @property
    def score_name(self) -> str:
        """How messages name the quantity: ``F1``, ``precision``, ``F-beta (beta=2)``, ``MCC``."""
        if self.score == "fbeta":
            return f"F-beta (beta={self.beta:g})"
        return SCORE_NAMES[self.score]

    @property
    def columns(self) -> int:
        """Columns of the data: 1 for binary, else ``classes`` (:data:`DEFAULT_CLASSES` for fuzzed data without)."""
        return 1 if self.task == "binary" else self.classes or DEFAULT_CLASSES

    def with_classes(self, columns: int) -> Semantics:
        return replace(self, classes=columns)


@dataclass(frozen=True)
class CheckSettings:
    """Everything one check needs besides the subject and the data: validated, immutable."""

    modes: tuple[Mode, ...] = API_MODES
    tolerance: float = DEFAULT_TOLERANCE
    judge: str = "seen"
    semantics: Semantics = field(default_factory=Semantics)
    examples: int = DEFAULT_EXAMPLES
    seed: int = DEFAULT_SEED
    feeds: tuple[Feed, ...] | None = None  # None: every feed the mode can use
    replicas: int = 1
    multiclass_scores: str = "softmax"
    timeout: float | None = None  # seconds one mode's check may take (None: no bound)
    weights: tuple[str, ...] = ("none",)  # what the loop is given: "none", "sample", "class" (drawn per example)
    steps_per_execution: tuple[int, ...] = (1,)  # compile(steps_per_execution=...), drawn per example
    jit_compile: tuple[bool, ...] = (False,)  # compile(jit_compile=...) (XLA), drawn per example
    dtype_policies: tuple[str, ...] = ("float32",)  # the model's dtype policy, drawn per example
    output: str | None = None  # the head of a two-output model the subject is compiled on (None: one output)
    outputs: tuple[str, ...] = ("dict", "list")  # how that model gives its two outputs, drawn per example

    def fixed_compile(self) -> dict:
        """The compile settings of the fixed examples: the most demanding allowed (the most steps per execution,
        XLA if allowed, the first 16-bit policy if any), so that what breaks under them shows from the start."""
        policies = [p for p in self.dtype_policies if p != "float32"] or list(self.dtype_policies)
        return {"steps_per_execution": max(self.steps_per_execution), "jit_compile": any(self.jit_compile),
                "dtype_policy": policies[0], "outputs": self.output_kinds[0]}

    @property
    def output_kinds(self) -> tuple[str, ...]:
        """How the model's outputs are structured, drawn per example: one output, or two as a dict or a list."""
        return self.outputs if self.output else ("single",)

    @property
    def plain_compile(self) -> bool:
        """Every loop compiles as Keras does by default: one step per execution, no XLA, float32, one output."""
        return self.steps_per_execution == (1,) and self.jit_compile == (False,) and \
            self.dtype_policies == ("float32",) and self.output is None

    def with_semantics(self, semantics: Semantics) -> CheckSettings:
        return replace(self, semantics=semantics)


# -- validators: one of each ---------------------------------------------------------------------------------






def tolerance(value: object, source: str) -> float:
    value = number("tolerance", value, source, why="it must be a finite number, such as 0.001.")
    if not math.isfinite(value):
        raise invalid("tolerance", value, source, "it must be a finite number, such as 0.001.")
    if value < 0:
        raise invalid(
            "tolerance", value, source, "it bounds |reported - sklearn| and cannot be negative; use 0 for exact agreement."
        )
    return value


def threshold(value: object, source: str) -> float:
    return number("threshold", value, source, 0.0, 1.0, "it must be a number in [0, 1]; scores above it are positive.")


def zero_division(value: object, source: str) -> float | str:
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
    raise invalid("zero_division", value, source, "valid values are 0, 1, 'warn' and 'nan', as in sklearn.")


def modes(value: object, source: str) -> tuple[Mode, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not value:
        raise invalid("modes", value, source, f"give a non-empty list of modes out of {one_of(MODES)}.")
    return tuple(dict.fromkeys(Mode(choice("mode", mode, MODES, source)) for mode in value))


def timeout(value: object, source: str) -> float | None:
    if value is None:
        return None
    seconds = number("timeout", value, source, why="it must be a number of seconds > 0, such as 300.")
    if not 0 < seconds < math.inf:
        raise invalid("timeout", value, source, "it must be a number of seconds > 0, such as 300.")
    return seconds


def weights(value: object, weighted: bool, task: str, modes_: tuple[Mode, ...], source) -> tuple[str, ...]:
    """The weight kinds the search draws from; every mode must have one it can run.

    Unset, a weighted subject meets loops with and without per-sample weights, an unweighted one loops without.
    """
    if value is None:
        value = ("none", "sample") if weighted else ("none",)
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not value:
        raise invalid("weights", value, source("weights"), f"give a list out of {one_of(WEIGHT_KINDS)}.")
    kinds = tuple(dict.fromkeys(choice("weights", kind, WEIGHT_KINDS, source("weights")) for kind in value))
    if "class" in kinds and task == "multilabel":
        raise invalid("weights", list(kinds), source("weights"),
                      "Keras's class_weight is for one label per sample; multilabel data takes \"sample\" weights.")
    for mode in modes_:
        if not any(kind != "class" or mode.trains for kind in kinds):
            raise invalid(
                "weights", list(kinds), source("weights"),
                f"mode {mode.value!r} has no training pass, so class weights never reach it (Keras applies "
                "class_weight in fit only): add \"sample\" or \"none\", or drop the mode.",
            )
    return kinds



def loop_compile(values: Mapping[str, object], source: Callable[[str], str]) -> dict:
    """``steps_per_execution``, ``jit_compile`` and ``dtype_policies``: what ``compile()`` is given, drawn per example.

    Strings as an ini file gives them ("4", "true") are read as the numbers and booleans they spell.
    """
    def steps(v):
        v = int(v) if isinstance(v, str) and v.strip().isdigit() else v
        return whole("steps_per_execution", v, source("steps_per_execution"))

    def jit(v):
        v = {"true": True, "false": False}.get(v.strip().lower(), v) if isinstance(v, str) else v
        return flag("jit_compile", v, source("jit_compile"))

    def policy(v):
        return choice("dtype_policies", v, DTYPE_POLICIES, source("dtype_policies"))

    return {
        "steps_per_execution": listed("steps_per_execution", values.get("steps_per_execution", (1,)),
                                      source("steps_per_execution"), steps, "[1, 4]"),
        "jit_compile": listed("jit_compile", values.get("jit_compile", (False,)), source("jit_compile"), jit,
                              "[false, true]"),
        "dtype_policies": listed("dtype_policies", values.get("dtype_policies", ("float32",)),
                                 source("dtype_policies"), policy, '["float32", "mixed_bfloat16"]'),
    }


def output(value: object, source: str) -> str | None:
    """The name of the head the subject is checked on: an output layer's name, as ``compile(metrics={name: ...})``."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.isidentifier() or value in ("f1check_other", "loss"):
        raise invalid("output", value, source, "give the name of the head, a Python identifier such as \"label\" "
                      "(the subject is compiled as compile(metrics={name: subject}) on a model with two outputs).")
    return value


def outputs(value: object, head: str | None, source: str) -> tuple[str, ...]:
    """How a two-output model gives its outputs (``"dict"``, ``"list"``), drawn per example; only with ``output``."""
    if value is None:
        return ("dict", "list")
    if head is None:
        raise invalid("outputs", value, source, "it says how a two-output model gives its outputs: set output too.")
    return listed("outputs", value, source, lambda v: choice("outputs", v, ("dict", "list"), source), '["list"]')


def feeds_for_modes(chosen: tuple[Feed, ...] | None, modes_: tuple[Mode, ...], source: str) -> None:
    """Every mode must have a feed it can use among ``chosen`` (the backend aside: that is known only later)."""
    if chosen is None:
        return
    for mode in modes_:
        if not any(f.can_feed(mode) for f in chosen):
            possible = [f.value for f in Feed if f.can_feed(mode)]
            raise invalid(
                "feeds", [f.value for f in chosen], source,
                f"none of them can feed mode {mode.value!r} (it takes {one_of(possible)}): generator-no-steps is "
                "evaluate-only (Keras cannot restart a generator for a second epoch), numpy and tf.data-unknown "
                "cannot drop a remainder. Add a feed the mode can use, or drop the mode.",
            )


def feeds(value: object, source: str) -> tuple[Feed, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not value:
        raise invalid("feeds", value, source, "give at least one feed, or None for all.")
    out = []
    for kind in value:
        if kind not in FEEDS:
            raise ConfigError(
                f"Invalid feed {kind!r} (from {source}): valid feeds are {one_of(FEEDS)}.{did_you_mean(kind, FEEDS)}"
            )
        out.append(Feed(kind))
    return tuple(dict.fromkeys(out))


def average(value: object, task: str, source: str) -> str:
    """The sklearn ``average``; ``None`` picks ``binary`` or ``macro`` by task."""
    if value is None:
        return "binary" if task == "binary" else "macro"
    chosen = choice("average", value, AVERAGES, source)
    if chosen == "binary" and task != "binary":
        raise invalid(
            "average", value, source,
            f"'binary' averaging needs task='binary', but task={task!r}; use 'micro', 'macro' or 'weighted'.",
        )
    return chosen


def classes(value: object, task: str, source: str) -> int | None:
    if value is None:
        return 1 if task == "binary" else None
    count = whole("classes", value, source)
    if task == "binary" and count != 1:
        raise invalid("classes", value, source, "binary data has one column; use task='multiclass' for more classes.")
    if task != "binary" and count < 2:
        raise invalid("classes", value, source, f"task={task!r} needs at least 2 classes.")
    return count


def score(value: object, beta: object, task: str, source: Callable[[str], str]) -> tuple[str, float | None]:
    """The quantity and its ``beta`` (required for, and only for, ``fbeta``)."""
    name = choice("score", value, SCORES, source("score"))
    if name == "fbeta":
        if beta is None:
            # named where fbeta was asked for: a missing beta has no place of its own
            raise invalid("beta", beta, source("score"), "score='fbeta' needs beta = <a positive number>, e.g. 2.0.")
        beta = number("beta", beta, source("beta"), why="it must be a positive number, such as 0.5 or 2.")
        if not 0 < beta < math.inf:
            raise invalid("beta", beta, source("beta"), "it must be a positive finite number, such as 0.5 or 2.")
        return name, beta
    if beta is not None:
        raise invalid("beta", beta, source("beta"), f"beta belongs to score='fbeta', but score={name!r}.")
    if name == "mcc" and task == "multilabel":
        raise invalid(
            "score", value, source("score"),
            "sklearn's matthews_corrcoef does not define MCC for multilabel data; check each label as a "
            "binary target, or use task='multiclass' or 'binary'.",
        )
    return name, None


def semantics(values: Mapping[str, object], source: Callable[[str], str]) -> Semantics:
    """The reference's settings, validated together (the average depends on the task, beta on the score)."""
    task = choice("task", values.get("task", "binary"), TASKS, source("task"))
    chosen, beta = score(values.get("score", "f1"), values.get("beta"), task, source)
    return Semantics(
        weighted=flag("weighted", values.get("weighted", False), source("weighted")),
        task=task,
        classes=classes(values.get("classes"), task, source("classes")),
        average=average(values.get("average"), task, source("average")),
        threshold=threshold(values.get("threshold", DEFAULT_THRESHOLD), source("threshold")),
        zero_division=zero_division(values.get("zero_division", 0), source("zero_division")),
        score=chosen,
        beta=beta,
    )


def build(values: Mapping[str, object], source: Callable[[str], str], default_modes=API_MODES) -> CheckSettings:
    """A :class:`CheckSettings` from raw ``values`` (keys of :data:`SETTING_KEYS`); ``source(key)`` names where each came from.

    A key that is absent or None takes its default.
    """
    unknown = [k for k in values if k not in SETTING_KEYS]
    if unknown:
        raise ConfigError(
            f"unknown setting {unknown[0]!r} (from {source(unknown[0])}): valid settings are "
            f"{one_of(SETTING_KEYS)}.{did_you_mean(unknown[0], SETTING_KEYS)}"
        )
    values = {k: v for k, v in values.items() if v is not None}
    chosen_modes = modes(values.get("modes", default_modes), source("modes"))
    chosen_feeds = feeds(values.get("feeds"), source("feeds"))
    feeds_for_modes(chosen_feeds, chosen_modes, source("feeds"))
    chosen_semantics = semantics(values, source)
    return CheckSettings(
        modes=chosen_modes,
        tolerance=tolerance(values.get("tolerance", DEFAULT_TOLERANCE), source("tolerance")),
        judge=choice("judge", values.get("judge", "seen"), JUDGES, source("judge")),
        semantics=chosen_semantics,
        examples=whole("examples", values.get("examples", DEFAULT_EXAMPLES), source("examples")),
        seed=whole("seed", values.get("seed", DEFAULT_SEED), source("seed"), minimum=0),
        feeds=chosen_feeds,
        replicas=whole("replicas", values.get("replicas", 1), source("replicas")),
        multiclass_scores=choice(
            "multiclass_scores", values.get("multiclass_scores", "softmax"), MULTICLASS_SCORES,
            source("multiclass_scores"),
        ),
        timeout=timeout(values.get("timeout"), source("timeout")),
        weights=weights(values.get("weights"), chosen_semantics.weighted, chosen_semantics.task, chosen_modes, source),
        **loop_compile(values, source),
        output=output(values.get("output"), source("output")),
        outputs=outputs(values.get("outputs"), values.get("output"), source("outputs")),
    )


def argument_source(key: str) -> str:
    """Where a ``check()`` keyword came from."""
    return f"the {key}= argument"
