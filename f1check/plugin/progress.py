"""A live status line for a long f1check item, on a terminal only."""

from __future__ import annotations

import contextlib
import time


class LiveLine:
    """A live status after the current line on a terminal: the item, examples done, the worst error so far, elapsed.

    Written straight to the terminal and erased before pytest writes again, so
    pytest's own line (and its width arithmetic) is untouched.  The worst
    error only grows.  The item is named unless ``-v`` already printed its id
    on the line, and the status takes the shortest form that fits the terminal
    (80 columns with ``-v`` included).  Quiet without a TTY, under ``-q``, and
    in pytest-xdist workers.
    """

    EVERY = 0.25  # seconds between redraws

    def __init__(self, config, name: str):
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        writer = getattr(reporter, "_tw", None)
        self.file = getattr(writer, "_file", None)
        tty = getattr(reporter, "isatty", False)  # a method in pytest 9, a bool in pytest 7.4
        verbosity = config.getoption("verbose", 0) or 0
        self.enabled = bool(
            reporter is not None and self.file is not None and (tty() if callable(tty) else tty) and verbosity >= 0
            and not hasattr(config, "workerinput")
        )
        self.writer, self.name = writer, name
        self.named = verbosity < 1  # -v prints the item's id on the line already
        self.capture = config.pluginmanager.get_plugin("capturemanager")  # the item's output is captured meanwhile
        self.started = self.drawn = time.monotonic()
        self.width = 0
        self.worst = 0.0

    def __call__(self, done: int, total: int, worst: float) -> None:
        now = time.monotonic()
        self.worst = max(self.worst, worst)
        if not self.enabled or now - self.drawn < self.EVERY:
            return
        self.drawn = now
        room = max(0, self.writer.fullwidth - len(self.writer._current_line) - 1)
        self._draw(status(self.name if self.named else None, done, total, self.worst, now - self.started, room))

    def _draw(self, text: str, end: str = "") -> None:
        line = self.writer._current_line
        with self._terminal():
            self.file.write("\r" + line + text + " " * max(0, self.width - len(text)) + end)
            self.file.flush()
        self.width = len(text)

    def _terminal(self):
        """Capture suspended while drawing (pytest captures file descriptor 1 while an item runs)."""
        if self.capture is None:
            return contextlib.nullcontext()
        return self.capture.global_and_fixture_disabled()

    def close(self) -> None:
        if self.enabled and self.width:
            self._draw("", end="\r" + self.writer._current_line)


def status(name: str | None, done: int, total: int, worst: float, seconds: float, room: int) -> str:
    """The longest form of the status that fits in ``room`` columns (``""`` if none does)."""
    forms = [f"{done}/{total} examples, worst |error| {worst:.4g}, {seconds:.0f} s",
             f"{done}/{total}, worst {worst:.3g}, {seconds:.0f} s", f"{done}/{total}"]
    named = [f"{name}: {form}" for form in forms] if name else []
    return next((f"  [{form}]" for form in [*named, *forms] if len(form) + 4 <= room), "")
