"""pytest-timeout's thread method (``--timeout-method=thread``) ends the whole process with ``os._exit`` when an item
runs past ``--timeout``: no report, summary or JUnit file would be written.  For an f1check item, f1check's own
budget is set under pytest-timeout's (:func:`budget_under`), so the check ends as a timed-out item and the run goes
on; if the subject is stuck where no interrupt reaches it (a long compiled step), :class:`LastWords` records the
item as timed out and writes the report, the summaries and the JUnit file just before pytest-timeout's thread
fires."""

from __future__ import annotations

import threading

import pytest

from ..judging.results import Result
from ..reporting.report import summary_row


def margin(seconds: float) -> float:
    """How far under pytest-timeout's limit f1check's budget ends: a tenth, at least 1 s and at most 5 s."""
    return min(5.0, max(1.0, 0.1 * seconds))


def budget_under(seconds: float) -> float:
    return max(0.5 * seconds, seconds - margin(seconds))


class LastWords:
    """A timer that records the item as timed out and writes every file, half a margin before ``os._exit``."""

    def __init__(self, item, seconds: float):
        self.item, self.seconds = item, seconds
        self.timer = threading.Timer(max(0.0, seconds - margin(seconds) / 2), self.say)
        self.timer.daemon = True
        self.timer.name = f"f1check last words {item.nodeid}"

    def start(self) -> None:
        self.timer.start()

    def cancel(self) -> None:
        self.timer.cancel()

    def say(self) -> None:
        message = (f"f1check: timed out: pytest-timeout's thread method ends the process at --timeout={self.seconds:g} "
                   f"s, and the check did not stop at f1check's budget of {budget_under(self.seconds):g} s set under "
                   "it (the subject was where no interrupt reaches: a long compiled step). Give it fewer examples, "
                   "smaller data, or a larger timeout; pytest-timeout's signal method ends the item without ending "
                   "the run.")
        try:
            recorded(self.item, message)
            junit(self.item, message)
        except Exception:  # the process is about to end: nothing more can be done
            pass


def recorded(item, message: str) -> None:
    """Record ``item`` as timed out and write the report and the summaries now (the process is about to end)."""
    result = Result.failed_to_run(item.spec.subject, item.mode, item.spec.settings.semantics.score, message)
    reporting = item.config.pluginmanager.get_plugin("f1check-reporting")
    if reporting is not None:
        reporting.file(item.record(result), summary_row(result))
        reporting.write_summaries(None)


def junit(item, message: str) -> None:
    """The JUnit file as pytest would write it at the end, with this item as an error (pytest's own writer)."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:
        return
    xml = item.config.stash.get(xml_key, None)
    if xml is None:
        return
    report = pytest.TestReport(item.nodeid, item.location, {}, "failed", message, "setup",
                               user_properties=list(item.user_properties))
    xml.pytest_runtest_logreport(report)
    xml.pytest_sessionfinish()
