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
from .weights import NONE, Weights

if TYPE_CHECKING:
    from .partitions import Partition

__all__ = ["LoopSettings", "Run"]


@dataclass(frozen=True)
class LoopSettings:
    """How one example's loop runs.

    Attributes:
        feed: how the data reaches the loop (:class:`~f1check.feeds.Feed`).
        weights: what the loop is given besides the data: ``"none"``, ``"sample"`` or ``"class"``
            (:mod:`f1check.weights`; the values themselves go with the data).
    """

    feed: Feed = Feed.PYDATASET
    weights: str = "none"

    FIELDS = ("feed", "weights")

    def describe(self, legacy: bool = False) -> str:
        """``a keras.utils.PyDataset with steps``: how messages say it, after "fed"."""
        given = {"none": "", "sample": ", with per-sample weights", "class": ", with class weights"}[self.weights]
        return self.feed.describe(legacy) + given

    def json(self) -> dict:
        """The example's fields in the JSON report."""
        return {"feed": self.feed.value, "weights": self.weights}

    def arguments(self) -> list[str]:
        """The ``check()`` keyword arguments that make a check run exactly this loop."""
        return [f"feeds=[{self.feed.value!r}]", *([f"weights=[{self.weights!r}]"] if self.weights != "none" else [])]


@dataclass(frozen=True)
class Run:
    """One run through the loop: a partition of the data, how the loop runs, and the weights it is given."""

    partition: Partition
    loop: LoopSettings = LoopSettings()
    weights: Weights = NONE
