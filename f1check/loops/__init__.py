"""The loop's settings of one example: everything about how Keras runs it besides the mode and the partition.

A :class:`LoopSettings` is drawn per example (the search draws each field from
the lists the check's settings allow), recorded in the
:class:`~f1check.judging.results.Example`, written in the JSON and turned back into
``check()`` arguments by the reproduction snippet.  A new dimension of the
loop is one field here, one strategy, one place in the driver.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.feeds import Feed
from ..core.labels import LabelForm
from ..core.weights import NONE, Weights, WeightsKind

if TYPE_CHECKING:
    from ..core.partitions import Partition

__all__ = ["CompileKey", "LoopSettings", "Run"]


def _setting(default, keyword: str, said: Callable[[Any], str] | None, compiles: bool = False, pinned: bool = False):
    """A field of :class:`LoopSettings` and what the modules read off it.

    ``keyword`` is the ``check()`` argument (a list) that draws it, ``said`` how messages say a value other than the
    default (None: said by :meth:`LoopSettings.describe` itself), ``compiles`` whether the compiled model depends on
    it (:class:`CompileKey`), ``pinned`` whether a reproduction names it even at its default.
    """
    return field(default=default, metadata={"keyword": keyword, "said": said, "compiles": compiles, "pinned": pinned})


def _plain(value):
    """A field's value as JSON and Python literals write it (an enum as its spelling)."""
    return value.value if isinstance(value, enum.Enum) else value


@dataclass(frozen=True)
class CompileKey:
    """What a compiled model depends on (the :class:`LoopSettings` fields that go into ``compile()`` or the model's
    build): runs whose keys differ cannot share one model, so the driver keeps one harness per key."""

    steps_per_execution: int = 1
    jit_compile: bool = False
    dtype_policy: str = "float32"
    outputs: str = "single"
    labels: LabelForm | None = None  # the labels' form: the loss, and the shapes the step is traced for


@dataclass(frozen=True)
class LoopSettings:
    """How one example's loop runs.

    Every field says, in its metadata, the ``check()`` keyword that pins it (a reproduction writes it), whether
    the compiled model depends on it and how messages say it: :meth:`json`, :meth:`describe`, :meth:`arguments`
    and :attr:`compile_key` are read off the fields, so a new field needs nothing more here.

    Attributes:
        feed: how the data reaches the loop (:class:`~f1check.core.feeds.Feed`).
        weights: what the loop is given besides the data (:class:`~f1check.core.weights.WeightsKind`; the values
            themselves go with the data, in :class:`Run`).
        steps_per_execution: ``compile(steps_per_execution=...)``: steps Keras runs per call of its compiled step.
        jit_compile: ``compile(jit_compile=...)``: the step compiled with XLA.
        dtype_policy: the model's dtype policy; under ``"mixed_float16"``/``"mixed_bfloat16"`` it computes, and
            feeds the metrics its predictions, in 16 bits.
        outputs: ``"single"``, or how a two-output model (the check's ``output`` head and another) gives its
            outputs: ``"dict"`` or ``"list"``.
        labels: the form the loop is fed the labels in (:class:`~f1check.core.labels.LabelForm`: ``flat`` ``(n,)``,
            ``sparse`` class indices...); None: the form the data is held in (``(n, 1)`` binary, ``(n, C)``).
        label_dtype: the dtype the labels are fed in (``float32``, ``int64``, ``bool``).
    """

    feed: Feed = _setting(Feed.PYDATASET, "feeds", None, pinned=True)
    weights: WeightsKind = _setting(WeightsKind.NONE, "weights", lambda kind: kind.describe)
    steps_per_execution: int = _setting(1, "steps_per_execution", "steps_per_execution={}".format, compiles=True)
    jit_compile: bool = _setting(False, "jit_compile", lambda _: "jit_compile=True (XLA)", compiles=True)
    dtype_policy: str = _setting("float32", "dtype_policies", "dtype policy {}".format, compiles=True)
    outputs: str = _setting("single", "outputs", "two outputs as a {}".format, compiles=True)
    # The labels' form is part of the compile key (sparse forms compile the sparse loss, and a model traced for
    # one form must not be relaxed to unknown label shapes by another, as no repository's model is); their dtype
    # is not (Keras traces its step anew for a new dtype, as a repository's would).
    labels: LabelForm | None = _setting(None, "labels", None, pinned=True)
    label_dtype: str = _setting("float32", "label_dtypes", None, pinned=True)

    def __post_init__(self):  # the spellings JSON and config use, read back as the types
        object.__setattr__(self, "feed", Feed(self.feed))
        object.__setattr__(self, "weights", WeightsKind(self.weights))
        if self.labels is not None:
            object.__setattr__(self, "labels", LabelForm(self.labels))

    def form(self, task: str) -> LabelForm:
        """The form the labels are fed in (the held form of ``task`` where none was drawn)."""
        return self.labels if self.labels is not None else LabelForm.held_for(task)

    @property
    def held_labels(self) -> bool:
        """The labels are fed as the data is held: ``(n, 1)`` or ``(n, C)`` float32."""
        return (self.labels is None or self.labels.held) and self.label_dtype == "float32"

    def labels_said(self) -> str:
        """``(n,) int64 labels (flat)``: how messages say labels fed otherwise than held; "" when held."""
        return "" if self.held_labels or self.labels is None else self.labels.describe(self.label_dtype)

    @property
    def label_pair(self) -> tuple[LabelForm | None, str]:
        """``(form, dtype)``: what a subject may refuse."""
        return self.labels, self.label_dtype

    def encode(self, y, task: str):
        """Held labels ``y`` as this loop feeds them."""
        return self.form(task).encode(y, self.label_dtype)

    @property
    def compile_key(self) -> CompileKey:
        """What the compiled model depends on: runs that differ here cannot share one."""
        held = self.labels is None or self.labels.held  # the form the data is held in: Keras's default model
        return CompileKey(**{f.name: getattr(self, f.name) for f in self._fields(compiles=True)},
                          labels=None if held else self.labels)

    @property
    def sixteen_bit(self) -> bool:
        return self.dtype_policy != "float32"

    @classmethod
    def _fields(cls, compiles: bool | None = None) -> list[dataclasses.Field]:
        return [f for f in dataclasses.fields(cls) if compiles is None or f.metadata["compiles"] is compiles]

    def _changed(self, f: dataclasses.Field) -> bool:
        return getattr(self, f.name) != f.default

    def describe(self, legacy: bool = False) -> str:
        """``a keras.utils.PyDataset with steps``: how messages say it, after "fed"."""
        said = [f.metadata["said"](getattr(self, f.name)) for f in self._fields(compiles=False)
                if f.metadata["said"] is not None and self._changed(f)]
        labels = [self.labels_said()] if self.labels_said() else []
        return ", ".join([self.feed.describe(legacy), *said, *labels, *self.compile_parts()])

    def compile_parts(self) -> list[str]:
        """The compile settings that differ from Keras's defaults, in words."""
        return [f.metadata["said"](getattr(self, f.name)) for f in self._fields(compiles=True) if self._changed(f)]

    def json(self) -> dict:
        """The example's fields in the JSON report."""
        return {f.name: _plain(getattr(self, f.name)) for f in self._fields()}

    def arguments(self) -> list[str]:
        """The ``check()`` keyword arguments that make a check run exactly this loop."""
        return [f"{f.metadata['keyword']}=[{_plain(getattr(self, f.name))!r}]" for f in self._fields()
                if (f.metadata["pinned"] and getattr(self, f.name) is not None) or self._changed(f)]


@dataclass(frozen=True)
class Run:
    """One run through the loop: a partition of the data, how the loop runs, and the weights it is given."""

    partition: Partition
    loop: LoopSettings = LoopSettings()
    weights: Weights = NONE

    def __post_init__(self):
        if self.weights.kind is not self.loop.weights:
            raise ValueError(f"internal: a loop given {self.loop.weights} weights was handed {self.weights.kind} ones.")
