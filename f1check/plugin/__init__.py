"""The pytest plugin: options, hooks and fixtures only; the work lives in the core.

Loaded through the ``pytest11`` entry point on every pytest run.  The modules
it imports are light (no Keras, TensorFlow, numpy, scikit-learn or hypothesis
at import time): those load only under ``--f1check`` or when a test uses an
f1check fixture.  Hypothesis's own plugin is the model.
"""

from __future__ import annotations

import signal

import pytest

from ..core import backend
from ..core import settings as names
from ..core.errors import ConfigError, did_you_mean, one_of
from ..core.versions import check_range
from . import config as f1config
from .deadline import LastWords
from .files import Reporting, report_path, summary_paths
from .fixtures import MARKER_KEYS, Checker, DataFactory, ModelFactory
from .items import NODE, NODE_PREFIX, F1CheckCollector, F1CheckItem, NothingToCheck, html_extras, item_ids
from .options import (
    FLAGS,
    INI_KEYS,
    OPTION,
    REPORT,
    SUMMARY,
    add_options,
    cli_values,
    ini_values,
    typed_on_command_line,
    unknown_ini_keys,
)
from .runstate import STATE, RunState, is_worker, run_environment

SKIP_REASON = "f1check check: run pytest with --f1check to run it"


def pytest_addoption(parser):
    """Register ``--f1check`` and the ``--f1check-*`` options, and their ini twins."""
    add_options(parser)


def _resolve(config) -> RunState:
    """The run's settings; a bad value is a usage error that names where it came from."""
    cli = cli_values(config)
    table_, path = f1config.load_pyproject(config.rootpath)
    ini = {} if table_ else ini_values(config)
    run = f1config.resolve(cli, table_, ini, path)
    nothing = None
    if not run.targets:
        if table_:
            where = f"[tool.f1check] in {path} lists no targets"
        else:
            where = f"{path} has no [tool.f1check] table" if path else f"{config.rootpath} has no pyproject.toml"
        init = "`python -m f1check init` to print" if table_ else "`python -m f1check init --write` to add"
        nothing = (f"nothing to check: {where}, there is no f1check_targets ini option, and no test is marked "
                   f"f1check, so --f1check would check nothing and pass. Run {init} a table of what logs F1 in "
                   "your source, or list targets by hand, e.g. [tool.f1check] targets = [\"pkg.metrics:f1\"], or "
                   "mark your own checks with @pytest.mark.f1check.")
    return RunState(run=run, cli=cli, nothing=nothing)


def _state(config) -> RunState:
    """The stashed state, resolved on first use (fixtures work without --f1check too)."""
    if STATE not in config.stash:
        error = None
        try:
            config.stash[STATE] = _resolve(config)
        except ConfigError as exc:
            error = str(exc)
        if error is not None:  # outside the except: pytest would print the error twice, as a chain
            pytest.fail(f"f1check: {error}", pytrace=False)
    return config.stash[STATE]


# -- configure, header, collection -------------------------------------------------------------------------


def pytest_configure(config):
    """Register the marker; under --f1check resolve and validate the configuration, or stop."""
    config.addinivalue_line(
        "markers",
        f"f1check(**settings): a hand-written F1 check, run only with --f1check; settings ({', '.join(MARKER_KEYS)}) "
        "override the run's for the f1check fixture.",
    )
    if not config.getoption(OPTION):
        _without_the_switch(config)
        return
    try:
        _check_ini_keys(config)
        state = _resolve(config)
        check_range(backend.legacy())  # a Keras outside the tested range: one line now, not a traceback per item
        state.report = report_path(config, state.run, check=not is_worker(config))
        summaries = summary_paths(config, check=not is_worker(config))
        if is_worker(config):
            backend.share_cores(int(config.workerinput.get("workercount", 1)))
        _prepare_replicas(state.run)
        if state.run.device != "auto":
            state.device = backend.select_device(state.run.device)
    except ConfigError as exc:
        raise pytest.UsageError(f"f1check: {exc}") from None
    ours = [a for a in config.args if a == NODE or a.startswith(NODE_PREFIX)]
    state.selected = [a for a in ours if a != NODE]
    _check_selected(state, config)
    config.stash[STATE] = state
    config.pluginmanager.register(Reporting(config, state.report, summaries), "f1check-reporting")
    if not is_worker(config) and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)  # a CI job cancelled: end as an interrupt, report written
    state.collect = bool(ours) or config.args_source != pytest.Config.ArgsSource.ARGS
    if ours:
        # "f1check" and "f1check::target[mode]" are not paths pytest can collect: they select our items.
        config.args[:] = [a for a in config.args if a not in ours]


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_timeout_set_timer(item, settings):
    """pytest-timeout's thread method ends the process (``os._exit``): an f1check item ends under it, or records
    itself and writes the reports just before (:mod:`f1check.plugin.deadline`). pytest-timeout's timer still runs."""
    if isinstance(item, F1CheckItem) and getattr(settings, "method", None) == "thread" and settings.timeout:
        item.last_words = LastWords(item, float(settings.timeout))
        item.last_words.start()


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_timeout_cancel_timer(item):
    if isinstance(item, F1CheckItem) and item.last_words is not None:
        item.last_words.cancel()


def _check_selected(state: RunState, config) -> None:
    """An ``f1check::`` node id that names no item is a usage error (exit 4), as a bad option is, before any test."""
    if not state.selected or is_worker(config):
        return
    names = [f"{NODE_PREFIX}{name}" for name, _, _ in item_ids(state.run)]
    unknown = [a for a in state.selected if a not in names]
    if unknown:
        raise pytest.UsageError(f"f1check: no item {unknown[0]!r}; items are {names}.{did_you_mean(unknown[0], names)} "
                                "List them with pytest --f1check --co -q.")


def pytest_unconfigure(config):
    """Give SIGTERM back its default handling."""
    if signal.getsignal(signal.SIGTERM) is _terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _terminated(signum, frame):
    """SIGTERM (a cancelled CI job, ``timeout``) ends the run as Ctrl-C does: the report says it is incomplete."""
    raise KeyboardInterrupt(f"f1check: terminated by signal {signum}")


def _without_the_switch(config) -> None:
    """``--f1check-*`` options without ``--f1check`` do nothing: an error when typed, a warning from addopts."""
    given = cli_values(config)
    if given.get("report") == "":
        raise pytest.UsageError(f"f1check: {REPORT} is empty: give the path of the JSON report, e.g. {REPORT}=f1check.json.")
    flags = [flag for key, flag in FLAGS if key in given] + ([SUMMARY] if config.getoption(SUMMARY) is not None else [])
    if not flags:
        return
    typed = [flag for flag in flags if typed_on_command_line(config, flag)]
    if typed:
        lost = " and no report would be written" if REPORT in typed or SUMMARY in typed else ""
        raise pytest.UsageError(
            f"f1check: {typed[0]} was given without {OPTION}: f1check checks nothing without {OPTION}{lost}. Add "
            f"{OPTION} to run the checks, or drop {typed[0]}."
        )
    config.issue_config_time_warning(pytest.PytestConfigWarning(
        f"f1check: {', '.join(flags)} (from addopts or PYTEST_ADDOPTS) did nothing: f1check runs only with {OPTION}."
    ), stacklevel=2)


def _check_ini_keys(config) -> None:
    unknown = unknown_ini_keys(config)
    if unknown:
        key = unknown[0]
        raise ConfigError(
            f"unknown ini option {key!r} in {config.inipath}: pytest would ignore it and f1check would run with the "
            f"default instead.{did_you_mean(key, INI_KEYS)} f1check's ini options are f1check_<key> for the keys of "
            "[tool.f1check]."
        )


def _prepare_replicas(run) -> None:
    """Replicas need their devices before TensorFlow starts (the header starts it): split the CPU now."""
    most = max([run.settings.replicas, *(t.settings.replicas for t in run.targets)])
    if most > 1 and backend.backend_name() == "tensorflow":
        backend.prepare_replicas(most)


def pytest_report_header(config):
    """The line to repeat a run: f1check, Keras and backend versions, device, seed."""
    if not config.getoption(OPTION) or STATE not in config.stash:
        return None
    return run_environment(config).header()



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
    """Validate f1check markers under --f1check; skip tests marked f1check without it; nothing to check is an error."""
    marked = [item for item in items if item.get_closest_marker("f1check") is not None]
    if not config.getoption(OPTION):
        skip = pytest.mark.skip(reason=SKIP_REASON)
        for item in marked:
            item.add_marker(skip)
        return
    state = config.stash[STATE]
    for item in marked:
        _check_marker(item, state)
    if state.nothing is not None and not marked:
        if is_worker(config):  # a worker's UsageError would crash pytest-xdist's controller: an item that errors
            items.append(NothingToCheck.from_parent(session, name=f"{NODE}-nothing-to-check", reason=state.nothing))
            return
        raise pytest.UsageError(f"f1check: {state.nothing}")


def _check_marker(item, state: RunState) -> None:
    for mark in item.iter_markers("f1check"):
        unknown = [k for k in mark.kwargs if k not in MARKER_KEYS]
        if mark.args or unknown:
            bad = unknown[0] if unknown else repr(mark.args[0])
            raise pytest.UsageError(
                f"f1check: @pytest.mark.f1check on {item.nodeid} has an unknown argument {bad}: it takes "
                f"keyword arguments {one_of(MARKER_KEYS)}.{did_you_mean(bad, MARKER_KEYS)}"
            )
        checker = Checker(state.run.values, state.run.seed)
        checker.marker = dict(mark.kwargs)
        try:
            names.build(checker.options(), lambda key: f"@pytest.mark.f1check on {item.nodeid}" if key in mark.kwargs
                        else state.run.sources.get(key, "the default"))
        except ConfigError as exc:
            raise pytest.UsageError(f"f1check: {exc}") from None


# -- running hand-written checks ---------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """With pytest-html, a failing f1check item's row carries its reason, snippet and picture as extras."""
    report = yield
    if call.when == "call" and isinstance(item, F1CheckItem) and item.config.getoption("htmlpath", None):
        report.extras = [*getattr(report, "extras", []), *html_extras(item)]
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    """Apply ``@pytest.mark.f1check(...)`` settings to the session's checker for this test's call."""
    state = item.config.stash.get(STATE, None)
    if state is not None and state.checker is not None:
        marker = item.get_closest_marker("f1check")
        state.checker.marker = dict(marker.kwargs) if marker is not None else {}


# -- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def f1check_device(pytestconfig) -> str:
    """``"GPU"`` or ``"CPU"``: where f1check's models run (``--f1check-device``)."""
    state = _state(pytestconfig)
    if state.device is None:
        error = None
        try:
            state.device = backend.select_device(state.run.device)
        except ConfigError as exc:
            error = str(exc)
        if error is not None:
            pytest.fail(f"f1check: {error}", pytrace=False)
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
