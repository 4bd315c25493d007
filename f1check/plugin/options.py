"""The command line and ini options of the plugin: names, converters, and the values given.

One group (``--f1check``, then ``--f1check-<noun>``), each flag a constant the
tests import; converters name the flag's problem without repeating the flag
(argparse prefixes it); every setting also has an ``f1check_<key>`` ini twin
for projects without a pyproject.toml.  Both are made from the keys of
:data:`f1check.core.settings.SETTINGS` (a key's ``flag``, ``metavar``, ``reads``,
``ini`` and doc), not declared here.
"""

from __future__ import annotations

import argparse

from ..core import settings as names
from ..core.errors import ConfigError, did_you_mean, one_of
from . import config as f1config

OPTION = "--f1check"
SUMMARY = "--f1check-summary"  # a file, not a setting: the run's Markdown summary (as $GITHUB_STEP_SUMMARY gets)
_ORDER = names.FLAG_ORDER  # --help's order (a flag not listed there goes last)
_FLAGGED = sorted((s for s in names.SETTINGS if s.flag),
                  key=lambda s: _ORDER.index(s.name) if s.name in _ORDER else len(_ORDER))
# Every flag that sets a value, by the setting it sets.
FLAGS = tuple((s.name, s.option) for s in _FLAGGED)
EXAMPLES, SEED, TOLERANCE, JUDGE, DEVICE, REPORT, REPLICAS, TIMEOUT = (names.KEYS[k].option for k in _ORDER)


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


def _ini_help(setting) -> str:
    return f"as {setting.option}" if setting.flag else setting.doc.replace("`", "'")


# Every key of the table is also an f1check_<key> ini option.
INI_OPTIONS = tuple((s.name, s.ini, _ini_help(s)) for s in names.SETTINGS)
INI_NUMBERS = tuple(s.name for s in names.SETTINGS if s.reads == "number")
INI_WHOLE = tuple(s.name for s in names.SETTINGS if s.reads == "whole")
INI_KEYS = tuple(f"f1check_{key}" for key, _, _ in INI_OPTIONS)
_READ = {"number": _number, "whole": _whole}


def _flag_type(setting):
    """How the flag's text is read: a number, a whole number, one of the choices, or as given."""
    if setting.reads is not None:
        return _converter(setting.option, _READ[setting.reads])
    if setting.choices:
        return _converter(setting.option, _choice(setting.choices))
    return None


def _flag_help(setting) -> str:
    doc = setting.doc.replace("`", "'")
    default = setting.default
    shown = "none" if default is None else repr(default) if isinstance(default, str) else str(default)
    return f"{doc[0].upper()}{doc[1:]}. Default: {shown}"


def add_options(parser) -> None:
    """Register ``--f1check`` and the ``--f1check-*`` options, and their ini twins."""
    group = parser.getgroup("f1check", "f1check: is the F1 your Keras loop logs true?")
    group.addoption(OPTION, action="store_true", default=False,
                    help="Check the targets in [tool.f1check] through real Keras loops, and run tests marked f1check.")
    for setting in _FLAGGED:
        group.addoption(setting.option, type=_flag_type(setting), default=None, metavar=setting.metavar,
                        help=_flag_help(setting))
        if setting.name == "report":  # the summary's file beside the report's
            group.addoption(SUMMARY, default=None, metavar="PATH",
                            help="Write the run's Markdown summary (a table and each failure) to PATH; with "
                                 "$GITHUB_STEP_SUMMARY set it is also appended there. Default: none")
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
        if value in ("", [], None) or (names.KEYS[key].ini == "bool" and value is False):
            continue
        convert = _number if key in INI_NUMBERS else _whole if key in INI_WHOLE else None
        if convert is not None:
            try:
                value = convert(value)
            except ValueError as exc:
                raise ConfigError(f"Invalid {key} {value!r} (from the ini option f1check_{key}): {exc}.") from None
        values[key] = value
    return values
