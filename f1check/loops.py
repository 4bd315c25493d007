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
        steps_per_execution: ``compile(steps_per_execution=...)``: steps Keras runs per call of its compiled step.
        jit_compile: ``compile(jit_compile=...)``: the step compiled with XLA.
        dtype_policy: the model's dtype policy; under ``"mixed_float16"``/``"mixed_bfloat16"`` it computes, and
            feeds the metrics its predictions, in 16 bits.
        outputs: ``"single"``, or how a two-output model (the check's ``output`` head and another) gives its
            outputs: ``"dict"`` or ``"list"``.
    """

    feed: Feed = Feed.PYDATASET
    weights: str = "none"
    steps_per_execution: int = 1
    jit_compile: bool = False
    dtype_policy: str = "float32"
    outputs: str = "single"

    @property
    def compiled(self) -> tuple:
        """What the compiled model depends on: runs that differ here cannot share one."""
        return self.steps_per_execution, self.jit_compile, self.dtype_policy, self.outputs

    @property
    def sixteen_bit(self) -> bool:
        return self.dtype_policy != "float32"

    def describe(self, legacy: bool = False) -> str:
        """``a keras.utils.PyDataset with steps``: how messages say it, after "fed"."""
        given = {"none": "", "sample": ", with per-sample weights", "class": ", with class weights"}[self.weights]
        return self.feed.describe(legacy) + given + "".join(", " + part for part in self.compile_parts())

    def compile_parts(self) -> list[str]:
        """The compile settings that differ from Keras's defaults, in words."""
        return [*([f"steps_per_execution={self.steps_per_execution}"] if self.steps_per_execution != 1 else []),
                *(["jit_compile=True (XLA)"] if self.jit_compile else []),
                *([f"dtype policy {self.dtype_policy}"] if self.sixteen_bit else []),
                *([f"two outputs as a {self.outputs}"] if self.outputs != "single" else [])]

    def json(self) -> dict:
        """The example's fields in the JSON report."""
        return {"feed": self.feed.value, "weights": self.weights, "steps_per_execution": self.steps_per_execution,
                "jit_compile": self.jit_compile, "dtype_policy": self.dtype_policy, "outputs": self.outputs}

    def arguments(self) -> list[str]:
        """The ``check()`` keyword arguments that make a check run exactly this loop."""
        return [f"feeds=[{self.feed.value!r}]", *([f"weights=[{self.weights!r}]"] if self.weights != "none" else []),
                *([f"steps_per_execution=[{self.steps_per_execution}]"] if self.steps_per_execution != 1 else []),
                *(["jit_compile=[True]"] if self.jit_compile else []),
                *([f"dtype_policies=[{self.dtype_policy!r}]"] if self.sixteen_bit else [])]


@dataclass(frozen=True)
class Run:
    """One run through the loop: a partition of the data, how the loop runs, and the weights it is given."""

    partition: Partition
    loop: LoopSettings = LoopSettings()
    weights: Weights = NONE
