"""The exceptions f1check raises.

Bad input (a wrong argument, data, partition, target or a subject that
misbehaves) raises a subclass of :class:`F1CheckError` whose message says what
is wrong and what to do.  A check that ran and found the logged F1 wrong raises
:class:`F1CheckFailure`, an ``AssertionError``, so pytest reports it as a test
failure rather than an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "DataError",
    "F1CheckError",
    "F1CheckFailure",
    "LoopError",
    "PartitionError",
    "SubjectError",
    "TargetError",
]


class F1CheckError(Exception):
    """Bad input to f1check; the message names what is wrong and what to do.

    ``code`` is a reason code (:data:`f1check.reasons.CODES`) when the cause is one f1check names, else None.
    """

    code: str | None = None


class ConfigError(F1CheckError, ValueError):
    """An option has a value f1check does not accept."""


class DataError(F1CheckError, ValueError):
    """Labels or scores that are not what the task needs."""


class PartitionError(F1CheckError, ValueError):
    """A partition that is malformed or does not fit the data."""


class TargetError(F1CheckError):
    """A target that does not import, or is neither a metric nor a callback."""


class SubjectError(F1CheckError):
    """A subject that raised, returned NaN or a non-scalar, or never reported."""


class Refused(F1CheckError):
    """The subject raised on a label form (or dtype) it was fed, another form being the one it takes: that form is
    refused (recorded, never drawn again), not the subject's failure."""


class LoopError(F1CheckError):
    """Keras refused the arguments f1check gave its loop (a feed, weights or a model it does not take together):
    f1check's own fault, never the subject's."""


class F1CheckFailure(AssertionError):
    """A check ran and the F1 the loop logged is wrong; the message says how."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the nearest valid spelling, or ``""``."""
    choices = list(choices)
    same = [c for c in choices if str(value).lower() == str(c).lower()]  # "GPU" for "gpu": the case only
    close = same or difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
    close = close or [c for c in choices if str(value) and str(value) in c][:1]
    return f" Did you mean {close[0]!r}?" if close else ""


def one_of(choices: Iterable[str]) -> str:
    return ", ".join(repr(c) for c in choices)
