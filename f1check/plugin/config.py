"""Run configuration: command line, then ``[tool.f1check]``, then ini, then defaults.

One place resolves every setting and remembers where each value came from,
so a bad value is reported as ``Invalid judge 'totl' (from [tool.f1check] in
/repo/pyproject.toml)``.  Each target's settings are the top-level values with
the target's own keys on top, built by :func:`f1check.core.settings.build` like
``check()``'s.  Pure Python: the plugin validates with this before any test
runs, without importing Keras.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..core import settings as names
from ..core.errors import ConfigError, did_you_mean, one_of
from ..core.settings import CheckSettings

# Keys of [tool.f1check] (and, prefixed with f1check_, of the ini file): all of the table's.
RUN_KEYS = names.RUN_KEYS
TOP_KEYS = (*RUN_KEYS, *names.SETTING_KEYS)
# Keys a target table may set; per-target keys override the top-level ones.
OVERRIDES = names.TARGET_SETTINGS
# Keys that only make sense for the whole run, and why.
RUN_WIDE = {s.name: s.run_wide for s in names.SETTINGS if s.name not in OVERRIDES}
# A target table's own keys (what to check, not how), then the settings it may override.
TARGET_KEYS = ("metric", "callback", "key", "metrics", *OVERRIDES)


@dataclass(frozen=True)
class TargetSpec:
    """One entry of ``targets``: the subject and its settings, already validated."""

    subject: str
    callback: bool
    key: str | None
    metrics: tuple[str, ...]
    settings: CheckSettings
    index: int

    @property
    def label(self) -> str:
        return self.subject


@dataclass
class RunConfig:
    """The resolved settings of a ``pytest --f1check`` run."""

    settings: CheckSettings  # the top level's, for hand-written checks (the f1check fixture)
    seed: int
    device: str
    report: str | None
    targets: list[TargetSpec]
    values: dict = field(default_factory=dict)  # the raw top-level setting values (for the fixture's overrides)
    sources: dict = field(default_factory=dict)  # key -> where its value came from


def load_pyproject(rootpath: Path) -> tuple[dict, Path | None]:
    """The ``[tool.f1check]`` table of the rootdir's pyproject.toml ({} if none)."""
    path = Path(rootpath) / "pyproject.toml"
    if not path.is_file():
        return {}, None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}. Fix the file (f1check reads [tool.f1check] from it).") from None
    tools = document.get("tool", {})
    if "f1check" not in tools:
        misspelled = near_miss(tools)
        if misspelled is not None:
            raise ConfigError(
                f"{path} has a [tool.{misspelled}] table but no [tool.f1check]: f1check reads only [tool.f1check], "
                f"so nothing in it would be checked. Rename [tool.{misspelled}] to [tool.f1check]."
            )
        return {}, path
    table = tools["f1check"]
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.f1check] in {path} must be a table, got {type(table).__name__}.")
    return table, path


def near_miss(tables) -> str | None:
    """The name of a ``[tool.*]`` table that looks like a misspelling of ``f1check`` (``f1chek``, ``f1-check``)."""
    import difflib

    def squeeze(name: str) -> str:
        return "".join(c for c in str(name).lower() if c.isalnum())

    for name in tables:
        if squeeze(name) == "f1check" or difflib.SequenceMatcher(None, squeeze(name), "f1check").ratio() >= 0.8:
            return name
    return None


def resolve(cli: dict, table: dict, ini: dict, pyproject: Path | None) -> RunConfig:
    """Merge command line (``cli``), ``[tool.f1check]`` (``table``) and ini values; validate all."""
    table_source = f"[tool.f1check] in {pyproject}" if pyproject else "[tool.f1check]"
    unknown = [k for k in table if k not in TOP_KEYS]
    if unknown:
        key = unknown[0]
        raise ConfigError(
            f"unknown key {key!r} in {table_source}: valid keys are {one_of(TOP_KEYS)}.{did_you_mean(key, TOP_KEYS)}"
        )
    raw, sources = {}, {}
    for key in TOP_KEYS:
        for value, source in (
            (cli.get(key), f"--f1check-{key.replace('_', '-')}"),
            (table.get(key), table_source),
            (ini.get(key), f"the ini option f1check_{key}"),
        ):
            if value is not None:
                raw[key], sources[key] = value, source
                break

    def source(key: str) -> str:
        return sources.get(key, "the default")

    values = {k: v for k, v in raw.items() if k in names.SETTING_KEYS}
    top = names.build(values, source, gate=True)
    run = names.validate(raw, source, RUN_KEYS)
    targets = _targets(run["targets"], values, source)
    return RunConfig(top, top.seed, run["device"], run["report"], targets, values, {k: source(k) for k in TOP_KEYS})


def _targets(value: list, top: dict, top_source) -> list[TargetSpec]:
    where_list = top_source("targets")
    return [_target(item, index, top, top_source, f"targets[{index}] (from {where_list})") for index, item in enumerate(value)]


def _target(item, index: int, top: dict, top_source, where: str) -> TargetSpec:
    if isinstance(item, str):
        item = {"metric": item}
    if not isinstance(item, dict):
        raise ConfigError(f"{where} is {item!r}: each target is a 'module:attr' string or a table.")
    unknown = [k for k in item if k not in TARGET_KEYS]
    if unknown:
        key = unknown[0]
        if key in RUN_WIDE:
            raise ConfigError(
                f"{key!r} in {where} is a setting of the whole run, not of one target: set it at the top of "
                f"[tool.f1check] (or with --f1check-{key}). {RUN_WIDE[key]}"
            )
        raise ConfigError(
            f"unknown key {key!r} in {where}: a target table takes {one_of(TARGET_KEYS)}.{did_you_mean(key, TARGET_KEYS)}"
        )
    if ("metric" in item) == ("callback" in item):
        raise ConfigError(f"{where} needs exactly one of 'metric' or 'callback' (the 'module:attr' to check).")
    subject = item.get("metric", item.get("callback"))
    if not isinstance(subject, str) or ":" not in subject:
        raise ConfigError(f"{where}: {subject!r} is not a 'module:attr' string, e.g. 'pkg.metrics:f1'.")
    is_callback = "callback" in item
    key = item.get("key")
    metrics = item.get("metrics", [])
    if is_callback and not isinstance(key, str):
        raise ConfigError(f"{where}: a callback target needs key = \"...\", the logs key it writes its value to.")
    if not is_callback and ("key" in item or "metrics" in item):
        raise ConfigError(f"{where}: 'key' and 'metrics' belong to callback targets (callback = \"...\").")
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise ConfigError(f"{where}: metrics must be a list of 'module:attr' strings.")
    local = {k: item[k] for k in OVERRIDES if k in item}
    merged = {**top, **local}

    def source(key: str) -> str:
        return where if key in local else top_source(key)

    settings = names.build(merged, source, gate=True)
    return TargetSpec(subject, is_callback, key, tuple(metrics), settings, index)
