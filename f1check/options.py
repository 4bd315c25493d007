"""The command line and ini options of the plugin: names, converters, and the values given.

One group (``--f1check``, then ``--f1check-<noun>``), each flag a constant the
tests import; converters name the flag's problem without repeating the flag
(argparse prefixes it); every setting also has an ``f1check_<key>`` ini twin
for projects without a pyproject.toml.
"""

from __future__ import annotations

import argparse

from . import config as f1config, settings as names
from .errors import ConfigError, did_you_mean, one_of

OPTION = "--f1check"
EXAMPLES = "--f1check-examples"
SEED = "--f1check-seed"
TOLERANCE = "--f1check-tolerance"
JUDGE = "--f1check-judge"
DEVICE = "--f1check-device"
REPORT = "--f1check-report"
REPLICAS = "--f1check-replicas"
TIMEOUT = "--f1check-timeout"
SUMMARY = "--f1check-summary"  # a file, not a setting: the run's Markdown summary (as $GITHUB_STEP_SUMMARY gets)
# Every flag that sets a value, by the setting it sets.
FLAGS = (("examples", EXAMPLES), ("seed", SEED), ("tolerance", TOLERANCE), ("judge", JUDGE), ("device", DEVICE),
         ("report", REPORT), ("replicas", REPLICAS), ("timeout", TIMEOUT))

def _converter(flag: str, convert):
    def parse(text: str):
        try:
            return convert(text)
        except (ValueError, ConfigError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = flag  # argparse names the converter in some messages
    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def _choice(choices):
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"invalid choice {text!r}: valid values are {one_of(choices)}.{did_you_mean(text, choices)}")
        return text

    return parse


INI_OPTIONS = (
    ("targets", "linelist", "'module:attr' targets, one per line (tables need [tool.f1check])"),
    ("modes", "args", f"modes: {' '.join(names.MODES)}"),
    ("tolerance", "string", "as --f1check-tolerance"),
    ("judge", "string", "as --f1check-judge"),
    ("examples", "string", "as --f1check-examples"),
    ("seed", "string", "as --f1check-seed"),
    ("device", "string", "as --f1check-device"),
    ("report", "string", "as --f1check-report"),
    ("task", "string", "binary, multiclass or multilabel"),
    ("classes", "string", "number of classes"),
    ("average", "string", "binary, micro, macro or weighted"),
    ("threshold", "string", "score threshold"),
    ("zero_division", "string", "0, 1, warn or nan"),
    ("score", "string", "f1, precision, recall, fbeta or mcc"),
    ("beta", "string", "F-beta's beta (score = fbeta)"),
    ("feeds", "args", f"how data reaches the loop: {' '.join(names.FEEDS)}"),
    ("replicas", "string", "as --f1check-replicas"),
    ("multiclass_scores", "string", "softmax, softmax-ties or independent"),
    ("timeout", "string", "as --f1check-timeout"),
    ("weighted", "bool", "check the subject as a weighted metric (compile(weighted_metrics=...))"),
    ("weights", "args", "what the loops are given: none sample class"),
    ("steps_per_execution", "args", "compile(steps_per_execution=...) values drawn per example, e.g. 1 4"),
    ("jit_compile", "args", "compile(jit_compile=...) values drawn per example: false true"),
    ("dtype_policies", "args", "dtype policies drawn per example: float32 mixed_float16 mixed_bfloat16"),
    ("output", "string", "check the subject on this head of a two-output model"),
    ("outputs", "args", "how that two-output model gives its outputs, drawn per example: dict list"),
)
INI_NUMBERS, INI_WHOLE = ("tolerance", "threshold", "beta", "timeout"), ("examples", "seed", "classes", "replicas")
INI_KEYS = tuple(f"f1check_{key}" for key, _, _ in INI_OPTIONS)


def add_options(parser) -> None:
    """Register ``--f1check`` and the ``--f1check-*`` options, and their ini twins."""
    group = parser.getgroup("f1check", "f1check: is the F1 your Keras loop logs true?")
    group.addoption(OPTION, action="store_true", default=False,
                    help="Check the targets in [tool.f1check] through real Keras loops, and run tests marked f1check.")
    group.addoption(EXAMPLES, type=_converter(EXAMPLES, _whole), default=None, metavar="N",
                    help=f"Examples per target and mode. Default: {names.DEFAULT_EXAMPLES}")
    group.addoption(SEED, type=_converter(SEED, _whole), default=None, metavar="S",
                    help=f"Seed of the whole run; the same seed gives the same verdicts. Default: {names.DEFAULT_SEED}")
    group.addoption(TOLERANCE, type=_converter(TOLERANCE, _number), default=None, metavar="T",
                    help=f"Largest |reported - sklearn| that passes. Default: {names.DEFAULT_TOLERANCE}")
    group.addoption(JUDGE, type=_converter(JUDGE, _choice(names.JUDGES)), default=None,
                    help="'seen': sklearn on what the loop fed; 'total': also on all samples. Default: 'seen'")
    group.addoption(DEVICE, type=_converter(DEVICE, _choice(names.DEVICES)), default=None,
                    help="Run models on 'cpu', 'gpu' (an error without one) or 'auto'. Default: 'auto'")
    group.addoption(REPORT, default=None, metavar="PATH", help="Write the results as JSON to PATH. Default: none")
    group.addoption(SUMMARY, default=None, metavar="PATH",
                    help="Write the run's Markdown summary (a table and each failure) to PATH; with "
                         "$GITHUB_STEP_SUMMARY set it is also appended there. Default: none")
    group.addoption(REPLICAS, type=_converter(REPLICAS, _whole), default=None, metavar="R",
                    help="Run the loops data-parallel over R replicas (tf.distribute.MirroredStrategy; "
                         "TensorFlow only). Default: 1")
    group.addoption(TIMEOUT, type=_converter(TIMEOUT, _number), default=None, metavar="SECONDS",
                    help="Time budget of each f1check item; past it the item errors with how far it got and the next "
                         "one runs. Default: none")
    for key, kind, text in INI_OPTIONS:
        parser.addini(f"f1check_{key}", f"f1check: {text} (used when pyproject.toml has no [tool.f1check])", type=kind)


def cli_values(config) -> dict:
    return {key: config.getoption(flag) for key, flag in FLAGS if config.getoption(flag) is not None}


def typed_on_command_line(config, flag: str) -> bool:
    """Whether ``flag`` is in the command the user typed (not only in addopts or PYTEST_ADDOPTS)."""
    return any(arg == flag or arg.startswith(flag + "=") for arg in config.invocation_params.args)


def unknown_ini_keys(config) -> list[str]:
    """``f1check_*`` keys of the ini file that are not f1check's (a typo: pytest would ignore them with a warning)."""
    unknown = getattr(config, "_get_unknown_ini_keys", None)  # pytest 8 and 9; the public inicfg is deprecated
    given = unknown() if unknown is not None else ()
    return sorted(k for k in given if str(k).startswith("f1check") and k not in INI_KEYS)


def ini_values(config) -> dict:
    """ini options, typed; a value that does not parse names its ini key."""
    values = {}
    for key in f1config.TOP_KEYS:
        value = config.getini(f"f1check_{key}")
        if value in ("", [], None) or (key == "weighted" and value is False):
            continue
        convert = _number if key in INI_NUMBERS else _whole if key in INI_WHOLE else None
        if convert is not None:
            try:
                value = convert(value)
            except ValueError as exc:
                raise ConfigError(f"Invalid {key} {value!r} (from the ini option f1check_{key}): {exc}.") from None
        values[key] = value
    return values
