"""The fast path: replay many examples through the subject in one compiled call.

The search judges thousands of partitions; running the Keras loop for each
would cost a model build and a trace apiece.  Replay feeds the subject's own
``update_state``/``result`` the batches of many examples inside one
``tf.function`` (traced once, whatever the batch sizes), resetting the
metric between examples as Keras does between epochs.  Replay is never the
verdict on its own: the search confirms its counterexample, its worst example
and a regular sample through the real loop, and a disagreement is a ``loop``
error.
"""

from __future__ import annotations

import os

import numpy as np

from . import backend
from .errors import F1CheckError, SubjectError
from .subjects import MetricSubject, to_float


# Independent replay lanes: one per core, at least 2 (the loops overlap even on 2 cores).
LANES = min(4, max(2, os.cpu_count() or 2))


def _probe_batches(columns: int, task: str):
    """Two different small batches, for checking that ``reset_state`` really resets."""
    if task == "multiclass":
        first = np.eye(columns, dtype=np.float32)[[0, 0]]
        second = np.eye(columns, dtype=np.float32)[[1, 1]]
    else:
        first = np.ones((2, columns), np.float32)
        second = np.zeros((2, columns), np.float32)
    return (first, first), (second, second)


def _state(metric) -> list[np.ndarray]:
    return backend.values(metric.variables)


def resets_cleanly(subject: MetricSubject, columns: int, task: str) -> bool:
    """Whether two metrics fed different batches hold the same state after ``reset_state``."""
    states = []
    for y, p in _probe_batches(columns, task):
        try:
            metric = subject.fresh_metric()
            metric.update_state(y, p)
            metric.reset_state()
        except Exception:  # it will raise again where the error can be reported properly
            return False
        states.append(_state(metric))
    return len(states[0]) == len(states[1]) and all(
        a.shape == b.shape and np.array_equal(a, b, equal_nan=True) for a, b in zip(*states)
    )


class CompiledReplay:
    """Metric instances and one traced function that replays a chunk of examples.

    The chunk is dealt round-robin to ``lanes`` independent metric instances
    whose loops have no data dependence, so TensorFlow runs them on separate
    cores (1.6x on 2 cores, measured in benchmarks/RESULTS.md).
    """

    def __init__(self, subject: MetricSubject, columns: int, lanes: int = LANES):
        self.subject = subject
        self.columns = columns
        self.metrics = [subject.fresh_metric() for _ in range(lanes)]
        self.traces = 0
        self._replay = None

    def _function(self, autograph: bool):
        """The replay as a ``tf.function``; loops written out so autograph is optional.

        Without autograph, tracing is about 0.3 s faster; a subject whose code
        needs autograph (Python ``if`` on tensors) is traced with it, as
        Keras's own loops trace it.
        """
        import tensorflow as tf

        spec = tf.TensorSpec([None, self.columns], tf.float32)
        index = tf.TensorSpec([None], tf.int32)
        lanes = len(self.metrics)

        def replay(y_true, y_pred, cuts, starts):
            self.traces += 1
            count = tf.shape(starts)[0] - 1
            outputs = []
            for lane, metric in enumerate(self.metrics):

                def example(e, results, slot, metric=metric):
                    metric.reset_state()  # automatic control dependencies keep reset, updates, result in order

                    def batch(k):
                        metric.update_state(y_true[cuts[k] : cuts[k + 1]], y_pred[cuts[k] : cuts[k + 1]])
                        return (k + 1,)

                    tf.while_loop(lambda k: k < starts[e + 1], batch, (starts[e],))
                    value = tf.reshape(tf.cast(metric.result(), tf.float32), [-1])[0]
                    return e + lanes, results.write(slot, value), slot + 1

                empty = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
                _, results, _ = tf.while_loop(
                    lambda e, results, slot: e < count, example, (tf.constant(lane), empty, tf.constant(0))
                )
                outputs.append(results.stack())
            return outputs

        return tf.function(replay, input_signature=[spec, spec, index, index], autograph=autograph, reduce_retracing=True)

    def trace(self) -> None:
        """Trace once now (without autograph if the subject allows it)."""
        try:
            function = self._function(autograph=False)
            function.get_concrete_function()
        except Exception:
            function = self._function(autograph=True)
            function.get_concrete_function()
        self._replay = function

    @classmethod
    def build(cls, subject, sample, task: str) -> CompiledReplay | None:
        """A compiled replay for ``subject``, or None where only the slow path is faithful.

        ``sample`` is a small ``(y_true, y_pred)`` batch used to build the
        metric (some create their variables on the first update) and to make
        sure its result is one number.
        """
        if not isinstance(subject, MetricSubject) or backend.keras().backend.backend() != "tensorflow":
            return None
        y, p = sample
        probe = subject.fresh_metric()
        try:
            probe.update_state(y, p)
            to_float(probe.result(), subject.label, "result()")
        except F1CheckError:
            raise
        except Exception as exc:
            raise SubjectError(f"{subject.label}: update_state/result raised {type(exc).__name__}: {exc}") from None
        if not resets_cleanly(subject, y.shape[1], task):
            return None  # a fresh metric per example (the slow path) is then the faithful replay
        replay = cls(subject, y.shape[1])
        for metric in replay.metrics:  # build variables eagerly, outside the traced loop
            metric.update_state(y, p)
            metric.reset_state()
        try:
            replay.trace()
        except Exception:
            return None  # not traceable apart from the Keras loop: replay eagerly instead
        return replay

    def __call__(self, fed: list[tuple[np.ndarray, np.ndarray, tuple[int, ...]]]) -> np.ndarray:
        """Replay ``[(y_fed, p_fed, batch_sizes), ...]``: the result after each example's batches."""
        y = np.concatenate([f[0] for f in fed])
        p = np.concatenate([f[1] for f in fed])
        sizes = [s for f in fed for s in f[2]]
        cuts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
        starts = np.concatenate([[0], np.cumsum([len(f[2]) for f in fed])]).astype(np.int32)
        try:
            lanes = [np.asarray(v, dtype=np.float64) for v in self._replay(y, p, cuts, starts)]
        except F1CheckError:
            raise
        except Exception as exc:
            raise SubjectError(
                f"{self.subject.label}: raised {type(exc).__name__} when replayed in a compiled function: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
            ) from None
        values = np.empty(len(fed), dtype=np.float64)
        for lane, lane_values in enumerate(lanes):
            values[lane :: len(lanes)] = lane_values
        return values


def slow_replay(subject: MetricSubject, fed) -> np.ndarray:
    """A fresh metric per example, updated eagerly batch by batch (any backend)."""
    values = []
    for y, p, sizes in fed:
        cuts = np.concatenate([[0], np.cumsum(sizes)])
        values.append(subject.replay([(y[a:b], p[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]))
    return np.asarray(values, dtype=np.float64)
