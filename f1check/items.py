"""The ``f1check`` collector and its items (one per target and mode), and the run's results.

The collector is added to the session's own collection, so its items are
collected, counted, selected (``-k``, ``-m``, ``--deselect``) and listed
(``--co``) as any test.  An item runs its check in ``setup``: bad input is a
pytest *error* (JUnit ``<error>``) with f1check's message and no traceback; a
check that ran and found the logged value wrong fails in ``runtest``.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from . import backend, config as f1config
from .api import run_check
from .errors import F1CheckError, F1CheckFailure, did_you_mean
from .fixtures import Checker
from .options import OPTION, SEED
from .progress import LiveLine
from .modes import Mode
from .report import SUMMARY_HEADER, document, failure_message, result_json, summary_row, table
from .results import Result

NODE = "f1check"
NODE_PREFIX = "f1check::"


@dataclass
class RunState:
    """Everything the run needs, kept in ``config.stash``."""

    run: f1config.RunConfig
    cli: dict
    collect: bool = False  # add the f1check collector (no path given, or f1check items named)
    selected: list[str] = field(default_factory=list)  # f1check:: node ids given on the command line
    device: str | None = None
    checker: Checker | None = None


STATE = pytest.StashKey[RunState]()


def is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def run_environment(config):
    """The environment line of this run: its seed and the device it runs on."""
    state = config.stash[STATE]
    return backend.environment(state.run.seed, device=state.device)


def item_ids(run) -> list[tuple[str, f1config.TargetSpec, str]]:
    """``(name, target, mode)`` of every item, in configuration order.

    ``target[mode]``; a target listed again for another score is ``target[mode,score]``, listed again
    otherwise ``target(2)[mode]``.
    """
    scores: dict[str, set] = {}
    for spec in run.targets:
        scores.setdefault(spec.label, set()).add(spec.settings.semantics.score)
    seen: dict[str, int] = {}
    out = []
    for spec in run.targets:
        label, score = spec.label, spec.settings.semantics.score
        by_score = len(scores[label]) > 1
        key = (label, score) if by_score else label
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:  # the same target again, with other settings
            label = f"{label}({seen[key]})"
        for mode in spec.settings.modes:
            out.append((f"{label}[{mode},{score}]" if by_score else f"{label}[{mode}]", spec, mode))
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
        error = None
        try:
            report = run_check(spec.subject, chosen, callback_key=spec.key, callback_metrics=spec.metrics,
                               progress=live, save_dir=data_dir(self.config))
        except F1CheckError as exc:
            error = str(exc)
        finally:
            live.close()
        if error is not None:  # outside the except: pytest would print the error twice, as a chain
            self._record(Result.failed_to_run(spec.subject, self.mode, chosen.semantics.score, error))
            pytest.fail(f"f1check: {error}", pytrace=False)  # a setup error: the message, no traceback
        report.environment = run_environment(self.config)  # the run's seed in the header, the one to rerun with
        self._record(report.results[0])
        self.report = report

    def runtest(self):
        if self.report is not None and not self.report.passed:
            raise F1CheckFailure(failure_message(self.report, rerun=self.rerun_command()), report=self.report)

    def _record(self, result: Result) -> None:
        data = {"nodeid": self.nodeid, "index": self.spec.index, **result_json(result)}
        self.user_properties.append(("f1check_result", json.dumps(data, sort_keys=True)))
        self.user_properties.append(("f1check_row", json.dumps(list(summary_row(result)))))
        if result.error is None:  # the key figures, for JUnit XML
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


def data_dir(config) -> Path | None:
    """Where counterexamples too large to print are saved: next to the JSON report if one is asked for."""
    report = config.stash[STATE].run.report
    if not report:
        return None
    path = Path(report)
    if not path.is_absolute():
        path = Path(config.invocation_params.dir) / path
    return path.parent / "f1check-data"


class Reporting:
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
        if is_worker(self.config) or not self.results:
            return
        rows = [self.rows[r["nodeid"]] for r in self.ordered() if r["nodeid"] in self.rows]
        terminalreporter.write_sep("=", "f1check summary")
        terminalreporter.write_line(run_environment(self.config).header())
        for line in table(rows, SUMMARY_HEADER):
            terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session):
        """Write ``--f1check-report``: byte-identical for the same seed and code."""
        state = self.config.stash[STATE]
        if is_worker(self.config) or not state.run.report:
            return
        results = [{k: v for k, v in r.items() if k not in ("nodeid", "index")} for r in self.ordered()]
        path = Path(state.run.report)
        if not path.is_absolute():
            path = Path(self.config.invocation_params.dir) / path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document(run_environment(self.config), results), indent=2) + "\n")


def _mode_order(mode: str) -> int:
    return Mode(mode).order
