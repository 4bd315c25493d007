"""What a check found: Example and Result values, with no I/O (:mod:`f1check.reporting.report` renders them).

``f1_seen`` and ``f1_all`` keep the names of the public contract whatever the
score: they hold sklearn's value of the result's ``score`` (F1, precision,
recall, F-beta or MCC) over what the loop fed and over every sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core import verdict
from ..core.feeds import Feed
from ..core.modes import Mode
from ..core.partitions import Partition
from ..core.weights import NONE, Weights
from ..loops import LoopSettings
from ..reasons import Reason
from .reference import Attribution

__all__ = ["Example", "Result"]


@dataclass
class Example:
    """One run of the subject through the real loop over one partition, and its verdict.

    ``reported`` is what the loop logged, ``replayed`` what the subject gives
    fed the same batches directly, ``f1_seen``/``f1_all`` sklearn's value (of
    the target's score, F1 by default) on what was fed and on all samples.
    Multi-epoch modes keep their worst epoch.  ``preceded_by`` lists the
    partitions of the same data fed to the same compiled model just before
    this one (a sequence of runs, as a script calling ``evaluate`` twice
    makes); the example reproduces only after them.
    """

    reported: float
    replayed: float
    f1_seen: float
    f1_all: float
    error: Attribution
    partition: Partition
    judged_error: float
    passed: bool
    mode: Mode = Mode.EVALUATE
    judge: str = "seen"
    epoch: int = 0  # the worst epoch (0-based)
    epochs: int = 1
    loop: LoopSettings = LoopSettings()  # how the loop ran: the feed, and the other settings drawn
    replicas: int = 1
    fed_batch_sizes: tuple[int, ...] = ()
    diagnosis: tuple[Reason, ...] = ()  # why its logged value is off (reasons with codes; strings that read as such)
    notes: tuple[str, ...] = ()  # what else the run showed (a replay that could not be done)
    explanations: tuple = field(default=(), repr=False)  # every reading of its own value whose numbers match
    preceded_by: tuple[Partition, ...] = ()
    y_true: Any = field(default=None, repr=False)
    scores: Any = field(default=None, repr=False)
    weights: Weights = field(default=NONE, repr=False)  # what the loop was given besides the data
    fed_batches: tuple = field(default=(), repr=False)  # the judged epoch's batches as the subject saw them

    @property
    def n(self) -> int:
        return self.partition.n

    @property
    def feed(self) -> Feed:
        """How the data reached the loop (``loop.feed``)."""
        return self.loop.feed

    @property
    def batch_sizes(self) -> list[int]:
        return list(self.partition.batch_sizes)

    @property
    def dropped(self) -> int:
        return self.partition.dropped

    @property
    def order_seed(self) -> int | None:
        return self.partition.order_seed

    @property
    def blame(self) -> str:
        """The error term that dominates what the judge bounds."""
        return self.error.dominant(self.judge)

    def badness(self) -> float:
        return verdict.badness(self.judged_error)


@dataclass
class Result:
    """All examples of one subject in one mode.

    ``status`` is ``"pass"``, ``"fail"`` or ``"error"`` (bad input: the check
    could not judge; ``error`` holds the message).  A failing result carries
    ``reproduce``: Python that fails the same way in a fresh interpreter.
    """

    target: str
    mode: Mode
    passed: bool
    examples: int
    tolerance: float
    judge: str
    worst: Example | None
    counterexample: Example | None
    score: str = "f1"
    runs: list[Example] = field(default_factory=list, repr=False)  # every example run through the real loop
    reproduce: str | None = None
    error: str | None = None
    why: tuple[Reason, ...] = ()  # the reasons that stand: their numbers match on more than one failing example
    refused: tuple[dict, ...] = ()  # the label forms the subject raised on: {"labels", "dtype", "error"} each
    notes: tuple[Reason, ...] = ()  # what the check found that is no failure of this mode (config-loses-arguments)

    @classmethod
    def failed_to_run(cls, target: str, mode: Mode, score: str, message: str, why: tuple[Reason, ...] = ()) -> Result:
        """The record of a check that could not judge (bad input, a subject that raised): status ``error``."""
        return cls(target, mode, False, 0, 0.0, "seen", None, None, score=score, error=message, why=why)

    @property
    def main_reason(self) -> str:
        """The code of the first reason (``-`` when it passed; ``note: <code>`` when it passed with a note)."""
        if self.why:
            return self.why[0].code
        return f"note: {self.notes[0].code}" if self.notes else "-"

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        return "pass" if self.passed else "fail"

    @property
    def max_abs_error(self) -> float:
        return self.worst.badness() if self.worst is not None else 0.0
