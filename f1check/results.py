"""What a check found: Example, Result and Report values, with no I/O (report.py renders them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import report as rendering
from . import verdict
from .partitions import Partition
from .reference import Attribution

if TYPE_CHECKING:
    from .backend import Environment
    from .settings import CheckSettings

__all__ = ["Example", "Report", "Result"]


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
    mode: str = "evaluate"
    judge: str = "seen"
    epoch: int = 0  # the worst epoch (0-based)
    epochs: int = 1
    feed: str = "pydataset"  # how the data reached the loop (f1check.feeds)
    replicas: int = 1
    fed_batch_sizes: tuple[int, ...] = ()
    diagnosis: tuple[str, ...] = ()
    preceded_by: tuple[Partition, ...] = ()
    y_true: Any = field(default=None, repr=False)
    scores: Any = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return self.partition.n

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
    mode: str
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

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        return "pass" if self.passed else "fail"

    @property
    def max_abs_error(self) -> float:
        return self.worst.badness() if self.worst is not None else 0.0


@dataclass
class Report:
    """What :func:`f1check.check` found: one :class:`Result` per mode.

    ``str(report)`` is its table and failure messages, ``report.to_json()`` its JSON document (both
    written by :mod:`f1check.report`, which knows the values only by their fields).
    """

    results: list[Result]
    environment: Environment
    label: str = ""
    settings: CheckSettings | None = None
    explicit_data: bool = False
    explicit_partitions: bool = False
    callback_key: str | None = None
    callback_metrics: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def __str__(self) -> str:
        return rendering.render(self)

    def to_json(self) -> dict:
        return rendering.report_json(self)
