"""A time budget for one check of one mode (``--f1check-timeout``, the ``timeout`` key, ``check(timeout=...)``).

A subject that takes 30 s a batch must not hold a pre-merge gate until the CI
job's own limit.  :func:`limit` bounds a block: on the main thread of a
platform with ``SIGALRM`` (and when nobody else, pytest-timeout say, holds the
alarm) a timer interrupts whatever runs, the Keras loop included, as soon as
control returns to Python; elsewhere the check stops at the next loop run or
candidate (:func:`check`).  Either way the block ends with a
:class:`CheckTimeout` that says how far the check got: the examples done and
the slowest call.

The interruption is a ``BaseException`` while it travels, so that neither the
subject's ``except Exception`` nor hypothesis (which treats an ``Exception``
as a falsifying example and shrinks it, running the slow subject again) can
swallow it.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from dataclasses import dataclass

from .errors import F1CheckError

__all__ = ["CheckTimeout", "Interrupted", "call", "check", "limit", "note_done"]


class CheckTimeout(F1CheckError):
    """A check ran out of its time budget; the message says how far it got."""


class Interrupted(BaseException):
    """The budget ran out (raised where the check was; becomes a :class:`CheckTimeout` at the budget's edge)."""


@dataclass
class Watch:
    """What a bounded check has done so far."""

    seconds: float
    started: float
    done: int = 0
    total: int = 0
    slowest: float = 0.0
    slowest_what: str = ""
    running: str = ""  # the call under way, and since when
    running_since: float = 0.0
    cut: str = ""  # the call the budget ran out in

    @property
    def expired(self) -> bool:
        return time.monotonic() - self.started >= self.seconds

    def describe(self) -> str:
        done = f"{self.done} of {self.total} examples done" if self.total else "no example finished"
        if self.cut:
            return f"{done}; time ran out in {self.cut}"
        slowest = f"; the slowest call took {self.slowest:.1f} s ({self.slowest_what})" if self.slowest_what else ""
        return f"{done}{slowest}"


_current: Watch | None = None


@contextlib.contextmanager
def call(what: str):
    """One call of the check (a loop run, a replay): timed, so that the slowest is named if the budget runs out."""
    watch = _current
    if watch is None:
        yield
        return
    check()
    outer, outer_since = watch.running, watch.running_since
    watch.running, watch.running_since = what, time.monotonic()
    try:
        yield
    except Interrupted:
        if not watch.cut:  # the innermost call
            watch.cut = f"{what}, after {time.monotonic() - watch.running_since:.1f} s"
        raise
    finally:
        took = time.monotonic() - watch.running_since
        if took >= watch.slowest:
            watch.slowest, watch.slowest_what = took, what
        watch.running, watch.running_since = outer, outer_since


def note_done(done: int, total: int) -> None:
    if _current is not None:
        _current.done, _current.total = done, total


def check() -> None:
    """Stop here if the budget is spent (where no timer can interrupt)."""
    if _current is not None and _current.expired:
        raise Interrupted()


@contextlib.contextmanager
def limit(seconds: float | None, what: str):
    """Bound the block to ``seconds`` (None: no bound); raise :class:`CheckTimeout` naming ``what`` when it runs out."""
    global _current
    if seconds is None or _current is not None:  # no budget, or an outer one already bounds this block
        yield
        return
    watch = _current = Watch(float(seconds), time.monotonic())
    timer = _arm(seconds)
    try:
        yield
    except Interrupted:
        raise CheckTimeout(
            f"{what} ran out of its time budget of {seconds:g} s (timeout): {watch.describe()}. A subject this slow "
            "holds the gate: give it fewer examples, smaller data (feeds, partitions), or a larger timeout."
        ) from None
    finally:
        _current = None
        if timer is not None:
            timer()


def _arm(seconds: float):
    """A real-time timer that raises :class:`Interrupted`, or None where it cannot be used; returns its disarmer."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, signal.SIG_IGN, None):
        return None  # someone else's alarm (pytest-timeout's signal method): stop cooperatively instead

    def expire(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(1e-3, float(seconds)))

    def disarm():
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    return disarm


def remaining() -> float:
    """Seconds left in the current budget (infinite without one)."""
    if _current is None:
        return math.inf
    return _current.seconds - (time.monotonic() - _current.started)
