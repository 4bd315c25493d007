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

Other interrupts get the same care while a check runs: pytest-timeout's alarm (its signal method), SIGTERM and
Ctrl-C.  Their handlers are relayed: the exception a handler raises is kept as *pending* before it travels, because
TensorFlow turns an exception raised inside a compiled step (a ``tf.py_function`` that sleeps, where the alarm
lands) into an op error, which the loop, the subject or f1check would then take for the subject's own error.
Every call boundary (:func:`call`, :func:`check`, the end of :func:`limit`) raises a pending interrupt again.  A
handler that would raise while the garbage collector runs (its callbacks, TensorFlow's ``_xla_gc_callback`` among
them, and the weakref callbacks and finalizers a collection calls) or in a ``__del__`` is retried 50 ms later
instead: CPython swallows the exception there and can leave the interpreter's AST state broken for the next item.
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

RELAYED = tuple(getattr(signal, name) for name in ("SIGALRM", "SIGINT", "SIGTERM") if hasattr(signal, name))
RETRY = 0.05  # seconds before an interrupt that landed where it would be swallowed is raised again


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
_pending: BaseException | None = None  # an interrupt that arrived while a check ran (it may have been swallowed)


def raise_pending() -> None:
    """Raise the interrupt that arrived while the check ran, if any (TensorFlow or the subject may have caught it)."""
    if _pending is not None:
        raise _pending


@contextlib.contextmanager
def call(what: str):
    """One call of the check (a loop run, a replay): timed, so that the slowest is named if the budget runs out."""
    watch = _current
    if watch is None:
        yield
        return
    check()
    outer, outer_since = watch.running, watch.running_since
    finished = False
    watch.running, watch.running_since = what, time.monotonic()
    try:
        yield
        finished = True
    except Interrupted:
        if not watch.cut:  # the innermost call
            watch.cut = f"{what}, after {time.monotonic() - watch.running_since:.1f} s"
        raise
    except Exception:
        raise_pending()  # an interrupt TensorFlow or the subject turned into an error: the interrupt goes on
        raise
    finally:
        if _pending is not None and not watch.cut:
            watch.cut = f"{what}, after {time.monotonic() - watch.running_since:.1f} s"
        took = time.monotonic() - watch.running_since
        if took >= watch.slowest:
            watch.slowest, watch.slowest_what = took, what
        watch.running, watch.running_since = outer, outer_since
    if finished:
        raise_pending()  # caught inside the call (the loop's error handling, the subject's except)


def note_done(done: int, total: int) -> None:
    if _current is not None:
        _current.done, _current.total = done, total


def check() -> None:
    """Stop here if the budget is spent (where no timer can interrupt), or an interrupt arrived."""
    raise_pending()
    if _current is not None and _current.expired:
        raise Interrupted()


@contextlib.contextmanager
def limit(seconds: float | None, what: str):
    """Bound the block to ``seconds`` (None: no bound of its own, but interrupts from outside are still relayed);
    raise :class:`CheckTimeout` naming ``what`` when it runs out."""
    global _current, _pending
    if _current is not None:  # an outer budget already bounds this block
        yield
        return
    watch = _current = Watch(math.inf if seconds is None else float(seconds), time.monotonic())
    _pending = None
    restore = _relay(seconds)
    try:
        yield
        raise_pending()  # an interrupt swallowed after the last call boundary
    except BaseException as exc:
        ended = _pending if _pending is not None else exc
        if isinstance(ended, Interrupted):
            raise CheckTimeout(
                f"{what} ran out of its time budget of {seconds:g} s (timeout): {watch.describe()}. A subject this "
                "slow holds the gate: give it fewer examples, smaller data (feeds, partitions), or a larger timeout."
            ) from None
        if ended is not exc:
            raise ended from None
        raise
    finally:
        _current, _pending = None, None
        restore()


def _relay(seconds: float | None):
    """Arm the budget's alarm (unless someone else's holds SIGALRM: pytest-timeout's signal method) and relay the
    interrupt handlers (see the module's docstring); returns what puts everything back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    import gc

    previous = {number: signal.getsignal(number) for number in RELAYED}
    foreign = callable(previous.get(getattr(signal, "SIGALRM", None)))
    gc.callbacks.insert(0, _collection)  # first at "start" and at "stop": the flag covers the others' callbacks
    for number, handler in previous.items():
        if callable(handler):
            signal.signal(number, _relayed(handler))
    armed = seconds is not None and not foreign and hasattr(signal, "SIGALRM")
    if armed:
        signal.signal(signal.SIGALRM, _relayed(_expire))
        signal.setitimer(signal.ITIMER_REAL, max(1e-3, float(seconds)))

    def restore():
        global _retrying, _collecting
        if armed or _retrying:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _retrying = False
        if _collection in gc.callbacks:
            gc.callbacks.remove(_collection)
        _collecting = False
        for number, handler in previous.items():
            if handler is not None:
                signal.signal(number, handler)

    return restore


_retrying = False  # an interrupt is waiting to be raised where it will not be swallowed (a 50 ms timer is armed)


def _expire(signum, frame):
    raise Interrupted()


def _relayed(handler):
    """``handler``, with the exception it raises kept as pending first (and raised again where it was lost)."""

    def relay(signum, frame):
        global _pending, _retrying
        if _pending is None:
            try:
                handler(signum, frame)
                return  # it chose not to interrupt (pytest-timeout under a debugger)
            except BaseException as exc:
                _pending = exc
        if _swallowed_here(frame) and hasattr(signal, "SIGALRM"):
            signal.signal(signal.SIGALRM, relay)  # try again in a moment, outside the collector
            signal.setitimer(signal.ITIMER_REAL, RETRY)
            _retrying = True
            return
        raise _pending

    return relay


def _swallowed_here(frame) -> bool:
    """Whether ``frame`` runs where CPython swallows exceptions: while the garbage collector runs (its callbacks,
    and the weakref callbacks and finalizers a collection calls), or in a ``__del__``."""
    import gc

    if _collecting:
        return True
    codes = {getattr(callback, "__code__", None) for callback in gc.callbacks} - {None}
    while frame is not None:
        if frame.f_code in codes or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


_collecting = False  # a garbage collection is under way (set by _collection, the first of gc's callbacks)


def _collection(phase: str, info: dict) -> None:
    global _collecting
    _collecting = phase == "start"


def remaining() -> float:
    """Seconds left in the current budget (infinite without one)."""
    if _current is None:
        return math.inf
    return _current.seconds - (time.monotonic() - _current.started)
