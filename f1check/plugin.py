"""The pytest plugin: options, hooks and fixtures only; the work lives in the core.

Loaded through the ``pytest11`` entry point on every pytest run.  The modules
it imports are light (no Keras, TensorFlow, numpy, scikit-learn or hypothesis
at import time): those load only under ``--f1check`` or when a test uses an
f1check fixture.  Hypothesis's own plugin is the model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from . import backend, config as f1config, settings as names
from .api import run_check
from .errors import ConfigError, F1CheckError, F1CheckFailure, did_you_mean, one_of
from .fixtures import MARKER_KEYS, Checker, DataFactory, ModelFactory
from .report import SUMMARY_HEADER, document, error_json, error_row, failure_message, result_json, summary_row, table

OPTION = "--f1check"
EXAMPLES = "--f1check-examples"
SEED = "--f1check-seed"
TOLERANCE = "--f1check-tolerance"
JUDGE = "--f1check-judge"
DEVICE = "--f1check-device"
REPORT = "--f1check-report"
REPLICAS = "--f1check-replicas"
NODE = "f1check"
NODE_PREFIX = "f1check::"
SKIP_REASON = "f1check check: run pytest with --f1check to run it"


@dataclass
class _State:
    """Everything the run needs, kept in ``config.stash``."""

    run: f1config.RunConfig
    cli: dict
    collect: bool = False  # add the f1check collector (no path given, or f1check items named)
    selected: list[str] = field(default_factory=list)  # f1check:: node ids given on the command line
    device: str | None = None
    checker: Checker | None = None


STATE = pytest.StashKey[_State]()


# -- options -----------------------------------------------------------------------------------------------


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
)
INI_NUMBERS, INI_WHOLE = ("tolerance", "threshold", "beta"), ("examples", "seed", "classes", "replicas")


def pytest_addoption(parser):
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
    group.addoption(REPLICAS, type=_converter(REPLICAS, _whole), default=None, metavar="R",
                    help="Run the loops data-parallel over R replicas (tf.distribute.MirroredStrategy; "
                         "TensorFlow only). Default: 1")
    for key, kind, text in INI_OPTIONS:
        parser.addini(f"f1check_{key}", f"f1check: {text} (used when pyproject.toml has no [tool.f1check])", type=kind)


def _cli_values(config) -> dict:
    flags = (("examples", EXAMPLES), ("seed", SEED), ("tolerance", TOLERANCE), ("judge", JUDGE), ("device", DEVICE),
             ("report", REPORT), ("replicas", REPLICAS))
    return {key: config.getoption(flag) for key, flag in flags if config.getoption(flag) is not None}


def _ini_values(config) -> dict:
    """ini options, typed; a value that does not parse names its ini key."""
    values = {}
    for key in f1config.TOP_KEYS:
        value = config.getini(f"f1check_{key}")
        if value in ("", [], None):
            continue
        convert = _number if key in INI_NUMBERS else _whole if key in INI_WHOLE else None
        if convert is not None:
            try:
                value = convert(value)
            except ValueError as exc:
                raise ConfigError(f"Invalid {key} {value!r} (from the ini option f1check_{key}): {exc}.") from None
        values[key] = value
    return values


def _resolve(config) -> _State:
    """The run's settings; a bad value is a usage error that names where it came from."""
    cli = _cli_values(config)
    table_, path = f1config.load_pyproject(config.rootpath)
    ini = {} if table_ else _ini_values(config)
    return _State(run=f1config.resolve(cli, table_, ini, path), cli=cli)


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


# -- configure, header, collection -------------------------------------------------------------------------


def pytest_configure(config):
    """Register the marker; under --f1check resolve and validate the configuration, or stop."""
    config.addinivalue_line(
        "markers",
        f"f1check(**settings): a hand-written F1 check, run only with --f1check; settings ({', '.join(MARKER_KEYS)}) "
        "override the run's for the f1check fixture.",
    )
    if not config.getoption(OPTION):
        return
    try:
        state = _resolve(config)
        _prepare_replicas(state.run)
        if state.run.device != "auto":
            state.device = backend.select_device(state.run.device)
    except ConfigError as exc:
        raise pytest.UsageError(f"f1check: {exc}") from None
    config.stash[STATE] = state
    config.pluginmanager.register(_Reporting(config), "f1check-reporting")
    root = str(config.rootpath)
    if root not in sys.path:
        sys.path.insert(0, root)  # targets import as the repo's own tests import them
    ours = [a for a in config.args if a == NODE or a.startswith(NODE_PREFIX)]
    state.selected = [a for a in ours if a != NODE]
    state.collect = bool(ours) or config.args_source != pytest.Config.ArgsSource.ARGS
    if ours:
        # "f1check" and "f1check::target[mode]" are not paths pytest can collect: they select our items.
        config.args[:] = [a for a in config.args if a not in ours]


def _prepare_replicas(run) -> None:
    """Replicas need their devices before TensorFlow starts (the header starts it): split the CPU now."""
    most = max([run.settings.replicas, *(t.settings.replicas for t in run.targets)])
    if most > 1 and backend.backend_name() == "tensorflow":
        backend.prepare_replicas(most)


def pytest_report_header(config):
    """The line to repeat a run: f1check, Keras and backend versions, device, seed."""
    if not config.getoption(OPTION) or STATE not in config.stash:
        return None
    return _environment(config).header()


def _environment(config):
    state = config.stash[STATE]
    return backend.environment(state.run.seed, device=state.device)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """Under --f1check, add the ``f1check`` collector to the session's: its items are collected and counted as any."""
    report = yield
    config = collector.config
    if isinstance(collector, pytest.Session) and config.getoption(OPTION) and config.stash[STATE].collect:
        report.result.append(F1CheckCollector.from_parent(collector, name=NODE, nodeid=NODE))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Validate f1check markers under --f1check; skip tests marked f1check without it."""
    marked = [item for item in items if item.get_closest_marker("f1check") is not None]
    if not config.getoption(OPTION):
        skip = pytest.mark.skip(reason=SKIP_REASON)
        for item in marked:
            item.add_marker(skip)
        return
    for item in marked:
        _check_marker(item)


def _check_marker(item) -> None:
    for mark in item.iter_markers("f1check"):
        unknown = [k for k in mark.kwargs if k not in MARKER_KEYS]
        if mark.args or unknown:
            bad = unknown[0] if unknown else repr(mark.args[0])
            raise pytest.UsageError(
                f"f1check: @pytest.mark.f1check on {item.nodeid} has an unknown argument {bad}: it takes "
                f"keyword arguments {one_of(MARKER_KEYS)}.{did_you_mean(bad, MARKER_KEYS)}"
            )


def item_ids(run) -> list[tuple[str, f1config.TargetSpec, str]]:
    """``(name, target, mode)`` of every item, in configuration order: ``target[mode]``, ``target(2)[mode]`` ..."""
    seen: dict[str, int] = {}
    out = []
    for spec in run.targets:
        label = spec.label
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:  # the same target twice, with other settings
            label = f"{label}({seen[label]})"
        for mode in spec.settings.modes:
            out.append((f"{label}[{mode}]", spec, mode))
    return out


class F1CheckCollector(pytest.Collector):
    """The ``f1check`` node: one item per target and mode of the configuration."""

    def collect(self):
        state = self.config.stash[STATE]
        found = item_ids(state.run)
        if state.selected:
            names_ = [f"{NODE_PREFIX}{name}" for name, _, _ in found]
            unknown = sorted(set(state.selected) - set(names_))
            if unknown:
                raise pytest.UsageError(
                    f"f1check: no item {unknown[0]!r}; items are {names_}.{did_you_mean(unknown[0], names_)}"
                )
            found = [f for f in found if f"{NODE_PREFIX}{f[0]}" in state.selected]
        for name, spec, mode in found:
            yield F1CheckItem.from_parent(self, name=name, spec=spec, mode=mode)


class F1CheckItem(pytest.Item):
    """One target in one mode: a fuzzed check through the real Keras loop.

    The check runs in ``setup``: bad input (an F1CheckError) is then a pytest
    *error*, as JUnit's ``<error>``; a check that ran and found the logged
    value wrong fails in ``runtest``.
    """

    def __init__(self, *, spec, mode, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self.mode = mode
        self.report = None
        self.add_marker("f1check")

    def setup(self):
        state = self.config.stash[STATE]
        spec = self.spec
        chosen = replace(spec.settings, modes=(self.mode,), seed=item_seed(state.run.seed, self.name))
        live = LiveLine(self.config, self.name)
        try:
            report = run_check(spec.subject, chosen, callback_key=spec.key, callback_metrics=spec.metrics,
                               progress=live, save_dir=_data_dir(self.config))
        except F1CheckError as exc:
            self._record(error_json(spec.subject, self.mode, chosen.semantics.score, str(exc)),
                         error_row(spec.subject, self.mode, str(exc)))
            pytest.fail(f"f1check: {exc}", pytrace=False)  # a setup error: the message, no traceback
        finally:
            live.close()
        report.environment = _environment(self.config)  # the run's seed in the header, the one to rerun with
        result = report.results[0]
        self._record(result_json(result), summary_row(result), result)
        self.report = report

    def runtest(self):
        if self.report is not None and not self.report.passed:
            raise F1CheckFailure(failure_message(self.report, rerun=self.rerun_command()), report=self.report)

    def _record(self, data: dict, row, result=None) -> None:
        data = {"nodeid": self.nodeid, "index": self.spec.index, **data}
        self.user_properties.append(("f1check_result", json.dumps(data, sort_keys=True)))
        self.user_properties.append(("f1check_row", json.dumps(list(row))))
        if result is not None:  # the key figures, for JUnit XML
            self.user_properties += [
                ("f1check_status", result.status),
                ("f1check_passed", result.passed),
                ("f1check_examples", result.examples),
                ("f1check_max_abs_error", data["max_abs_error"]),
                ("f1check_dominant_error", result.worst.blame if result.worst is not None else ""),
                ("f1check_tolerance", result.tolerance),
            ]
        else:
            self.user_properties.append(("f1check_status", "error"))

    def rerun_command(self) -> str:
        state = self.config.stash[STATE]
        flags = [OPTION, f"{SEED}={state.run.seed}"]
        flags += [f"--f1check-{k}={v}" for k, v in sorted(state.cli.items()) if k not in ("seed", "report")]
        env = f"{backend.LEGACY_ENV}=1 " if backend.legacy() else ""
        name = backend.backend_name()
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


def _data_dir(config) -> Path | None:
    """Where counterexamples too large to print are saved: next to the JSON report if one is asked for."""
    report = config.stash[STATE].run.report
    if not report:
        return None
    path = Path(report)
    if not path.is_absolute():
        path = Path(config.invocation_params.dir) / path
    return path.parent / "f1check-data"


class LiveLine:
    """A live status after the current line on a terminal: examples done, worst error so far, elapsed.

    Written straight to the terminal and erased before pytest writes again, so
    pytest's own line (and its width arithmetic) is untouched.  Quiet without a
    TTY, under ``-q``, and in pytest-xdist workers.
    """

    EVERY = 0.25  # seconds between redraws

    def __init__(self, config, name: str):
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        writer = getattr(reporter, "_tw", None)
        self.file = getattr(writer, "_file", None)
        self.enabled = bool(
            reporter is not None and self.file is not None and reporter.isatty() and config.get_verbosity() >= 0
            and not _is_worker(config)
        )
        self.writer, self.name = writer, name
        self.started = self.drawn = time.monotonic()
        self.width = 0

    def __call__(self, done: int, total: int, worst: float) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.drawn < self.EVERY:
            return
        self.drawn = now
        text = f"  [{self.name} {done}/{total} examples, worst |error| {worst:.4g}, {now - self.started:.0f} s]"
        room = max(0, self.writer.fullwidth - len(self.writer._current_line) - 1)
        self._draw(text[:room])

    def _draw(self, text: str) -> None:
        line = self.writer._current_line
        self.file.write("\r" + line + text + " " * max(0, self.width - len(text)))
        self.file.flush()
        self.width = len(text)

    def close(self) -> None:
        if self.enabled and self.width:
            self._draw("")
            self.file.write("\r" + self.writer._current_line)
            self.file.flush()


# -- running hand-written checks ---------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    """Apply ``@pytest.mark.f1check(...)`` settings to the session's checker for this test's call."""
    state = item.config.stash.get(STATE, None)
    if state is not None and state.checker is not None:
        marker = item.get_closest_marker("f1check")
        state.checker.marker = dict(marker.kwargs) if marker is not None else {}


# -- results, summary, JSON --------------------------------------------------------------------------------


class _Reporting:
    """Collects item results (from workers too, under xdist) and writes the table and JSON once."""

    def __init__(self, config):
        self.config = config
        self.results: dict[str, dict] = {}
        self.rows: dict[str, list] = {}

    def pytest_runtest_logreport(self, report):
        """File each f1check item's result, from its user properties (complete at teardown)."""
        if report.when != "teardown":
            return
        for name, value in getattr(report, "user_properties", ()):
            if name == "f1check_result":
                data = json.loads(value)
                self.results[data["nodeid"]] = data
            elif name == "f1check_row":
                self.rows[report.nodeid] = json.loads(value)

    def ordered(self) -> list[dict]:
        return sorted(self.results.values(), key=lambda r: (r["index"], _mode_order(r["mode"]), r["nodeid"]))

    def pytest_terminal_summary(self, terminalreporter):
        """The f1check table: target, mode, verdict, examples, max |error|, dominant term, worst partition."""
        if _is_worker(self.config) or not self.results:
            return
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
        path = Path(state.run.report)
        if not path.is_absolute():
            path = Path(self.config.invocation_params.dir) / path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document(_environment(self.config), results), indent=2) + "\n")


def _mode_order(mode: str) -> int:
    return names.MODES.index(mode) if mode in names.MODES else len(names.MODES)


# -- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def f1check_device(pytestconfig) -> str:
    """``"GPU"`` or ``"CPU"``: where f1check's models run (``--f1check-device``)."""
    state = _state(pytestconfig)
    if state.device is None:
        try:
            state.device = backend.select_device(state.run.device)
        except ConfigError as exc:
            pytest.fail(f"f1check: {exc}", pytrace=False)
    return state.device


@pytest.fixture(scope="session")
def f1check(pytestconfig, f1check_device) -> Checker:
    """``f1check.assert_f1`` (call it) and ``.check``, bound to the run's options and seed."""
    state = _state(pytestconfig)
    if state.checker is None:
        state.checker = Checker(state.run.values, state.run.seed)
    return state.checker


@pytest.fixture(scope="session")
def f1check_data(pytestconfig) -> DataFactory:
    """A dataset factory: ``f1check_data(n, task=...) -> (y_true, scores)``; ``.learnable(n) -> (x, y)``."""
    return DataFactory(_state(pytestconfig).run.seed)


@pytest.fixture(scope="session")
def f1check_model(pytestconfig, f1check_device) -> ModelFactory:
    """A small-model factory: ``f1check_model(features=8, task=..., metrics=[...])`` -> compiled keras.Model."""
    return ModelFactory(f1check_device, _state(pytestconfig).run.seed)
