"""The pytest plugin: options, hooks and fixtures only; the work lives in the core.

Loaded through the ``pytest11`` entry point on every pytest run, so it imports
nothing heavy at module level: Keras and the backend behind it load only
under ``--f1check`` or when a test uses an f1check fixture.  Hypothesis's own
plugin is the model (every hook imports lazily).
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import config as f1config
from .errors import ConfigError, F1CheckError, F1CheckFailure, did_you_mean, one_of

OPTION = "--f1check"
EXAMPLES = "--f1check-examples"
SEED = "--f1check-seed"
TOLERANCE = "--f1check-tolerance"
JUDGE = "--f1check-judge"
DEVICE = "--f1check-device"
REPORT = "--f1check-report"
REPLICAS = "--f1check-replicas"
NODE_PREFIX = "f1check::"
SKIP_REASON = "f1check check: run pytest with --f1check to run it"


@dataclass
class _State:
    """Everything the run needs, kept in ``config.stash``."""

    run: f1config.RunConfig
    enabled: bool
    cli: dict
    selected: list[str] = field(default_factory=list)  # f1check:: node ids given on the command line
    device: str | None = None
    results: dict = field(default_factory=dict)  # nodeid -> result JSON, on the controller
    checker: object = None


STATE = pytest.StashKey[_State]()


# -- options -----------------------------------------------------------------


def _converter(flag: str, convert):
    def parse(text: str):
        try:
            return convert(text)
        except (ValueError, ConfigError) as exc:
            raise argparse.ArgumentTypeError(f"{flag}: {exc}") from None

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


def pytest_addoption(parser):
    """Register ``--f1check`` and the ``--f1check-*`` options, and their ini twins."""
    from . import options

    group = parser.getgroup("f1check", "f1check: is the F1 your Keras loop logs true?")
    group.addoption(OPTION, action="store_true", default=False,
                    help="Check the targets in [tool.f1check] through real Keras loops, and run tests marked f1check.")
    group.addoption(EXAMPLES, type=_converter(EXAMPLES, _whole), default=None, metavar="N",
                    help=f"Examples per target and mode. Default: {options.DEFAULT_EXAMPLES}")
    group.addoption(SEED, type=_converter(SEED, _whole), default=None, metavar="S",
                    help=f"Seed of the whole run; the same seed gives the same verdicts. Default: {options.DEFAULT_SEED}")
    group.addoption(TOLERANCE, type=_converter(TOLERANCE, _number), default=None, metavar="T",
                    help=f"Largest |reported - sklearn| that passes. Default: {options.DEFAULT_TOLERANCE}")
    group.addoption(JUDGE, type=_converter(JUDGE, _choice(options.JUDGES)), default=None,
                    help="'seen': sklearn on what the loop fed; 'total': also on all samples. Default: 'seen'")
    group.addoption(DEVICE, type=_converter(DEVICE, _choice(f1config.DEVICES)), default=None,
                    help="Run models on 'cpu', 'gpu' (an error without one) or 'auto'. Default: 'auto'")
    group.addoption(REPORT, default=None, metavar="PATH", help="Write the results as JSON to PATH. Default: none")
    group.addoption(REPLICAS, type=_converter(REPLICAS, _whole), default=None, metavar="R",
                    help="Run the loops data-parallel over R replicas (tf.distribute.MirroredStrategy; "
                         "TensorFlow only). Default: 1")
    for key, kind, text in (
        ("targets", "linelist", "'module:attr' targets, one per line (tables need [tool.f1check])"),
        ("modes", "args", "modes: evaluate fit fit-dropped"),
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
        ("feeds", "args", "how data reaches the loop: pydataset generator generator-no-steps numpy tf.data tf.data-unknown"),
        ("replicas", "string", "as --f1check-replicas"),
    ):
        parser.addini(f"f1check_{key}", f"f1check: {text} (used when pyproject.toml has no [tool.f1check])", type=kind)


def _cli_values(config) -> dict:
    return {
        key: config.getoption(flag)
        for key, flag in (("examples", EXAMPLES), ("seed", SEED), ("tolerance", TOLERANCE),
                          ("judge", JUDGE), ("device", DEVICE), ("report", REPORT), ("replicas", REPLICAS))
        if config.getoption(flag) is not None
    }


def _ini_values(config) -> dict:
    """ini options, typed; a value that does not parse names its ini key."""
    values = {}
    for key in f1config.TOP_KEYS:
        value = config.getini(f"f1check_{key}")
        if value in ("", [], None):
            continue
        if key in ("tolerance", "threshold"):
            value = _ini_convert(key, value, _number)
        elif key in ("examples", "seed", "classes"):
            value = _ini_convert(key, value, _whole)
        values[key] = value
    return values


def _ini_convert(key, value, convert):
    try:
        return convert(value)
    except ValueError as exc:
        raise ConfigError(f"Invalid {key} {value!r} (from the ini option f1check_{key}): {exc}.") from None


def _resolve(config) -> _State:
    """The run's settings; a bad value is a usage error that names where it came from."""
    cli = _cli_values(config)
    table, path = f1config.load_pyproject(config.rootpath)
    ini = {} if table else _ini_values(config)
    run = f1config.resolve(cli, table, ini, path)
    return _State(run=run, enabled=config.getoption(OPTION), cli=cli)


def _state(config) -> _State:
    """The stashed state, resolved on first use (fixtures work without --f1check too)."""
    if STATE not in config.stash:
        try:
            config.stash[STATE] = _resolve(config)
        except ConfigError as exc:
            pytest.fail(f"f1check: {exc}", pytrace=False)
    return config.stash[STATE]


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


# -- configure, header, collection -------------------------------------------


def pytest_configure(config):
    """Register the marker; under --f1check resolve and validate the configuration, or stop."""
    config.addinivalue_line(
        "markers",
        "f1check(**settings): a hand-written F1 check, run only with --f1check; settings "
        f"({', '.join(_marker_keys())}) override the run's for the f1check fixture.",
    )
    if not config.getoption(OPTION):
        return
    try:
        state = _resolve(config)
        _prepare_replicas(state.run)
        state.device = _select_device(state.run.device)
    except ConfigError as exc:
        raise pytest.UsageError(f"f1check: {exc}") from None
    config.stash[STATE] = state
    config.pluginmanager.register(_Reporting(config), "f1check-reporting")
    root = str(config.rootpath)
    if root not in sys.path:
        sys.path.insert(0, root)  # targets import as the repo's own tests import them
    state.selected = [a for a in config.args if a.startswith(NODE_PREFIX)]
    if state.selected:
        # "f1check::target[mode]" is not a path pytest can collect: take it out, keep the rest.
        config.args[:] = [a for a in config.args if not a.startswith(NODE_PREFIX)]


def _prepare_replicas(run) -> None:
    """Replicas need their devices before TensorFlow starts (the header starts it): split the CPU now."""
    most = max([run.settings["replicas"], *(t.settings["replicas"] for t in run.targets)])
    if most <= 1:
        return
    from .backend import keras, prepare_replicas

    if keras().backend.backend() == "tensorflow":
        prepare_replicas(most)


def _select_device(requested: str) -> str | None:
    if requested == "auto":
        return None  # decided lazily, when the backend is loaded for the header
    from .backend import select_device

    return select_device(requested)


def _marker_keys():
    from .fixtures import MARKER_KEYS

    return MARKER_KEYS


def pytest_report_header(config):
    """The line to repeat a run: f1check, Keras and backend versions, device, seed."""
    if not config.getoption(OPTION) or STATE not in config.stash:
        return None
    return _environment(config).header()


def _environment(config):
    from .backend import environment

    state = config.stash[STATE]
    env = environment(state.run.seed)
    if state.device:
        env = type(env)(**{**env.to_json(), "device": state.device})
    return env


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Add one item per target and mode under --f1check; otherwise skip tests marked f1check."""
    marked = [item for item in items if item.get_closest_marker("f1check") is not None]
    if not config.getoption(OPTION):
        skip = pytest.mark.skip(reason=SKIP_REASON)
        for item in marked:
            item.add_marker(skip)
        return
    for item in marked:
        _check_marker(item)
    state = config.stash[STATE]
    collector = F1CheckCollector.from_parent(session, name="f1check", nodeid="f1check")
    added = [item for item in collector.collect()]
    if state.selected:
        wanted = set(state.selected)
        unknown = wanted - {item.nodeid for item in added}
        if unknown:
            ids = [item.nodeid for item in added]
            name = sorted(unknown)[0]
            raise pytest.UsageError(f"f1check: no item {name!r}; items are {ids}.{did_you_mean(name, ids)}")
        added = [item for item in added if item.nodeid in wanted]
    items[:0] = added


def _check_marker(item) -> None:
    keys = _marker_keys()
    for mark in item.iter_markers("f1check"):
        unknown = [k for k in mark.kwargs if k not in keys]
        if mark.args or unknown:
            bad = unknown[0] if unknown else repr(mark.args[0])
            raise pytest.UsageError(
                f"f1check: @pytest.mark.f1check on {item.nodeid} has an unknown argument {bad}: it takes "
                f"keyword arguments {one_of(keys)}.{did_you_mean(bad, keys)}"
            )


class F1CheckCollector(pytest.Collector):
    """The ``f1check`` node: one item per target and mode of the configuration."""

    def collect(self):
        state = self.config.stash[STATE]
        seen: dict[str, int] = {}
        for spec in state.run.targets:
            label = spec.label
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:  # the same target twice, with other settings
                label = f"{label}({seen[label]})"
            for mode in spec.settings["modes"]:
                yield F1CheckItem.from_parent(self, name=f"{label}[{mode}]", spec=spec, mode=mode)


class F1CheckItem(pytest.Item):
    """One target in one mode: a fuzzed check through the real Keras loop."""

    def __init__(self, *, spec, mode, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self.mode = mode
        self.add_marker("f1check")

    def runtest(self):
        from .check import check
        from .report import failure_message, summary_rows

        state = self.config.stash[STATE]
        s = self.spec.settings
        try:
            report = check(
                self.spec.subject,
                modes=[self.mode],
                tolerance=s["tolerance"],
                judge=s["judge"],
                task=s["task"],
                classes=s["classes"],
                average=s["average"],
                threshold=s["threshold"],
                zero_division=s["zero_division"],
                examples=s["examples"],
                seed=item_seed(state.run.seed, self.name),
                callback_key=self.spec.key,
                callback_metrics=self.spec.metrics,
                feeds=s["feeds"],
                replicas=s["replicas"],
            )
        except F1CheckError as exc:
            self._record({"target": self.spec.subject, "mode": self.mode, "passed": False, "error": str(exc)})
            self._row((self.spec.subject, self.mode, "ERROR", "-", "-", "-", str(exc).splitlines()[0][:60]))
            raise
        report.environment = _environment(self.config)  # the run's seed, the one to rerun with
        result = report.results[0]
        self._record(result.to_json(), result)
        self._row(summary_rows(report)[0])
        if not report.passed:
            raise F1CheckFailure(failure_message(report, rerun=self.rerun_command()), report=report)

    def _record(self, data: dict, result=None) -> None:
        data = {"nodeid": self.nodeid, "index": self.spec.index, **data}
        self.user_properties.append(("f1check_result", json.dumps(data, sort_keys=True)))
        if result is not None:  # the key figures, for JUnit XML
            self.user_properties += [
                ("f1check_passed", result.passed),
                ("f1check_examples", result.examples),
                ("f1check_max_abs_error", data["max_abs_error"]),
                ("f1check_dominant_error", result.worst.blame if result.worst is not None else ""),
                ("f1check_tolerance", result.tolerance),
            ]

    def _row(self, row) -> None:
        self.user_properties.append(("f1check_row", json.dumps(list(row))))

    def rerun_command(self) -> str:
        from . import backend

        state = self.config.stash[STATE]
        flags = [OPTION, f"{SEED}={state.run.seed}"]
        flags += [f"--f1check-{k}={v}" for k, v in sorted(state.cli.items()) if k not in ("seed", "report")]
        env = f"{backend.LEGACY_ENV}=1 " if backend.legacy() else ""
        name = backend.keras().backend.backend()
        env += f"KERAS_BACKEND={name} " if name != "tensorflow" else ""
        return f"{env}pytest {' '.join(flags)} '{self.nodeid}'"

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (F1CheckFailure, F1CheckError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"f1check {self.name}"


def item_seed(seed: int, name: str) -> int:
    """Each item's own seed, from the run's seed and the item's name (as pytest-randomly does)."""
    return (seed * 1_000_003 + zlib.crc32(name.encode())) % 2**32


# -- running hand-written checks ---------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    """Apply ``@pytest.mark.f1check(...)`` settings to the session's checker for this test's call."""
    state = item.config.stash.get(STATE, None)
    if state is not None and state.checker is not None:
        marker = item.get_closest_marker("f1check")
        state.checker.marker = dict(marker.kwargs) if marker is not None else {}


# -- results, summary, JSON ----------------------------------------------------


class _Reporting:
    """Collects item results (from workers too, under xdist) and writes the table and JSON once."""

    def __init__(self, config):
        self.config = config
        self.results: dict[str, dict] = {}
        self.rows: dict[str, list] = {}

    def pytest_runtest_logreport(self, report):
        """File each f1check item's result, from its user properties."""
        if report.when != "call":
            return
        for name, value in getattr(report, "user_properties", ()):
            if name == "f1check_result":
                data = json.loads(value)
                self.results[data["nodeid"]] = data
            elif name == "f1check_row":
                row = json.loads(value)
                self.rows[report.nodeid] = row

    def ordered(self) -> list[dict]:
        return sorted(self.results.values(), key=lambda r: (r["index"], _mode_order(r["mode"]), r["nodeid"]))

    def pytest_terminal_summary(self, terminalreporter):
        """The f1check table: target, mode, verdict, examples, max |error|, dominant term, worst partition."""
        if _is_worker(self.config) or not self.results:
            return
        from .report import SUMMARY_HEADER, table

        rows = [self.rows[r["nodeid"]] for r in self.ordered() if r["nodeid"] in self.rows]
        terminalreporter.write_sep("=", "f1check summary")
        terminalreporter.write_line(_environment(self.config).header())
        for line in table(rows, SUMMARY_HEADER):
            terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session):
        """Write ``--f1check-report``: byte-identical for the same seed and code."""
        state = self.config.stash[STATE]
        if _is_worker(self.config) or not state.run.report:
            return
        results = [{k: v for k, v in r.items() if k not in ("nodeid", "index")} for r in self.ordered()]
        document = {"version": 1, "environment": _environment(self.config).to_json(), "results": results}
        path = Path(state.run.report)
        if not path.is_absolute():
            path = Path(self.config.invocation_params.dir) / path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n")


def _mode_order(mode: str) -> int:
    from .options import MODES

    return MODES.index(mode) if mode in MODES else len(MODES)


# -- fixtures ----------------------------------------------------------------


@pytest.fixture(scope="session")
def f1check_device(pytestconfig) -> str:
    """``"GPU"`` or ``"CPU"``: where f1check's models run (``--f1check-device``)."""
    state = _state(pytestconfig)
    if state.device is None:
        from .backend import select_device

        try:
            state.device = select_device(state.run.device)
        except ConfigError as exc:
            pytest.fail(f"f1check: {exc}", pytrace=False)
    return state.device


@pytest.fixture(scope="session")
def f1check(pytestconfig, f1check_device):
    """``f1check.assert_f1`` (call it) and ``.check``, bound to the run's options and seed."""
    from .fixtures import Checker

    state = _state(pytestconfig)
    if state.checker is None:
        state.checker = Checker(state.run.settings, state.run.seed)
    return state.checker


@pytest.fixture(scope="session")
def f1check_data(pytestconfig):
    """A dataset factory: ``f1check_data(n, task=...) -> (y_true, scores)``; ``.learnable(n) -> (x, y)``."""
    from .fixtures import DataFactory

    return DataFactory(_state(pytestconfig).run.seed)


@pytest.fixture(scope="session")
def f1check_model(pytestconfig, f1check_device):
    """A small-model factory: ``f1check_model(features=8, task=..., metrics=[...])`` -> compiled keras.Model."""
    from .fixtures import ModelFactory

    return ModelFactory(f1check_device, _state(pytestconfig).run.seed)
