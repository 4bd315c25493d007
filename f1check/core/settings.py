"""The settings of a check, declared once: the table of keys, and the frozen records built from it.

:data:`SETTINGS` holds one :class:`Setting` per key (its name, default, rule, where it applies, how it is spelled
outside Python, its one-line doc), as hypothesis's ``_define_setting`` does.  Everything else is derived from it:
the fields and defaults of :class:`CheckSettings` and :class:`Semantics`, the keys ``check()``, ``[tool.f1check]``,
target tables, the marker and the fixtures accept (:data:`SETTING_KEYS`, :data:`RUN_KEYS`...), the command line
and ini options (:mod:`f1check.plugin.options`), ``check()``'s defaults (:data:`DEFAULT`) and the key table of
``docs/configuration.md`` (:func:`key_table`).  A new key is one entry here, plus its use.

Every value is validated by its key's rule (:mod:`f1check.core.validators`) with ``source``, the place the value came
from (``the tolerance= argument``, ``[tool.f1check] in /repo/pyproject.toml``, ``--f1check-tolerance``), so a bad
value is reported where the user wrote it.  :func:`build` turns a mapping of raw values into a
:class:`CheckSettings`.  Pure Python: the plugin validates with this before any test runs, without Keras or numpy.
"""

from __future__ import annotations

import textwrap
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from . import validators as rules
from .errors import ConfigError, did_you_mean, one_of
from .feeds import Feed  # noqa: F401 - named in the fields' annotations
from .labels import LabelForm  # noqa: F401 - named in the fields' annotations
from .modes import API_MODES, GATE_MODES, Mode  # noqa: F401 - Mode: named in the fields' annotations
from .validators import (
    AVERAGES,
    DEVICES,
    DTYPE_POLICIES,
    FEEDS,
    JUDGES,
    MODES,
    MULTICLASS_SCORES,
    SCORE_NAMES,
    SCORES,
    TASKS,
    choice,
)
from .weights import KINDS as WEIGHT_KINDS

DEFAULT_CLASSES = 3  # columns of fuzzed multiclass/multilabel data when classes is not given (not a key's default)

# Where a key applies.
RUN = "run"  # the pytest run only: [tool.f1check], ini, command line; not check(), the marker or a target
CHECK = "check"  # a check's setting, but one value for the whole run: not per target
TARGET = "target"  # a check's setting, also per target
LOOP = "loop"  # a target's setting that is a dimension of the loop, drawn per example
SAME = object()  # gate_default: the same as check()'s


@dataclass(frozen=True)
class Setting:
    """One key, declared once.

    ``rule`` checks a value: ``rule(name, value, where)``, or with ``needs`` (keys earlier in the table whose
    validated values it depends on) ``rule(name, value, source, *needed)`` where ``source(key)`` names where any
    key came from; ``None`` picks one of ``choices``.  ``type`` is the validated value's annotation (the field of
    :class:`CheckSettings`, or of :class:`Semantics` when ``semantic``).  ``ini`` is pytest's type of the
    ``f1check_<name>`` ini option; ``reads`` (``"number"``, ``"whole"``) how a value written as text is read
    there and on the command line; ``flag`` whether ``--f1check-<name>`` exists (``metavar`` its argument).
    ``gate_default`` is the default under ``pytest --f1check`` where it is not ``check()``'s; ``run_wide`` why a
    key of the whole run cannot be set per target.
    """

    name: str
    default: object
    doc: str
    rule: Callable | None = None
    scope: str = TARGET
    type: str = "str"
    needs: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    semantic: bool = False
    ini: str = "string"
    reads: str | None = None
    flag: bool = False
    metavar: str | None = None
    gate_default: object = SAME
    run_wide: str = ""

    @property
    def option(self) -> str | None:
        """``--f1check-<name>`` (underscores as dashes), if the key has one."""
        return f"--f1check-{self.name.replace('_', '-')}" if self.flag else None

    def default_for(self, gate: bool) -> object:
        return self.gate_default if gate and self.gate_default is not SAME else self.default

    def validate(self, value: object, source: Callable[[str], str], chosen: Mapping[str, object]) -> object:
        if self.needs:
            return self.rule(self.name, value, source, *(chosen[k] for k in self.needs))
        if self.rule is None:
            return choice(self.name, value, self.choices, source(self.name))
        return self.rule(self.name, value, source(self.name))


def _spelled(values) -> str:
    return ", ".join(f"`{v}`" for v in values)


SETTINGS = (
    Setting("targets", [], "what to check: `module:attr` strings, or tables naming a `metric` or a `callback` (with "
            "its `key` and `metrics`) and any per-target key", rules.targets, RUN, "list", ini="linelist"),
    Setting("modes", API_MODES, f"the loops each subject is checked in, out of {_spelled(MODES)}", rules.modes,
            type="tuple[Mode, ...]", ini="args", gate_default=GATE_MODES),
    Setting("tolerance", 1e-3, "largest |reported - sklearn| that passes", rules.tolerance, type="float",
            reads="number", flag=True, metavar="T"),
    Setting("judge", "seen", "`seen`: sklearn on what the loop fed; `total`: also on all samples", choices=JUDGES,
            flag=True),
    Setting("examples", 50, "examples per target and mode", rules.whole, type="int", reads="whole", flag=True,
            metavar="N"),
    Setting("seed", 0, "seed of the whole run; the same seed gives the same verdicts", rules.count, CHECK, "int",
            reads="whole", flag=True, metavar="S", run_wide="Each item's seed is derived from the run's seed and the "
            "item's name, so that any item reruns alone."),
    Setting("device", "auto", "run models on `cpu`, `gpu` (an error without one) or `auto`", None, RUN,
            choices=DEVICES, flag=True, run_wide="All models of a run share one device."),
    Setting("report", None, "write the results as JSON to PATH", rules.report, RUN, "str | None", flag=True,
            metavar="PATH", run_wide="A run writes one report."),
    Setting("task", "binary", "`binary`, `multiclass` (one-hot labels, first argmax) or `multilabel`",
            choices=TASKS, semantic=True),
    Setting("classes", None, "the number of classes (columns) of multiclass and multilabel data (none: 1 for binary, "
            "else the given data's)", rules.classes, type="int | None", needs=("task",), semantic=True, reads="whole"),
    Setting("average", None, f"sklearn's `average`, out of {_spelled(AVERAGES)} (none: `binary` for binary data, "
            "`macro` otherwise)", rules.average, needs=("task",), semantic=True),
    Setting("threshold", 0.5, "binary and multilabel scores above it (strictly) are positive", rules.threshold,
            type="float", semantic=True, reads="number"),
    Setting("zero_division", 0, "sklearn's value for 0/0: `0`, `1`, `warn` or `nan`", rules.zero_division,
            type="float | str", semantic=True),
    Setting("score", "f1", f"the quantity the subject logs, out of {_spelled(SCORES)}", rules.score,
            needs=("task",), semantic=True),
    Setting("beta", None, "F-beta's beta (score `fbeta` only)", rules.beta, type="float | None", needs=("score",),
            semantic=True, reads="number"),
    Setting("feeds", None, f"how data reaches the loop, out of {_spelled(FEEDS)} (none: every feed the mode can use)",
            rules.feeds, LOOP, "tuple[Feed, ...] | None", needs=("modes",), ini="args"),
    Setting("labels", None, "the label forms the loops are fed, out of `column`, `flat` (binary), `one-hot`, `sparse`, "
            "`sparse-column` (multiclass: class indices), `multi-hot` (multilabel) (none: every form of the task)",
            rules.labels, LOOP, "tuple[LabelForm, ...]", needs=("task",), ini="args"),
    Setting("label_dtypes", None, "the dtypes labels are fed in, out of `float32`, `int64`, `bool` (never for class "
            "indices) (none: all)", rules.label_dtypes, LOOP, "tuple[str, ...]", needs=("labels",), ini="args"),
    Setting("replicas", 1, "run the loops data-parallel over R replicas (tf.distribute.MirroredStrategy; TensorFlow "
            "only)", rules.whole, type="int", reads="whole", flag=True, metavar="R"),
    Setting("multiclass_scores", "softmax", "fuzzed multiclass scores: `softmax` (no exact tie between the top "
            "classes), `softmax-ties` or `independent` per class", choices=MULTICLASS_SCORES),
    Setting("timeout", None, "time budget of each f1check item; past it the item errors with how far it got and the "
            "next one runs", rules.timeout, type="float | None", reads="number", flag=True, metavar="SECONDS"),
    Setting("weighted", False, "check the subject as a weighted metric (`compile(weighted_metrics=...)`); sklearn "
            "gets `sample_weight`", rules.flag, type="bool", semantic=True, ini="bool"),
    Setting("weights", None, f"what the loops are given, out of {_spelled(WEIGHT_KINDS)} (none: `none`, and `sample` "
            "too when weighted)", rules.weights, LOOP, "tuple[str, ...]", needs=("weighted", "task", "modes"),
            ini="args"),
    Setting("steps_per_execution", (1,), "`compile(steps_per_execution=...)` values", rules.steps_per_execution,
            LOOP, "tuple[int, ...]", ini="args"),
    Setting("jit_compile", (False,), "`compile(jit_compile=...)` values (XLA)", rules.jit_compile, LOOP,
            "tuple[bool, ...]", ini="args"),
    Setting("dtype_policies", ("float32",), f"the model's dtype policies, out of {_spelled(DTYPE_POLICIES)}",
            rules.dtype_policies, LOOP, "tuple[str, ...]", ini="args"),
    Setting("output", None, "check the subject on this head of a two-output model (none: one output)", rules.output,
            type="str | None"),
    Setting("outputs", None, "how that two-output model gives its outputs, out of `dict`, `list` (none: both; only "
            "with `output`)", rules.outputs, LOOP, "tuple[str, ...] | None", needs=("output",), ini="args"),
)
KEYS = {s.name: s for s in SETTINGS}
# The keys with a --f1check-<key> flag, in the order --help has always listed them (a new flag goes last).
FLAG_ORDER = ("examples", "seed", "tolerance", "judge", "device", "report", "replicas", "timeout")
# Keys of one check's settings: check() arguments, [tool.f1check] and per-target keys, marker arguments.
SETTING_KEYS = tuple(s.name for s in SETTINGS if s.scope != RUN)
RUN_KEYS = tuple(s.name for s in SETTINGS if s.scope == RUN)  # keys of the pytest run only
TARGET_SETTINGS = tuple(s.name for s in SETTINGS if s.scope in (TARGET, LOOP))  # keys a target table may set
# check()'s defaults, as keyword defaults: DEFAULT.tolerance.
DEFAULT = namedtuple("Defaults", SETTING_KEYS)(*(KEYS[k].default for k in SETTING_KEYS))


def validate(values: Mapping[str, object], source: Callable[[str], str], keys: tuple[str, ...],
             gate: bool = False) -> dict:
    """The validated values of ``keys`` (in the table's order, so that a rule's needs come first).

    A key that is absent or None takes its default (``gate``: the one under ``pytest --f1check``).
    """
    given = {k: v for k, v in values.items() if v is not None}
    chosen: dict = {}
    for setting in SETTINGS:
        if setting.name in keys:
            chosen[setting.name] = setting.validate(given.get(setting.name, setting.default_for(gate)), source, chosen)
    return chosen


def _default_source(key: str) -> str:
    return "the default"


_DEFAULTS = validate({}, _default_source, SETTING_KEYS)  # the table's defaults, validated: the records' defaults


def _fields_from_table(semantic: bool):
    """The class decorated as a frozen dataclass whose fields are the table's keys (``semantic`` or not), each with
    its validated default, before the class's own fields."""
    def decorate(cls):
        keys = [s for s in SETTINGS if s.scope != RUN and s.semantic == semantic]
        cls.__annotations__ = {**{s.name: s.type for s in keys}, **cls.__dict__.get("__annotations__", {})}
        for s in keys:
            setattr(cls, s.name, _DEFAULTS[s.name])
        return dataclass(frozen=True)(cls)

    return decorate


@_fields_from_table(semantic=True)
class Semantics:
    """How labels and scores become the reference number: the table's ``semantic`` keys.

    Binary scores are positive iff ``score > threshold`` (strict, as
    ``keras.metrics.F1Score`` and half-to-even rounding do); multiclass data is
    one-hot and the predicted class is the first argmax; multilabel data is
    thresholded per column.  ``classes`` is the number of columns (1 for
    binary) once the data is known.  ``score`` picks the quantity: F1,
    precision, recall, F-beta (with ``beta``) or the Matthews correlation.
    ``weighted``: the reference weighs each sample as the loop did.
    """

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


@_fields_from_table(semantic=False)
class CheckSettings:
    """Everything one check needs besides the subject and the data: validated, immutable.

    The fields are the table's keys that are not the reference's (those are ``semantics``'s); ``feeds`` None
    means every feed the mode can use, ``timeout`` None no bound, ``output`` None one output.
    """

    semantics: Semantics = field(default_factory=Semantics)

    def fixed_compile(self) -> dict:
        """The compile settings of the fixed examples: the most demanding allowed (the most steps per execution,
        XLA if allowed, the first 16-bit policy if any), so that what breaks under them shows from the start."""
        policies = [p for p in self.dtype_policies if p != "float32"] or list(self.dtype_policies)
        return {"steps_per_execution": max(self.steps_per_execution), "jit_compile": any(self.jit_compile),
                "dtype_policy": policies[0], "outputs": self.output_kinds[0]}

    @property
    def output_kinds(self) -> tuple[str, ...]:
        """How the model's outputs are structured, drawn per example: one output, or two as a dict or a list."""
        return (self.outputs or ("dict", "list")) if self.output else ("single",)

    @property
    def plain_compile(self) -> bool:
        """Every loop compiles as Keras does by default: one step per execution, no XLA, float32, one output."""
        return self.steps_per_execution == (1,) and self.jit_compile == (False,) and \
            self.dtype_policies == ("float32",) and self.output is None

    def with_semantics(self, semantics: Semantics) -> CheckSettings:
        return replace(self, semantics=semantics)


SEMANTIC_KEYS = tuple(s.name for s in SETTINGS if s.scope != RUN and s.semantic)


def semantics(values: Mapping[str, object], source: Callable[[str], str]) -> Semantics:
    """The reference's settings alone, validated together (the average depends on the task, beta on the score)."""
    return Semantics(**validate(values, source, SEMANTIC_KEYS))


def build(values: Mapping[str, object], source: Callable[[str], str], gate: bool = False) -> CheckSettings:
    """A :class:`CheckSettings` from raw ``values`` (keys of :data:`SETTING_KEYS`); ``source(key)`` names where each came from.

    A key that is absent or None takes its default; ``gate``: the default under ``pytest --f1check``.
    """
    unknown = [k for k in values if k not in SETTING_KEYS]
    if unknown:
        raise ConfigError(
            f"unknown setting {unknown[0]!r} (from {source(unknown[0])}): valid settings are "
            f"{one_of(SETTING_KEYS)}.{did_you_mean(unknown[0], SETTING_KEYS)}"
        )
    chosen = validate(values, source, SETTING_KEYS, gate)
    semantic = {k: chosen.pop(k) for k in SEMANTIC_KEYS}
    return CheckSettings(semantics=Semantics(**semantic), **chosen)


def argument_source(key: str) -> str:
    """Where a ``check()`` keyword came from."""
    return f"the {key}= argument"


# -- the table as people read it -----------------------------------------------------------------------------

WHERE = {RUN: "the run", CHECK: "the run, `check()`", TARGET: "the run, `check()`, a target",
         LOOP: "the run, `check()`, a target; drawn per example"}


def spelled(value: object, python: bool = False) -> str:
    """A default as ``[tool.f1check]`` writes it (TOML: ``0.001``, ``"seen"``, ``["evaluate"]``, ``false``, and
    ``none`` for no value), or as Python does where ``python`` (``None``, ``False``)."""
    if value is None:
        return "None" if python else "none"
    if isinstance(value, bool):
        return str(value) if python else str(value).lower()
    if isinstance(value, Mode):
        return f'"{value.value}"'
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(spelled(v, python) for v in value) + "]"
    return repr(value)


def shown_default(setting: Setting) -> str:
    """The default column: the TOML value, and check()'s where the gate's differs."""
    if setting.gate_default is SAME:
        return f"`{spelled(setting.default)}`"
    return f"`{spelled(setting.gate_default)}` (`check()`: `{spelled(setting.default)}`)"


# How TOML writes a value of each annotation (a key's ``type``, ``| None`` dropped: leaving the key out is none).
TOML_TYPES = {"list": "list of strings or tables", "float": "number", "int": "integer", "str": "string",
              "bool": "boolean", "float | str": "number or string", "tuple[int, ...]": "list of integers",
              "tuple[bool, ...]": "list of booleans"}


def toml_type(setting: Setting) -> str:
    """The key's type as ``[tool.f1check]`` spells it: ``number``, ``list of strings``..."""
    annotation = setting.type.removesuffix(" | None")
    if annotation in TOML_TYPES:
        return TOML_TYPES[annotation]
    if annotation.startswith("tuple["):
        return "list of strings"
    raise ValueError(f"no TOML type for {setting.name}'s {setting.type!r}: add it to TOML_TYPES")


def key_table() -> str:
    """The key table of ``docs/configuration.md``, one row per key of :data:`SETTINGS` (a test holds the page to it)."""
    rows = ["| key | type | default | set for | command line | what it sets |", "|---|---|---|---|---|---|"]
    for s in SETTINGS:
        flag = f"`{s.option}{' ' + s.metavar if s.metavar else ''}`" if s.flag else ""
        doc = s.doc.replace("|", "\\|")  # a bar inside a cell is escaped
        rows.append(f"| `{s.name}` | {toml_type(s)} | {shown_default(s)} | {WHERE[s.scope]} | {flag} | {doc} |")
    return "\n".join(rows) + "\n"


def described(indent: int) -> str:
    """``check()``'s settings as its docstring lists them: ``name: doc (default ...)``, wrapped under ``indent``."""
    lines = []
    for name in SETTING_KEYS:
        text = f"{name}: {KEYS[name].doc.replace('`', '``')} (default {spelled(KEYS[name].default, python=True)})."
        lines += textwrap.wrap(text, 116 - indent, subsequent_indent="    ", break_on_hyphens=False)
    return f"\n{' ' * indent}".join(lines)
