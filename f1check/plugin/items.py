"""The ``f1check`` collector and its items (one per target and mode), and the run's results.

The collector is added to the session's own collection, so its items are
collected, counted, selected (``-k``, ``-m``, ``--deselect``) and listed
(``--co``) as any test.  An item runs its check in ``setup``: bad input is a
pytest *error* (JUnit ``<error>``) with f1check's message and no traceback; a
check that ran and found the logged value wrong fails in ``runtest``.
"""

from __future__ import annotations

import base64
import json
import traceback
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from ..api import run_check
from ..core import backend
from ..core.errors import F1CheckError, F1CheckFailure
from ..judging.results import Result
from ..reasons import Reason
from ..reporting import plots
from ..reporting.report import failure_message, result_json, summary_row
from ..subjects.locations import config_line, subject_location
from . import config as f1config
from .deadline import LastWords, budget_under
from .options import OPTION, SEED
from .progress import LiveLine
from .runstate import STATE, run_environment

NODE = "f1check"
NODE_PREFIX = "f1check::"
RESULT_PROPERTY = "f1check_result"
ROW_PROPERTY = "f1check_row"
PLOTS = "f1check-plots"  # the pictures' folder, beside the report


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


def interrupted_record(run, nodeid: str, how: str) -> tuple[dict, tuple] | None:
    """The JSON record and summary row of an item that was running when the run was interrupted, made where the
    item itself is not (the pytest-xdist controller, whose worker was stopped before it could report)."""
    for name, spec, mode in item_ids(run):
        if f"{NODE_PREFIX}{name}" == nodeid:
            result = Result.failed_to_run(spec.subject, mode, spec.settings.semantics.score, f"f1check: {how}")
            return record_of(nodeid, spec.index, result, None), summary_row(result)
    return None


def record_of(nodeid: str, index: int, result: Result, defined_at: str | None) -> dict:
    """An item's JSON record: the result, with what orders it (the target's index) and files it (the node id)."""
    return {"nodeid": nodeid, "index": index, **result_json(result), "defined_at": defined_at}


class F1CheckCollector(pytest.Collector):
    """The ``f1check`` node: one item per target and mode of the configuration."""

    def collect(self):
        state = self.config.stash[STATE]
        found = item_ids(state.run)
        if state.selected:  # an id that names no item stopped the run at configure (plugin._check_selected)
            found = [f for f in found if f"{NODE_PREFIX}{f[0]}" in state.selected]
        for name, spec, mode in found:
            # the node id spelled out, so that pytest's cache (--lf, --ff, --sw, --nf) parses back the same id:
            # pytest 9 reads the [mode] of "f1check::target[mode]" as the parameters of "target"
            yield F1CheckItem.from_parent(self, name=name, spec=spec, mode=mode, nodeid=f"{NODE_PREFIX}{name}")


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
        self._defined: tuple[Path, int | None] | None = None
        self.picture: Path | None = None  # the failure's picture, when one was drawn
        self.last_words: LastWords | None = None  # under pytest-timeout's thread method

    def setup(self):
        state = self.config.stash[STATE]
        spec = self.spec
        chosen = replace(spec.settings, modes=(self.mode,), seed=item_seed(state.run.seed, self.name))
        if self.last_words is not None:  # pytest-timeout's thread method: end before it ends the process
            under = budget_under(self.last_words.seconds)
            chosen = replace(chosen, timeout=under if chosen.timeout is None else min(chosen.timeout, under))
        live = LiveLine(self.config, self.name)
        error, why = None, ()
        try:
            state.prime(self.config.rootpath)
            backend.restore_keras_globals(state.keras_globals)
            report = run_check(spec.subject, chosen, callback_key=spec.key, callback_metrics=spec.metrics,
                               progress=live, save_dir=data_dir(self.config), root=self.config.rootpath)
        except F1CheckError as exc:
            error = f"f1check: {exc}"
            why = (Reason(exc.code, str(exc).splitlines()[0]),) if exc.code else ()
        except SystemExit as exc:  # the subject's code called sys.exit(): an error of this item, not of the run
            error = (f"f1check: {spec.subject} [{self.mode}]: the subject's code called sys.exit({exc.code!r}) while "
                     f"f1check ran it:\n{_where(exc)}")
        except Exception as exc:  # a bug of f1check's: kept with its traceback for a bug report
            error = (f"f1check internal error ({type(exc).__name__}: {exc}) while checking {spec.subject} "
                     f"[{self.mode}]. Please report it with this traceback:\n{''.join(traceback.format_exception(exc))}")
        except BaseException as exc:  # Ctrl-C, SIGTERM, pytest-timeout: recorded, then on its way
            self._ended(chosen, exc)
            raise
        finally:
            live.close()
        if error is not None:  # outside the except: pytest would print the error twice, as a chain
            self._record(Result.failed_to_run(spec.subject, self.mode, chosen.semantics.score, error, why))
            pytest.fail(error, pytrace=False)  # a setup error: the message, no traceback of f1check's frames
        report.environment = run_environment(self.config)  # the run's seed in the header, the one to rerun with
        self._record(report.results[0])
        self.report = report

    def _ended(self, chosen, exc: BaseException) -> None:
        """A record for an item that something outside the check ended: an interrupt, pytest-timeout's alarm."""
        how = "interrupted (Ctrl-C or SIGTERM)" if isinstance(exc, KeyboardInterrupt) else \
            f"ended by {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        result = Result.failed_to_run(self.spec.subject, self.mode, chosen.semantics.score, f"f1check: {how}")
        self._record(result)
        reporting = self.config.pluginmanager.get_plugin("f1check-reporting")
        if isinstance(exc, KeyboardInterrupt) and reporting is not None:  # no report of this item will come
            reporting.file(self.record(result), summary_row(result))

    def runtest(self):
        if self.report is not None and not self.report.passed:
            message = failure_message(self.report, rerun=self.rerun_command())
            raise F1CheckFailure(f"{self.defined_at()}: {message}", report=self.report)

    def record(self, result: Result) -> dict:
        """The item's JSON record of ``result``."""
        return record_of(self.nodeid, self.spec.index, result, self.defined_at())

    def _record(self, result: Result) -> None:
        data = self.record(result)
        report = self.config.stash[STATE].report
        if report is not None and not result.passed and result.error is None:
            self.picture = draw_failure(result, self.spec.settings.semantics, report.parent, self.nodeid, self.name)
        if self.picture is not None:
            data["picture"] = self.picture.relative_to(report.parent).as_posix()
        self.user_properties.append((RESULT_PROPERTY, json.dumps(data, sort_keys=True)))
        self.user_properties.append((ROW_PROPERTY, json.dumps(list(summary_row(result)))))
        if result.error is None:  # the key figures, for JUnit XML
            self.user_properties += [
                ("f1check_status", result.status),
                ("f1check_passed", result.passed),
                ("f1check_examples", result.examples),
                ("f1check_max_abs_error", data["max_abs_error"]),
                ("f1check_dominant_error", result.worst.blame if result.worst is not None else ""),
                ("f1check_why", result.main_reason),
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
        """The file and line where the subject is defined (its ``def`` or ``class``, found without importing it),
        else the config entry that names it: pytest's headers, JUnit's ``file``/``line`` and annotations use it."""
        path, line = self.definition()
        return path, None if line is None else line - 1, f"f1check {self.name} ({self.defined_at()})"

    def definition(self) -> tuple[Path, int | None]:
        if self._defined is None:
            root = self.config.rootpath
            found = subject_location(self.spec.subject, (root, root / "src"))
            if found is None:
                config = root / "pyproject.toml"
                earlier = sum(t.subject == self.spec.subject for t in self.config.stash[STATE].run.targets
                              if t.index < self.spec.index)
                found = (config, config_line(config, self.spec.subject, earlier)) if config.is_file() else (root, None)
            self._defined = found
        return self._defined

    def defined_at(self) -> str:
        """``path:line`` of :meth:`definition`, relative to the rootdir when inside it."""
        path, line = self.definition()
        try:
            shown = path.relative_to(self.config.rootpath)
        except ValueError:
            shown = path
        return f"{shown}:{line}" if line is not None else str(shown)


class NothingToCheck(pytest.Item):
    """Under pytest-xdist, where a worker cannot stop the run with a usage error: the run's one error item when
    ``--f1check`` has nothing to check (no targets, no test marked f1check)."""

    def __init__(self, *, reason: str, **kwargs):
        super().__init__(**kwargs)
        self.reason = reason

    def setup(self):
        pytest.fail(f"f1check: {self.reason}", pytrace=False)

    def runtest(self):
        pass

    def reportinfo(self):
        return self.path, None, self.name


def draw_failure(result: Result, semantics, folder: Path, nodeid: str, title: str) -> Path | None:
    """A failing result's picture in ``f1check-plots/`` of ``folder`` (with the ``plots`` extra), or None: a
    picture that cannot be drawn (a matplotlib too old, a full disk) is left out, never the item's verdict."""
    if not plots.available():
        return None
    try:
        return plots.draw(result, semantics, plots.picture_path(folder / PLOTS, nodeid), title=title)
    except Exception:  # noqa: BLE001 - optional output
        return None


def html_extras(item: F1CheckItem) -> list[dict]:
    """pytest-html's extras for a failing item's row: its reasons, the snippet that reproduces it, the picture."""
    from pytest_html import extras

    result = item.report.results[0] if item.report is not None else None
    if result is None or result.passed:
        return []
    found = [extras.text(f"{item.defined_at()}: {w}  [{w.code}]", name=f"why: {w.code}") for w in result.why]
    if result.reproduce:
        found.append(extras.text(result.reproduce, name="reproduce"))
    if item.picture is not None and item.picture.is_file():
        found.append(extras.png(base64.b64encode(item.picture.read_bytes()).decode("ascii"), name="picture"))
    return found


def item_seed(seed: int, name: str) -> int:
    """Each item's own seed, from the run's seed and the item's name (as pytest-randomly does)."""
    return (seed * 1_000_003 + zlib.crc32(name.encode())) % 2**32


def data_dir(config) -> Path | None:
    """Where counterexamples too large to print are saved: next to the JSON report if one is asked for."""
    report = config.stash[STATE].report
    return None if report is None else report.parent / "f1check-data"


def _where(exc: BaseException) -> str:
    """The innermost frames of ``exc``'s traceback that are not f1check's or the frameworks'."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not any(part in f.filename for part in ("/f1check/", "/keras/", "/tensorflow/", "/_pytest/"))]
    return "".join(traceback.format_list(frames[-3:])) or "".join(traceback.format_tb(exc.__traceback__)[-2:])
