"""State that survives ``reset_state()``: found by behaviour, with the values that stayed.

Keras resets a compiled metric when ``evaluate`` or ``fit`` begins, at every
epoch and before every validation pass.  A metric whose ``reset_state()``
forgets a count (an overridden reset that skips one, counts in raw
``tf.Variable`` attributes Keras does not track) logs values that depend on
what it was fed before.  :func:`carried_state` finds that by feeding the
metric, resetting it and feeding it again, not by reading its variables; a
model is kept between examples only when every compiled metric passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core import backend
from . import MetricSubject, Subject

__all__ = ["CarriedState", "carried_state", "probe_carried_state"]


@dataclass(frozen=True)
class CarriedState:
    """What a metric still holds after ``reset_state()``: found by behaviour, with the values that stayed."""

    fresh: float  # result of a fresh metric fed the second probe batch
    after_reset: float  # result of a metric fed the first batch, reset, then fed the second
    leftovers: tuple[tuple[str, str], ...]  # (attribute, value) of state that reset_state left non-zero

    def describe(self) -> str:
        held = ", ".join(f"{name}={value}" for name, value in self.leftovers[:6])
        return f" (probed on two batches of its own, after reset_state() it still held {held})" if held else ""


def _probe_batches(columns: int, task: str):
    """Two batches such that keeping any of the first one's counts (tp, fp, fn, tn) changes the second's value.

    Binary and multilabel: the first has tp=3, fp=1, fn=2, tn=1 in every column, the second tp=2, fp=0, fn=1,
    tn=1, so F1 is 0.8 fresh and differs with any of tp, fp, fn (or all) carried over.
    """
    import numpy as np

    if task == "multiclass":
        eye = np.eye(columns, dtype=np.float32)
        first = (eye[[0, 0, 1, 1, 0] if columns > 1 else [0] * 5], eye[[0, 1, 1, 0, 0] if columns > 1 else [0] * 5])
        second = (eye[[1, 1, 0] if columns > 1 else [0] * 3], eye[[1, 0, 0] if columns > 1 else [0] * 3])
        return first, second

    def batch(labels, scores):
        return (np.asarray(labels, np.float32)[:, None].repeat(columns, 1),
                np.asarray(scores, np.float32)[:, None].repeat(columns, 1))

    return batch([1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 1, 0]), batch([1, 1, 1, 0], [1, 1, 0, 0])


def _leftovers(metric) -> tuple[tuple[str, str], ...]:
    """Non-zero state after reset: tracked variables, and raw framework variables kept as attributes."""
    import numpy as np

    found = {}
    for v in getattr(metric, "variables", []):
        found[getattr(v, "path", None) or getattr(v, "name", "variable")] = v
    tracked = {id(v) for v in found.values()}
    for name, value in vars(metric).items():
        if hasattr(value, "assign") and hasattr(value, "dtype") and not name.startswith("_") and id(value) not in tracked:
            found.setdefault(name, value)
    out = []
    for name, variable in found.items():
        try:
            array = backend.to_numpy(variable)
        except Exception:
            continue
        if array.size and np.any(array != 0):
            text = np.array2string(array, precision=4, threshold=6) if array.size > 1 else f"{float(array.reshape(-1)[0]):g}"
            out.append((name.rsplit("/", 1)[-1].removesuffix(":0"), text))
    return tuple(out)


def probe_carried_state(subject: Subject, columns: int, task: str) -> CarriedState | None:
    """What the first of the subject's compiled metrics that keeps state across ``reset_state()`` carried, or None."""
    return next((c for c in (carried_state(m, columns, task) for m in subject.metrics) if c), None)


def carried_state(subject: MetricSubject, columns: int, task: str) -> CarriedState | None:
    """None when ``reset_state()`` really resets ``subject``; else what it carried.

    Judged by behaviour, not by the variables Keras tracks (counts kept in raw
    ``tf.Variable`` attributes are invisible to ``metric.variables``): a
    metric fed one batch, reset, then fed another must give what a fresh
    metric fed only the second gives.
    """
    if subject.is_function:
        return None  # a MeanMetricWrapper: Keras's own total and count
    first, second = _probe_batches(columns, task)
    try:
        fresh = subject.replay([second])
        metric = subject.fresh_metric()
        subject.replay_epochs([[first]], metric)
        metric.reset_state()
        leftovers = _leftovers(metric)
        after = subject.replay_epochs([[second]], metric)[0]
    except Exception:
        return None  # the subject's own error shows, better named, where f1check runs it for real
    if fresh == after or (math.isnan(fresh) and math.isnan(after)):
        return None  # state left over that does not change the result (a step counter, say) is harmless
    return CarriedState(fresh, after, leftovers)
