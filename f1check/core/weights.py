"""Weighted loops: the weights a loop is given, and batches that carry the weights each sample was fed with.

Keras hands ``sample_weight`` (and ``class_weight``, turned into per-sample
weights in training passes) to the entries of ``compile(weighted_metrics=...)``
and never to those of ``metrics=``.  :class:`WeightsKind` is what one example's
loop is given, a value that answers every question about itself: nothing,
per-sample weights (also given to the validation data in the validation
modes), or a ``class_weight`` dict (training passes only: Keras does not weight
validation by class; and never with a Python generator or a model of two
outputs, which Keras 3 refuses).  :class:`Weights` holds the values of one
example's weights, :class:`Batch` is one fed batch as the recorder saw it:
``y_true``, ``y_pred`` and the weights it carried as ``w``, unpacking as the
pair ``(y_true, y_pred)`` so that everything that unpacks pairs keeps working.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .values import Spelled

if TYPE_CHECKING:
    from .feeds import Feed
    from .modes import Mode

__all__ = ["KINDS", "Batch", "Weights", "WeightsKind", "weight_of", "weights_of"]


class WeightsKind(Spelled):
    """What a loop is given besides the data; ``WeightsKind("class")`` from its name (the ``weights`` key's spelling).

    Attributes:
        given: the loop is given weights at all.
        per_sample: one weight per sample (``sample_weight``, or the third element of every batch).
        by_class: a ``class_weight`` dict, which Keras turns into per-sample weights in training passes only.
        weighs_validation: the validation data of ``fit`` carries the weights too (class weights do not).
        describe: how messages say it after the feed (``with per-sample weights``; "" for none).

    Example:
        >>> WeightsKind("class").weighs_validation
        False
    """

    NONE = "none"
    SAMPLE = "sample"
    CLASS = "class"

    @property
    def given(self) -> bool:
        return self is not WeightsKind.NONE

    @property
    def per_sample(self) -> bool:
        return self is WeightsKind.SAMPLE

    @property
    def by_class(self) -> bool:
        return self is WeightsKind.CLASS

    @property
    def weighs_validation(self) -> bool:
        return self.per_sample

    @property
    def describe(self) -> str:
        return {WeightsKind.SAMPLE: "with per-sample weights", WeightsKind.CLASS: "with class weights"}.get(self, "")

    def reaches(self, mode: Mode) -> bool:
        """Whether ``mode``'s loop can be given these weights: class weights need a training pass (``fit``), and
        ``reloaded`` gives none (its judged ``evaluate`` takes none)."""
        return not self.by_class or mode.takes_class_weights

    def carried_by(self, feed: Feed) -> bool:
        """Whether Keras takes these weights with ``feed``: it refuses ``class_weight`` for Python generator inputs
        (``ValueError: Argument `class_weight` is not supported for Python generator inputs``), with steps or
        without, in ``fit`` and as the training data of the validation modes (Keras 3.15.1, checked by hand)."""
        return not (self.by_class and feed.python_generator)

    def fits_outputs(self, outputs: str) -> bool:
        """Whether Keras takes these weights on a model of ``outputs`` (``"single"``, ``"dict"``, ``"list"``): it
        refuses ``class_weight`` for a model of two outputs (arrays and tf.data: ``class_weight is only supported
        for Models with a single output``; a PyDataset fails inside Keras)."""
        return not (self.by_class and outputs != "single")


KINDS = tuple(kind.value for kind in WeightsKind)  # what the search draws from (the `weights` key)


@dataclass(frozen=True, eq=False)
class Batch:
    """One fed batch: ``y_true``, ``y_pred`` and ``w``, the weight each of its samples carried (None: unweighted).

    It unpacks and indexes as the pair ``(y_true, y_pred)``, as the plain pairs it stands beside do.
    """

    y_true: Any
    y_pred: Any
    w: Any = None

    def __iter__(self):
        return iter((self.y_true, self.y_pred))

    def __getitem__(self, index):
        return (self.y_true, self.y_pred)[index]


def weight_of(batch) -> Any:
    """The weights ``batch`` carried: a :class:`Batch`'s ``w``; None for a plain ``(y_true, y_pred)`` pair."""
    return batch.w if isinstance(batch, Batch) else None


def weights_of(batches) -> Any:
    """The weights of ``batches`` concatenated, or None when any batch carries none."""
    import numpy as np

    found = [weight_of(b) for b in batches]
    if not found or any(w is None for w in found):
        return None
    return np.concatenate(found)


@dataclass(frozen=True, eq=False)
class Weights:
    """The weights one example's loop is given besides the data: per-sample values, a ``class_weight``, or neither.

    Attributes:
        sample: the per-sample weights, ``(n,)`` float32 (kind ``sample``).
        class_weight: ``{class index: weight}`` (kind ``class``).
        kind: which of the two is given (:class:`WeightsKind`), read off the values: held nowhere else.
    """

    sample: Any = None
    class_weight: dict | None = None

    def __post_init__(self):
        if self.sample is not None and self.class_weight is not None:
            raise ValueError("internal: Keras takes sample weights or a class_weight, never both.")

    @property
    def kind(self) -> WeightsKind:
        if self.sample is not None:
            return WeightsKind.SAMPLE
        return WeightsKind.CLASS if self.class_weight is not None else WeightsKind.NONE

    @property
    def given(self) -> bool:
        return self.kind.given

    def per_sample(self, y, task: str, mode: Mode):
        """The weight each sample carries in ``mode``'s judged pass (None: unweighted); class weights only where
        that pass trains."""
        import numpy as np

        if self.kind.per_sample:
            return np.asarray(self.sample, np.float32)
        if self.kind.by_class and mode.judges_training:
            labels = np.argmax(y, axis=1) if task == "multiclass" else y.reshape(len(y), -1)[:, 0].astype(np.int64)
            return np.asarray([self.class_weight.get(int(k), 1.0) for k in labels], np.float32)
        return None

    def digest(self) -> bytes:
        """Its identity, for the search's memo."""
        value = hashlib.blake2b(self.kind.value.encode(), digest_size=16)
        if self.sample is not None:
            value.update(self.sample.tobytes())
        if self.class_weight is not None:
            value.update(repr(sorted(self.class_weight.items())).encode())
        return value.digest()

    def describe(self) -> str:
        if self.kind.per_sample:
            return "per-sample weights"
        if self.kind.by_class:
            return f"class_weight={self.class_weight}"
        return "no weights"


NONE = Weights()
