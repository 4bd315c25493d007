"""The loop's settings of one example: everything about how Keras runs it besides the mode and the partition.

A :class:`LoopSettings` is drawn per example (the search draws each field from
the lists the check's settings allow), recorded in the
:class:`~f1check.results.Example`, written in the JSON and turned back into
``check()`` arguments by the reproduction snippet.  A new dimension of the
loop is one field here, one strategy, one place in the driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .feeds import Feed

if TYPE_CHECKING:
    from .partitions import Partition

__all__ = ["LoopSettings", "Run"]


@dataclass(frozen=True)
class LoopSettings:
    """How one example's loop runs.

    Attributes:
        feed: how the data reaches the loop (:class:`~f1check.feeds.Feed`).
    """

    feed: Feed = Feed.PYDATASET

    FIELDS = ("feed",)

    def describe(self, legacy: bool = False) -> str:
        """``a keras.utils.PyDataset with steps``: how messages say it, after "fed"."""
        return self.feed.describe(legacy)

    def json(self) -> dict:
        """The example's fields in the JSON report."""
        return {"feed": self.feed.value}

    def arguments(self) -> list[str]:
        """The ``check()`` keyword arguments that make a check run exactly this loop."""
        return [f"feeds=[{self.feed.value!r}]"]


@dataclass(frozen=True)
class Run:
    """One run through the loop: a partition of the data, and how the loop runs."""

    partition: Partition
    loop: LoopSettings = LoopSettings()
