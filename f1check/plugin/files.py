"""The run's JSON report and summary table: the path checked before any test, the document kept up to date.

The report path is resolved as pytest resolves its own paths (the command
line's from the invocation directory, ``[tool.f1check]``'s and the ini file's
from the rootdir) and checked before any test runs: a path that cannot be
written is a usage error then, not a lost run at the end.  The document is
rewritten (write, then rename) after every f1check item, so a run killed
half-way leaves a valid report that says it is incomplete; at the end it
records the exit status and whether every expected item has a result.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from ..core.errors import ConfigError
from ..core.modes import Mode
from ..reporting.report import SUMMARY_HEADER, document, environment_json, table
from ..reporting.summary import markdown
from .items import NODE_PREFIX, F1CheckItem, interrupted_record
from .options import REPORT, SUMMARY
from .runstate import STATE, is_worker, run_environment

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"

COMPLETE_EXITS = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)


def report_path(config, run, check: bool = True) -> Path | None:
    """The report's path: relative ones from the invocation directory (command line) or the rootdir (config)."""
    if run.report is None:
        return None
    source = run.sources.get("report", "")
    if source.startswith(REPORT):
        base = Path(config.invocation_params.dir)
    elif source.startswith("the ini option") and config.inipath is not None:
        base = Path(config.inipath).parent
    else:
        base = Path(config.rootpath)
    path = Path(os.path.expanduser(run.report))
    path = path if path.is_absolute() else base / path
    if check:
        writable(path, source)
    return path


def summary_paths(config, check: bool = True) -> list[tuple[Path, bool]]:
    """Where the Markdown summary goes, as ``(path, append)``: ``--f1check-summary PATH`` (from the invocation
    directory, rewritten) and ``$GITHUB_STEP_SUMMARY`` (appended, as GitHub Actions asks)."""
    found = []
    given = config.getoption(SUMMARY)
    if given is not None:
        if not given.strip():
            raise ConfigError(f"{SUMMARY} is empty: give the path of the Markdown summary, e.g. {SUMMARY}=f1check.md.")
        path = Path(os.path.expanduser(given))
        found.append((path if path.is_absolute() else Path(config.invocation_params.dir) / path, False))
    step = os.environ.get(STEP_SUMMARY, "").strip()
    if step:
        found.append((Path(step), True))
    if check:
        for path, append in found:
            writable(path, f"${STEP_SUMMARY}" if append else SUMMARY, "the summary", f"{SUMMARY}=f1check.md")
    return found


def writable(path: Path, source: str, what: str = "the report", example: str = "--f1check-report=f1check.json") -> None:
    """A usage error unless ``path`` can be written as a file (its folder made if need be)."""
    def refuse(why: str) -> ConfigError:
        return ConfigError(f"cannot write {what} to {path} (from {source}): {why}. Give a file path in a "
                           f"writable folder, e.g. {example}.")

    if path.is_dir():
        raise refuse("it is a directory")
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise refuse(f"{blocking} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise refuse(f"its folder cannot be made ({exc.strerror or exc})") from None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".f1check-probe-"):
            pass
    except OSError as exc:
        raise refuse(f"its folder is not writable ({exc.strerror or exc})") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise refuse("the file is not writable")


class Reporting:
    """Collects item results (from workers too, under xdist); writes the JSON as they come and the table at the end."""

    def __init__(self, config, path: Path | None, summaries: list[tuple[Path, bool]] = ()):
        self.config, self.path, self.summaries = config, path, list(summaries)
        self.results: dict[str, dict] = {}
        self.rows: dict[str, list] = {}
        self.expected: int | None = None
        self.failure: str | None = None  # why the report could not be written
        self.started: list[str] = []  # f1check items that started (under xdist: on a worker), in order

    # -- what is expected, what came --------------------------------------------------------------------

    def pytest_collection_finish(self, session):
        """The number of f1check items this run is to run (after -k, -m, --deselect, --lf)."""
        if not is_worker(self.config):
            self.expected = sum(isinstance(item, F1CheckItem) for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        """Under pytest-xdist the workers collect; the controller counts the f1check items of the first."""
        if self.expected is None:
            self.expected = sum(1 for nodeid in ids if nodeid.startswith(NODE_PREFIX))

    def pytest_runtest_logstart(self, nodeid, location):
        """An item started (a worker's items too, under xdist): if the run is interrupted now, it is recorded."""
        if nodeid.startswith(NODE_PREFIX) and nodeid not in self.started:
            self.started.append(nodeid)

    def pytest_runtest_logreport(self, report):
        """File each f1check item's result, from its user properties, as soon as a phase carries it (the result is
        recorded in setup; an xdist worker reports an item's teardown only when it has the next item, so an
        interrupt would lose a result filed at teardown), and again when a later phase changes it."""
        record = row = None
        for name, value in getattr(report, "user_properties", ()):
            if name == "f1check_result":
                record = json.loads(value)  # the last one: an interrupt's record comes after the check's
            elif name == "f1check_row":
                row = json.loads(value)
        if row is not None:
            self.rows[report.nodeid] = row
        if record is not None and self.results.get(record["nodeid"]) != record:
            self.file(record)

    def interrupted(self) -> None:
        """Record the items that had started and have no result: the run was interrupted while they ran."""
        state = self.config.stash.get(STATE, None)
        for nodeid in (n for n in self.started if n not in self.results):
            made = interrupted_record(state.run, nodeid, "interrupted (Ctrl-C or SIGTERM) while it ran") \
                if state is not None else None
            if made is not None:
                self.results[nodeid], self.rows[nodeid] = made[0], list(made[1])

    def file(self, data: dict, row=None) -> None:
        """One item's record (JSON); the report is rewritten at once."""
        self.results[data["nodeid"]] = data
        if row is not None:
            self.rows[data["nodeid"]] = list(row)
        self.write(None)

    def ordered(self) -> list[dict]:
        return sorted(self.results.values(), key=lambda r: (r["index"], Mode(r["mode"]).order, r["nodeid"]))

    # -- writing --------------------------------------------------------------------------------------------

    @property
    def listing(self) -> bool:
        """``--co``: nothing runs, so nothing is reported; the last run's report and summary stay as they were
        (and Keras is not started to name its version)."""
        return bool(self.config.option.collectonly)

    def complete(self, exit_status: int | None, results: int) -> bool:
        """Whether the run ended normally with a result for every expected item."""
        return (exit_status is not None and exit_status in COMPLETE_EXITS and self.expected is not None
                and results >= self.expected)

    def write(self, exit_status: int | None) -> None:
        """The document as it stands (``exit_status`` None while the run goes on), written and renamed into place."""
        if is_worker(self.config) or self.path is None or self.failure is not None or self.listing:
            return
        results = [{k: v for k, v in r.items() if k not in ("nodeid", "index")} for r in self.ordered()]
        complete = self.complete(exit_status, len(results))
        text = json.dumps(document(run_environment(self.config), results, complete=complete, expected=self.expected,
                                   exit_status=None if exit_status is None else int(exit_status)), indent=2) + "\n"
        temporary = self.path.with_name(f".{self.path.name}.f1check-tmp")
        try:
            temporary.write_text(text)
            os.replace(temporary, self.path)
        except OSError as exc:
            self.failure = f"f1check: could not write the report {self.path}: {exc.strerror or exc}"
            temporary.unlink(missing_ok=True)

    def pytest_sessionfinish(self, session):
        """The final document: the exit status, and whether every expected item has its result."""
        if session.exitstatus == pytest.ExitCode.INTERRUPTED and not is_worker(self.config):
            self.interrupted()
        self.write(session.exitstatus)
        self.write_summaries(session.exitstatus)
        if self.failure is not None and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR  # a gate whose report is lost is not green

    def write_summaries(self, exit_status) -> None:
        """The Markdown summary, once, by the controller: rewritten at ``--f1check-summary``, appended to
        ``$GITHUB_STEP_SUMMARY``; pictures linked relative to the summary's folder, or named."""
        if is_worker(self.config) or not self.summaries or self.listing:
            return
        results = self.ordered()
        if self.path is not None:  # pictures are named relative to the report's folder
            results = [{**r, "picture": str(self.path.parent / r["picture"])} if r.get("picture") else r
                       for r in results]
        complete = self.complete(exit_status, len(results))
        environment = environment_json(run_environment(self.config))
        for path, append in self.summaries:
            text = markdown(environment, results, complete, links_from=None if append else path.parent)
            try:
                with path.open("a" if append else "w", encoding="utf-8") as handle:
                    handle.write(text)
            except OSError as exc:
                self.failure = f"f1check: could not write the summary {path}: {exc.strerror or exc}"

    def pytest_terminal_summary(self, terminalreporter):
        """The f1check table: target, mode, verdict, examples, max |error|, the main reason, worst partition."""
        if is_worker(self.config):
            return
        if self.results:
            rows = [self.rows[r["nodeid"]] for r in self.ordered() if r["nodeid"] in self.rows]
            terminalreporter.write_sep("=", "f1check summary")
            terminalreporter.write_line(run_environment(self.config).header())
            for line in table(rows, SUMMARY_HEADER):
                terminalreporter.write_line(line)
            for record in self.ordered():  # what passing items found that is no failure of theirs
                if record.get("status") == "pass":
                    for note in record.get("notes", ()):
                        terminalreporter.write_line(f"note: {record['target']} [{record['mode']}]: {note['text']} "
                                                    f"[{note['code']}]")
        if self.failure is not None:
            terminalreporter.write_line(self.failure, red=True, bold=True)
