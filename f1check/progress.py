"""A live status line for a long f1check item, on a terminal only."""

from __future__ import annotations

import contextlib
import time


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
            and not hasattr(config, "workerinput")
        )
        self.writer, self.name = writer, name
        self.capture = config.pluginmanager.get_plugin("capturemanager")  # the item's output is captured meanwhile
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
