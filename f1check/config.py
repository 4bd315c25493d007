"""Run configuration: command line, then ``[tool.f1check]``, then ini, then defaults.

One place resolves every setting and remembers where each value came from,
so a bad value is reported as ``invalid judge 'totl' (from [tool.f1check] in
/repo/pyproject.toml)``.  Pure Python: the plugin validates with this before
any test runs, without importing Keras (except to look for a GPU when
``device = "gpu"`` is asked for).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import options
from .errors import ConfigError, did_you_mean, one_of

DEVICES = ("auto", "cpu", "gpu")
# Keys of [tool.f1check] (and, prefixed with f1check_, of the ini file).
TOP_KEYS = (
    "targets", "tolerance", "judge", "modes", "examples", "seed", "device", "report",
    "task", "classes", "average", "threshold", "zero_division", "feeds", "replicas",
)
# Keys a target table may set; per-target keys override the top-level ones.
OVERRIDES = (
    "tolerance", "judge", "modes", "task", "classes", "average", "threshold", "zero_division", "examples", "feeds",
    "replicas",
)
TARGET_KEYS = ("metric", "callback", "key", "metrics", *OVERRIDES)


@dataclass(frozen=True)
class TargetSpec:
    """One entry of ``targets``: the subject and its settings, already validated."""

    subject: str
    callback: bool
    key: str | None
    metrics: tuple[str, ...]
    settings: dict  # the effective check settings for this target
    index: int

    @property
    def label(self) -> str:
        return self.subject


@dataclass
class RunConfig:
    """The resolved settings of a ``pytest --f1check`` run."""

    settings: dict  # tolerance, judge, modes, examples, task, classes, average, threshold, zero_division
    seed: int
    device: str
    report: str | None
    targets: list[TargetSpec]
    sources: dict = field(default_factory=dict)  # key -> where its value came from
    pyproject: Path | None = None


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
    table = document.get("tool", {}).get("f1check", {})
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.f1check] in {path} must be a table, got {type(table).__name__}.")
    return table, path


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
        else:
            sources[key] = "the default"

    def src(key: str) -> str:
        return sources[key]

    settings = _settings(raw, src)
    seed = options.seed(raw.get("seed"), src("seed"))
    device = raw.get("device", "auto")
    if device not in DEVICES:
        raise ConfigError(
            f"Invalid device {device!r} (from {src('device')}): valid values are {one_of(DEVICES)}."
            f"{did_you_mean(device, DEVICES)}"
        )
    report = raw.get("report")
    if report is not None and not isinstance(report, str):
        raise ConfigError(f"Invalid report {report!r} (from {src('report')}): give a file path for the JSON report.")
    targets = _targets(raw.get("targets", []), settings, src("targets"))
    return RunConfig(settings, seed, device, report, targets, sources, pyproject)


def _settings(raw: dict, src, base: dict | None = None) -> dict:
    """Validated check settings from ``raw``, on top of ``base`` (the top level, for a target)."""
    base = base or {}

    def pick(key, default=None):
        return raw[key] if key in raw else base.get(key, default)

    # A target that changes task keeps the top-level average only if one was written there.
    average = raw["average"] if "average" in raw else (base.get("average") if base.get("average_given") else None)
    semantics = _semantics(
        pick("task", "binary"),
        pick("classes"),
        average,
        pick("threshold", options.DEFAULT_THRESHOLD),
        pick("zero_division", 0),
        src,
    )
    from . import feeds

    return {
        "feeds": feeds.validate(pick("feeds"), src("feeds")),
        "replicas": options.positive_int("replicas", pick("replicas", 1), src("replicas")),
        "tolerance": options.tolerance(pick("tolerance", options.DEFAULT_TOLERANCE), src("tolerance")),
        "judge": options.judge(pick("judge", "seen"), src("judge")),
        "modes": options.modes(pick("modes", ["evaluate"]), src("modes")),
        "examples": options.positive_int("examples", pick("examples", options.DEFAULT_EXAMPLES), src("examples")),
        "task": semantics.task,
        "classes": None if semantics.task == "binary" else semantics.classes,
        "average": semantics.average,
        "threshold": semantics.threshold,
        "zero_division": semantics.zero_division,
        "average_given": average is not None,
    }


def _semantics(task, classes, average, threshold, zero_division, src) -> options.Semantics:
    task_ok = options.task(task, src("task"))
    return options.Semantics(
        task=task_ok,
        classes=options.classes(classes, task_ok, src("classes")),
        average=options.average(average, task_ok, src("average")),
        threshold=options.threshold(threshold, src("threshold")),
        zero_division=options.zero_division(zero_division, src("zero_division")),
    )


def _targets(value: Any, settings: dict, source: str) -> list[TargetSpec]:
    if isinstance(value, (str, dict)) or not isinstance(value, list):
        raise ConfigError(
            f"Invalid targets {value!r} (from {source}): targets is a list, e.g. "
            'targets = ["pkg.metrics:f1", { callback = "pkg.callbacks:F1FromLogs", key = "f1" }].'
        )
    specs = []
    for index, item in enumerate(value):
        where = f"targets[{index}] (from {source})"
        if isinstance(item, str):
            item = {"metric": item}
        if not isinstance(item, dict):
            raise ConfigError(f"{where} is {item!r}: each target is a 'module:attr' string or a table.")
        unknown = [k for k in item if k not in TARGET_KEYS]
        if unknown:
            key = unknown[0]
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
            raise ConfigError(f"{where}: a callback target needs key = \"...\", the logs key it writes its F1 to.")
        if not is_callback and ("key" in item or "metrics" in item):
            raise ConfigError(f"{where}: 'key' and 'metrics' belong to callback targets (callback = \"...\").")
        if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
            raise ConfigError(f"{where}: metrics must be a list of 'module:attr' strings.")
        local = {k: item[k] for k in OVERRIDES if k in item}
        target_settings = _settings(local, lambda k, w=where: w, base=settings)
        specs.append(TargetSpec(subject, is_callback, key, tuple(metrics), target_settings, index))
    return specs
