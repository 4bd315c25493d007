"""Drivers: a real Keras loop over one partition, with the recorder compiled in.

The model's input is the *sample index*: a tap layer records which samples
each step fed, and the recorder metric, compiled beside the subject, records
the very ``(y_true, y_pred)`` the subject saw.  Together they give the
reference what the loop fed, without assuming how Keras batches.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import backend
from .errors import F1CheckError, SubjectError
from .options import Semantics
from .partitions import Partition
from .subjects import CallbackSubject, MetricSubject, to_float

RECORDER_NAME = "f1check_recorder"


@dataclass
class Observation:
    """What one run of a loop showed: the logged value and what was fed."""

    reported: float
    batches: list  # [(y_true, y_pred), ...] per fed batch, as the subject saw them
    fed_indices: Any  # sample indices in the order they were fed
    end_scores: Any  # the model's predictions for every sample when the subject reported
    logs: dict
    model: Any = field(repr=False, default=None)
    inputs: Any = field(repr=False, default=None)  # what the model takes for every sample

    @property
    def batch_sizes(self) -> list[int]:
        return [len(y) for y, _ in self.batches]


@lru_cache(maxsize=None)
def _parts():
    """Keras classes, defined on first use so that importing this module stays cheap."""
    keras = backend.keras()
    ops = keras.ops

    def append(buffer, count, values):
        """Write ``values`` into ``buffer`` from row ``count`` on.

        A scatter, not ``slice_update``: on TensorFlow the latter is an XLA op
        compiled anew for every batch size (~50 ms a step in these loops).
        """
        rows = count.value + ops.arange(ops.shape(values)[0], dtype="int32")
        buffer.assign(ops.scatter_update(buffer.value, ops.expand_dims(rows, 1), ops.cast(values, buffer.dtype)))

    class SampleTap(keras.layers.Layer):
        """Passes sample indices through and records the ones the loop's steps feed.

        Recording is switched off while callbacks run (a predict callback calls
        the model too) and while validation runs; a step that would overflow
        the buffer is counted, not written, and reported.
        """

        def __init__(self, capacity: int, **kwargs):
            super().__init__(**kwargs)
            self.capacity = capacity

        def build(self, input_shape):
            def weight(name, shape=(), initializer="zeros"):
                return self.add_weight(shape=shape, initializer=initializer, dtype="int32", trainable=False, name=name)

            self.seen = weight("seen", (self.capacity,))
            self.count = weight("count")
            self.recording = weight("recording", initializer="ones")

        def compute_output_shape(self, input_shape):
            return input_shape

        def call(self, index):
            flat = ops.reshape(ops.cast(index, "int32"), (-1,))
            size = ops.shape(flat)[0]

            def write():
                append(self.seen, self.count, flat)
                self.count.assign(self.count.value + size)
                return 0

            def overflow():
                self.count.assign(self.count.value + size)
                return 0

            def record():
                return ops.cond(self.count.value + size <= self.capacity, write, overflow)

            ops.cond(self.recording.value > 0, record, lambda: 0)
            return index

        def switch(self, on: bool):
            self.recording.assign(1 if on else 0)

        def reset(self):
            self.count.assign(0)

        def recorded(self):
            count = int(backend.to_numpy(self.count))
            if count > self.capacity:
                raise F1CheckError(
                    f"the loop fed {count} samples in one epoch, more than the partition holds ({self.capacity}): "
                    "it repeated data the partition feeds once."
                )
            return backend.to_numpy(self.seen)[:count]

    class ScoreTable(keras.layers.Layer):
        """Outputs the given scores of the indexed samples: a fixed-prediction model."""

        def __init__(self, scores, **kwargs):
            super().__init__(**kwargs)
            self.scores = scores

        def build(self, input_shape):
            self.table = self.add_weight(
                shape=self.scores.shape,
                initializer=keras.initializers.Constant(self.scores),
                trainable=False,
                name="table",
            )

        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.scores.shape[1])

        def call(self, index):
            return ops.take(self.table, ops.reshape(ops.cast(index, "int32"), (-1,)), axis=0)

    class Recorder(keras.metrics.Metric):
        """Records the (y_true, y_pred) of every batch the loop feeds the metrics."""

        def __init__(self, capacity: int, max_steps: int, columns: int):
            super().__init__(name=RECORDER_NAME)
            self.capacity = capacity
            self.y_true = self.add_variable(shape=(capacity, columns), initializer="zeros", name="y_true")
            self.y_pred = self.add_variable(shape=(capacity, columns), initializer="zeros", name="y_pred")
            self.sizes = self.add_variable(shape=(max_steps,), initializer="zeros", dtype="int32", name="sizes")
            self.count = self.add_variable(shape=(), initializer="zeros", dtype="int32", name="count")
            self.steps = self.add_variable(shape=(), initializer="zeros", dtype="int32", name="steps")

        def update_state(self, y_true, y_pred, sample_weight=None):
            size = ops.shape(y_pred)[0]

            def write():
                append(self.y_true, self.count, y_true)
                append(self.y_pred, self.count, y_pred)
                append(self.sizes, self.steps, ops.reshape(size, (1,)))
                return 0

            fits = ops.logical_and(self.count.value + size <= self.capacity, self.steps.value < self.sizes.shape[0])
            ops.cond(fits, write, lambda: 0)  # an overflow is counted below and reported by recorded()
            self.count.assign(self.count.value + size)
            self.steps.assign(self.steps.value + 1)

        def result(self):
            return ops.cast(self.count, "float32")

        def recorded(self) -> list:
            """``[(y_true, y_pred), ...]`` per fed batch."""
            import numpy as np

            steps = int(backend.to_numpy(self.steps))
            count = int(backend.to_numpy(self.count))
            if count > self.capacity or steps > self.sizes.shape[0]:
                raise F1CheckError(
                    f"the loop fed {count} samples in {steps} steps, more than the partition holds "
                    f"({self.capacity} samples): it repeated data the partition feeds once."
                )
            sizes = backend.to_numpy(self.sizes)[:steps]
            y_true = backend.to_numpy(self.y_true)[:count]
            y_pred = backend.to_numpy(self.y_pred)[:count]
            cuts = np.cumsum(np.concatenate([[0], sizes]))
            return [(y_true[a:b], y_pred[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]

    class FedBatches(keras.utils.PyDataset):
        """Exactly the partition's batches, in the partition's order."""

        def __init__(self, inputs, labels, partition: Partition):
            super().__init__()
            self.inputs, self.labels = inputs, labels
            self.index_batches = partition.batches()

        def __len__(self):
            return len(self.index_batches)

        def __getitem__(self, k):
            index = self.index_batches[k]
            return self.inputs[index], self.labels[index]

    class LogCapture(keras.callbacks.Callback):
        """Copies the logs after every other callback has had its turn (placed last)."""

        def __init__(self):
            super().__init__()
            self.epochs: list[dict] = []

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(dict(logs or {}))

    class Observer(keras.callbacks.Callback):
        """Placed first: snapshots what each epoch fed before other callbacks run, then stops the tap."""

        def __init__(self, tap, recorder):
            super().__init__()
            self.tap, self.recorder = tap, recorder
            self.epochs: list[tuple] = []  # (fed indices, recorded batches) per epoch

        def on_epoch_begin(self, epoch, logs=None):
            self.tap.reset()
            self.tap.switch(True)

        def on_test_begin(self, logs=None):
            self.tap.switch(False)  # validation inside fit is not the epoch's feed

        def on_epoch_end(self, epoch, logs=None):
            self.tap.switch(False)
            self.epochs.append((self.tap.recorded(), self.recorder.recorded()))

    return SampleTap, ScoreTable, Recorder, FedBatches, LogCapture, Observer


def loss_for(semantics: Semantics) -> str:
    return "categorical_crossentropy" if semantics.task == "multiclass" else "binary_crossentropy"


def fixed_score_model(scores, capacity: int):
    """A model whose output for sample ``i`` is ``scores[i]``; returns (model, tap)."""
    keras = backend.keras()
    SampleTap, ScoreTable, *_ = _parts()
    index = keras.Input(shape=(1,), dtype="int32", name="sample_index")
    tap = SampleTap(capacity, name="f1check_sample_tap")
    model = keras.Model(index, ScoreTable(scores, name="f1check_scores")(tap(index)), name="f1check_fixed_scores")
    return model, tap


class EvaluateHarness:
    """The evaluate driver for one subject: a fixed-prediction model, compiled with the subject.

    Building and compiling a model costs a trace (~0.4 s); running the
    compiled loop again costs ~0.1 s.  So the harness keeps its model between
    examples when the subject's metrics reset cleanly (Keras resets them at
    the start of every ``evaluate``/``fit``, which is then as good as a fresh
    instance), and rebuilds it for every example otherwise.  It grows when an
    example has more samples or steps than it holds.
    """

    def __init__(self, subject, semantics: Semantics, columns: int, reuse: bool):
        self.subject, self.semantics, self.columns, self.reuse = subject, semantics, columns, reuse
        self.model = self.tap = self.recorder = self.table = None
        self.rows = self.steps = 0

    def _build(self, rows: int, steps: int) -> None:
        import numpy as np

        Recorder = _parts()[2]
        self.model, self.tap = fixed_score_model(np.zeros((rows, self.columns), np.float32), rows)
        self.table = self.model.get_layer("f1check_scores").table
        self.recorder = Recorder(rows, steps, self.columns)
        subject, loss = self.subject, loss_for(self.semantics)
        if isinstance(subject, MetricSubject):
            self.model.compile(loss=loss, metrics=[subject.fresh(), self.recorder])
        else:
            self.model.compile(loss=loss, optimizer="sgd", metrics=[m.fresh() for m in subject.metrics] + [self.recorder])
        self.rows, self.steps = rows, steps

    def run(self, y, scores, partition: Partition) -> Observation:
        """The real ``model.evaluate`` (one epoch of ``fit`` for a callback) over ``scores``."""
        import numpy as np

        _, _, _, FedBatches, LogCapture, Observer = _parts()
        n = len(y)
        if not self.reuse or self.model is None or n > self.rows or partition.steps > self.steps:
            grow = 2 if self.reuse and self.model is not None else 1
            self._build(max(n, self.rows * grow if self.reuse else 0), max(partition.steps, self.steps * grow))
        padded = np.zeros((self.rows, self.columns), np.float32)
        padded[:n] = scores
        self.table.assign(padded)
        self.tap.reset()
        self.tap.switch(True)
        model, subject, tap, recorder = self.model, self.subject, self.tap, self.recorder
        inputs = np.arange(n, dtype=np.int32)[:, None]
        data = FedBatches(inputs, y, partition)
        try:
            if isinstance(subject, MetricSubject):
                logs = model.evaluate(data, steps=partition.steps, return_dict=True, verbose=0)
                reported = _logged(logs, subject.key, subject.label, "model.evaluate")
                fed, batches = tap.recorded(), recorder.recorded()
            else:
                callback = subject.fresh(model, inputs, y)
                observer, capture = Observer(tap, recorder), LogCapture()
                with warnings.catch_warnings():
                    # The fixed-prediction model has nothing to train, on purpose.
                    warnings.filterwarnings("ignore", message="The model does not have any trainable weights")
                    model.fit(data, steps_per_epoch=partition.steps, epochs=1, shuffle=False, verbose=0,
                              callbacks=[observer, callback, capture])
                logs = capture.epochs[-1]
                reported = subject.read(logs, "in model.fit")
                fed, batches = observer.epochs[-1]
        except F1CheckError:
            raise
        except Exception as exc:
            where = "model.evaluate" if isinstance(subject, MetricSubject) else "model.fit"
            raise SubjectError(
                f"{subject.label}: raised {type(exc).__name__}: {_first_lines(exc)}\n(inside {where}, with the "
                "subject compiled in; fix the subject so that it runs in a compiled Keras loop)"
            ) from None
        if len(fed) != sum(len(b[0]) for b in batches):
            raise F1CheckError(f"internal: the model saw {len(fed)} samples but the metrics {sum(len(b[0]) for b in batches)}.")
        return Observation(reported=reported, batches=batches, fed_indices=fed, end_scores=scores, logs=logs,
                           model=model, inputs=inputs)


def harness(subject, semantics: Semantics, columns: int) -> EvaluateHarness:
    """The subject's evaluate harness for data of ``columns`` columns, made on first use."""
    from .replay import resets_cleanly

    key = ("evaluate", columns)
    if key not in subject.harnesses:
        metrics = [subject] if isinstance(subject, MetricSubject) else list(subject.metrics)
        reuse = all(resets_cleanly(m, columns, semantics.task) for m in metrics)
        subject.harnesses[key] = EvaluateHarness(subject, semantics, columns, reuse)
    return subject.harnesses[key]


def evaluate(subject, y, scores, partition: Partition, semantics: Semantics) -> Observation:
    """The real ``model.evaluate`` (one epoch of ``fit`` for a callback) over fixed predictions."""
    return harness(subject, semantics, y.shape[1]).run(y, scores, partition)


def _logged(logs: dict, key: str, label: str, where: str) -> float:
    if key not in logs:
        raise F1CheckError(f"internal: {where} logged {sorted(logs)} but not {key!r}, the key of {label}.")
    return to_float(logs[key], label, f"the value {where} logged")


def _first_lines(exc: Exception, limit: int = 6) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    text = "\n".join(lines[:limit])
    return text + ("\n..." if len(lines) > limit else "")
