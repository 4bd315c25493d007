"""The fast path: replay many examples through the subject's metrics in one compiled call.

The search judges thousands of partitions; running the Keras loop for each
would cost a loop call apiece.  Replay feeds the metrics' own
``update_state``/``result`` the batches of many examples inside one
``tf.function`` (traced once, whatever the batch sizes), resetting them
between examples as Keras does between epochs.  A callback's companion
metrics replay together, one value each per example.  Replay is never the
verdict on its own: the search confirms its counterexample, its worst example
and a regular sample through the real loop, and a disagreement is a ``loop``
error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..core import backend
from ..core.errors import F1CheckError, SubjectError
from ..core.weights import Batch
from ..subjects import MetricSubject

# Independent replay lanes: one per core, at least 2 (the loops overlap even on 2 cores).
LANES = min(4, max(2, os.cpu_count() or 2))
# Traced replays of this process, by the identity of the objects their metrics are made from and the columns:
# a target checked in several modes (pytest items) is traced once.  The objects are kept, so ids stay theirs.
_TRACED: dict[tuple, tuple[tuple, CompiledReplay]] = {}


class CompiledReplay:
    """Metric instances and one traced function that replays a chunk of examples.

    The chunk is dealt round-robin to ``lanes`` independent sets of metric
    instances whose loops have no data dependence, so TensorFlow runs them on
    separate cores (1.6x on 2 cores, measured in benchmarks/RESULTS.md).
    """

    def __init__(self, subjects: Sequence[MetricSubject], columns: int, lanes: int = LANES):
        self.subjects = list(subjects)
        self.columns = columns
        self.lanes = [[s.fresh_metric() for s in self.subjects] for _ in range(lanes)]
        self.traces = 0
        self._replays: dict[tuple, object] = {}  # one traced function per signature of the labels (their form)
        self._autograph = False

    def _function(self, autograph: bool, labels: tuple | None = None):
        """The replay as a ``tf.function``; loops written out so autograph is optional.

        Without autograph, tracing is about 0.3 s faster; a subject whose code
        needs autograph (Python ``if`` on tensors) is traced with it, as
        Keras's own loops trace it.
        """
        import tensorflow as tf

        spec = tf.TensorSpec([None, self.columns], tf.float32)
        # the labels as the loop feeds them: (n,), (n, 1) or (n, C), float32, int64 or bool (None: held, float32)
        label_spec = spec if labels is None else tf.TensorSpec([None, *labels[0]], tf.as_dtype(labels[1]))
        index = tf.TensorSpec([None], tf.int32)
        lanes = len(self.lanes)
        weighted = [s.weighted for s in self.subjects]

        def replay(y_true, y_pred, weights, cuts, starts):
            self.traces += 1
            count = tf.shape(starts)[0] - 1
            outputs = []
            for lane, metrics in enumerate(self.lanes):

                def example(e, results, slot, metrics=metrics):
                    for metric in metrics:
                        metric.reset_state()  # automatic control dependencies keep reset, updates, result in order

                    def batch(k):
                        rows = slice(cuts[k], cuts[k + 1])
                        for metric, weighs in zip(metrics, weighted):
                            given = {"sample_weight": weights[rows]} if weighs else {}
                            metric.update_state(y_true[rows], y_pred[rows], **given)
                        return (k + 1,)

                    tf.while_loop(lambda k: k < starts[e + 1], batch, (starts[e],))
                    value = tf.stack([tf.reshape(tf.cast(m.result(), tf.float32), [-1])[0] for m in metrics])
                    return e + lanes, results.write(slot, value), slot + 1

                empty = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[len(metrics)])
                _, results, _ = tf.while_loop(
                    lambda e, results, slot: e < count, example, (tf.constant(lane), empty, tf.constant(0))
                )
                outputs.append(results.stack())
            return outputs

        weight = tf.TensorSpec([None], tf.float32)
        return tf.function(replay, input_signature=[label_spec, spec, weight, index, index], autograph=autograph,
                           reduce_retracing=True)

    def trace(self) -> None:
        """Trace once now for labels in their held form (without autograph if the subject allows it)."""
        try:
            function = self._function(autograph=False)
            function.get_concrete_function()
        except Exception:
            function = self._function(autograph=True)
            function.get_concrete_function()
            self._autograph = True
        self._replays[None] = function

    def _for(self, labels: tuple | None):
        """The traced replay for labels of signature ``labels`` (traced on first use, as the held form's was)."""
        if labels not in self._replays:
            function = self._function(self._autograph, labels)
            function.get_concrete_function()
            self._replays[labels] = function
        return self._replays[labels]

    def signature(self, y) -> tuple | None:
        """The labels' signature: None for labels as held (``(n, columns)`` float32), else their shape past the
        samples and their dtype."""
        import numpy as np

        if y.ndim == 2 and y.shape[1] == self.columns and y.dtype == np.float32:
            return None
        return tuple(y.shape[1:]), str(y.dtype)

    @classmethod
    def shared(cls, subjects: Sequence[MetricSubject], sample) -> CompiledReplay | None:
        """:meth:`build`, once per process for the same metrics (by the identity of what they are made from)."""
        origins = tuple(s.origin for s in subjects)
        if any(o is None for o in origins):
            return cls.build(subjects, sample)
        key = (tuple(id(o) for o in origins), tuple((s.weighted, s.reloads) for s in subjects), sample[0].shape[1],
               backend.backend_name())
        if key not in _TRACED:
            _TRACED[key] = (origins, cls.build(subjects, sample))
        return _TRACED[key][1]

    @classmethod
    def build(cls, subjects: Sequence[MetricSubject], sample) -> CompiledReplay | None:
        """A compiled replay of ``subjects`` (clean metrics), or None where only the eager replay is faithful.

        ``sample`` is a small ``(y_true, y_pred)`` batch used to build the
        metrics (some create their variables on the first update).
        """
        import numpy as np

        if backend.legacy() or backend.backend_name() != "tensorflow":
            return None
        y, p = sample
        try:
            replay = cls(subjects, y.shape[1])
            for metrics in replay.lanes:  # build variables eagerly, outside the traced loop
                for metric, subject in zip(metrics, replay.subjects):
                    given = {"sample_weight": np.ones(len(y), np.float32)} if subject.weighted else {}
                    metric.update_state(y, p, **given)
                    metric.reset_state()
            replay.trace()
        except Exception:
            # Not traceable apart from the Keras loop, or not runnable at all: replay eagerly instead, where an
            # error is confirmed through the real loop before it becomes the check's (search.Search.judge).
            return None
        return replay

    def __call__(self, fed: list[tuple]):
        """Replay ``[(y_fed, p_fed, batch_sizes, weights or None), ...]``: an (examples, metrics) array of results.

        The labels of every example come as the loop feeds them, all in one form and dtype (the caller groups)."""
        import numpy as np

        y = np.concatenate([f[0] for f in fed])
        p = np.concatenate([f[1] for f in fed])
        w = np.concatenate([np.ones(len(f[0]), np.float32) if f[3] is None else f[3] for f in fed]).astype(np.float32)
        sizes = [s for f in fed for s in f[2]]
        cuts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
        starts = np.concatenate([[0], np.cumsum([len(f[2]) for f in fed])]).astype(np.int32)
        try:
            with backend.quiet():
                replay = self._for(self.signature(y))
                lanes = [backend.to_numpy(v).astype(np.float64) for v in replay(y, p, w, cuts, starts)]
        except F1CheckError:
            raise
        except Exception as exc:
            label = " / ".join(s.label for s in self.subjects)
            raise SubjectError(
                f"{label}: raised {type(exc).__name__} when replayed in a compiled function: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
            ) from None
        values = np.empty((len(fed), len(self.subjects)), dtype=np.float64)
        for lane, lane_values in enumerate(lanes):
            values[lane :: len(lanes)] = lane_values.reshape(-1, len(self.subjects))
        return values


def eager_replay(subjects: Sequence[MetricSubject], fed, epochs: int = 1):
    """Fresh metrics per example, updated eagerly batch by batch (any backend): an (examples, metrics) array.

    With ``epochs > 1`` each example's batches are fed that many times to the
    same metric with ``reset_state()`` between, as a multi-epoch loop feeds
    them, and the last epoch's value is kept: where state carried across
    epochs shows.
    """
    import numpy as np

    values = np.empty((len(fed), len(subjects)), dtype=np.float64)
    for e, (y, p, sizes, w) in enumerate(fed):
        cuts = np.concatenate([[0], np.cumsum(sizes)])
        batches = [Batch(y[a:b], p[a:b], None if w is None else w[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
        for m, subject in enumerate(subjects):
            with backend.quiet():
                values[e, m] = subject.replay_epochs([batches] * epochs)[-1]
    return values
