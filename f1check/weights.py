"""Weighted loops: the weights a loop is given, and batches that carry the weights each sample was fed with.

Keras hands ``sample_weight`` (and ``class_weight``, turned into per-sample
weights in training passes) to the entries of ``compile(weighted_metrics=...)``
and never to those of ``metrics=``.  :class:`Weights` is what one example's
loop is given: nothing, per-sample weights (also given to the validation
data in the validation modes), or a ``class_weight`` dict (training passes
only: Keras does not weight validation by class).  :class:`Batch` is one fed
batch as the recorder saw it, ``(y_true, y_pred)`` with the weights it carried
as ``.w``, so that everything that unpacks two-tuples keeps working.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "Batch", "Weights"]

KINDS = ("none", "sample", "class")  # what the search draws from (the `weights` key)


class Batch(tuple):
    """``(y_true, y_pred)`` of one fed batch; ``w``: the weight each of its samples carried (None: unweighted)."""

    w: Any

    def __new__(cls, y_true, y_pred, w=None) -> Batch:
        batch = super().__new__(cls, (y_true, y_pred))
        batch.w = w
        return batch

    def __reduce__(self):
        return Batch, (self[0], self[1], self.w)


def weights_of(batches) -> Any:
    """The weights of ``batches`` concatenated, or None when any batch carries none."""
    import numpy as np

    found = [getattr(b, "w", None) for b in batches]
    if not found or any(w is None for w in found):
        return None
    return np.concatenate(found)


@dataclass(frozen=True, eq=False)
class Weights:
    """What one example's loop is given besides the data.

    Attributes:
        kind: ``"none"``, ``"sample"`` (``sample``: one weight per sample) or ``"class"`` (``class_weight``).
        sample: the per-sample weights, ``(n,)`` float32 (kind ``"sample"``).
        class_weight: ``{class index: weight}`` (kind ``"class"``).
    """

    kind: str = "none"
    sample: Any = None
    class_weight: dict | None = None

    @property
    def given(self) -> bool:
        return self.kind != "none"

    def per_sample(self, y, task: str, judged_pass_trains: bool):
        """The weight each sample carries in a pass (None: unweighted); class weights only in a training pass."""
        import numpy as np

        if self.kind == "sample":
            return np.asarray(self.sample, np.float32)
        if self.kind == "class" and judged_pass_trains:
            labels = np.argmax(y, axis=1) if task == "multiclass" else y.reshape(len(y), -1)[:, 0].astype(np.int64)
            return np.asarray([self.class_weight.get(int(k), 1.0) for k in labels], np.float32)
        return None

    def digest(self) -> bytes:
        """Its identity, for the search's memo."""
        value = hashlib.blake2b(self.kind.encode(), digest_size=16)
        if self.sample is not None:
            value.update(self.sample.tobytes())
        if self.class_weight is not None:
            value.update(repr(sorted(self.class_weight.items())).encode())
        return value.digest()

    def describe(self) -> str:
        if self.kind == "sample":
            return "per-sample weights"
        if self.kind == "class":
            return f"class_weight={self.class_weight}"
        return "no weights"


NONE = Weights()
