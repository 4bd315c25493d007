"""Drivers: real Keras loops over one partition, with the recorder compiled in.

The model's input is the *sample index*: a tap layer records which samples
each step fed, and the recorder metric, compiled beside the subject, records
the very ``(y_true, y_pred)`` the subject saw.  Together they give the
reference what the loop fed, without assuming how Keras batches.

- ``evaluate``: a model that outputs the given scores, through
  ``model.evaluate`` (a callback gets one epoch of ``fit`` instead, so that
  ``on_epoch_end`` runs);
- ``fit`` and ``fit-dropped``: a logistic-regression layer trained with SGD
  for ``FIT_EPOCHS`` epochs over features whose starting predictions are the
  given scores (the kernel starts as the identity on ``logit(scores)``), so
  predictions move while the epoch runs; every epoch is observed.

With ``replicas > 1`` (TensorFlow only) the model is built and compiled under
a ``tf.distribute.MirroredStrategy``: each replica runs its share of every
batch, and the tap and recorder gather what every replica saw (in replica
order) so that what was fed is still recorded exactly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import backend, feeds
from .errors import ConfigError, F1CheckError, SubjectError
from .options import Semantics
from .partitions import Partition
from .subjects import MetricSubject, to_float

RECORDER_NAME = "f1check_recorder"
FIT_EPOCHS = 2  # at least two: a metric that does not reset between epochs shows in the second
FIT_LEARNING_RATE = 0.5  # large enough that predictions move within an epoch (the drift term)


@dataclass
class Epoch:
    """What one epoch of a loop showed: the logged value and what was fed."""

    reported: float
    batches: list  # [(y_true, y_pred), ...] per fed batch, as the subject saw them
    fed_indices: Any  # sample indices in the order they were fed
    end_scores: Any  # the model's predictions for every sample when the subject reported
    logs: dict
    weights: Any = field(repr=False, default=None)  # the trained model's weights then (fit)

    @property
    def batch_sizes(self) -> list[int]:
        return [len(y) for y, _ in self.batches]


@dataclass
class Observation:
    """Every epoch of one run, and the model and inputs a callback replay needs."""

    epochs: list[Epoch]
    feed: str
    model: Any = field(repr=False, default=None)
    inputs: Any = field(repr=False, default=None)  # what the model takes for every sample


@lru_cache(maxsize=None)
def _parts():
    """Keras classes, defined on first use so that importing this module stays cheap."""
    keras = backend.keras()
    ops = keras.ops

    def gathered(values):
        """``values`` from every replica, in replica order, inside a replicated step; else as they are.

        Every replica then writes the same rows, and the recorder's variables
        keep the first replica's write (``only_first_replica``).
        """
        if keras.backend.backend() != "tensorflow":
            return values
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return values
        return context.all_gather(values, axis=0)

    def append(buffer, count, values, keep):
        """Write ``values`` into ``buffer`` from row ``count`` on, where ``keep`` (a scalar bool) holds.

        Branch-free (a ``where``, not a ``cond`` with side effects) so that it
        traces on every backend, JAX included; rows past the end are clamped
        and the write then discarded.  A scatter, not ``slice_update``: on
        TensorFlow the latter is an XLA op compiled anew for every batch size
        (~50 ms a step in these loops).
        """
        last = buffer.shape[0] - 1
        rows = ops.minimum(count.value + ops.arange(ops.shape(values)[0], dtype="int32"), last)
        written = ops.scatter_update(buffer.value, ops.expand_dims(rows, 1), ops.cast(values, buffer.dtype))
        buffer.assign(ops.where(keep, written, buffer.value))

    class SampleTap(keras.layers.Layer):
        """Passes sample indices through and records the ones the loop's steps feed.

        Recording is switched off while callbacks run (a predict callback calls
        the model too) and while validation runs; a step that would overflow
        the buffer is counted, not written, and reported.
        """

        def __init__(self, capacity: int, replicas: int = 1, **kwargs):
            super().__init__(**kwargs)
            self.capacity, self.replicas = capacity, replicas

        def build(self, input_shape):
            aggregation = "only_first_replica" if self.replicas > 1 else "none"

            def weight(name, shape=(), initializer="zeros"):
                return self.add_weight(shape=shape, initializer=initializer, dtype="int32", trainable=False, name=name,
                                       aggregation=aggregation)

            self.seen = weight("seen", (self.capacity,))
            self.count = weight("count")
            self.recording = weight("recording", initializer="ones")

        def compute_output_shape(self, input_shape):
            return input_shape

        def call(self, index):
            flat = gathered(ops.reshape(ops.cast(index, "int32"), (-1,)))
            size = ops.shape(flat)[0]
            recording = self.recording.value > 0
            # an overflowing step is counted, not written (recorded() reports it)
            append(self.seen, self.count, flat, ops.logical_and(recording, self.count.value + size <= self.capacity))
            self.count.assign(self.count.value + ops.where(recording, size, 0))
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

    class Table(keras.layers.Layer):
        """Looks up the rows of a fixed (non-trainable) table by sample index."""

        def __init__(self, rows: int, columns: int, **kwargs):
            super().__init__(**kwargs)
            self.rows, self.columns = rows, columns

        def build(self, input_shape):
            self.table = self.add_weight(shape=(self.rows, self.columns), initializer="zeros", trainable=False, name="table")

        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.columns)

        def call(self, index):
            return ops.take(self.table, ops.reshape(ops.cast(index, "int32"), (-1,)), axis=0)

    class Recorder(keras.metrics.Metric):
        """Records the (y_true, y_pred) of every batch the loop feeds the metrics."""

        def __init__(self, capacity: int, max_steps: int, columns: int, replicas: int = 1):
            super().__init__(name=RECORDER_NAME)
            self.capacity = capacity
            aggregation = "only_first_replica" if replicas > 1 else "sum"

            def variable(name, shape, dtype=None):
                return self.add_variable(shape=shape, initializer="zeros", dtype=dtype, name=name,
                                         aggregation=aggregation)

            self.y_true = variable("y_true", (capacity, columns))
            self.y_pred = variable("y_pred", (capacity, columns))
            self.sizes = variable("sizes", (max_steps,), "int32")
            self.count = variable("count", (), "int32")
            self.steps = variable("steps", (), "int32")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true, y_pred = gathered(y_true), gathered(y_pred)
            size = ops.shape(y_pred)[0]
            fits = ops.logical_and(self.count.value + size <= self.capacity, self.steps.value < self.sizes.shape[0])
            append(self.y_true, self.count, y_true, fits)  # an overflow is counted below and reported by recorded()
            append(self.y_pred, self.count, y_pred, fits)
            append(self.sizes, self.steps, ops.reshape(size, (1,)), fits)
            self.count.assign(self.count.value + size)
            # ``size // size``, not ``1``: a data dependency, so that when a step fails to get data (the
            # end of a dataset without steps) TensorFlow cannot run this increment ahead of the failure
            self.steps.assign(self.steps.value + size // ops.maximum(size, 1))

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

    FedBatches, LogCapture, Observer = loop_parts(keras, keras.utils.PyDataset, backend.to_numpy, backend.weights)
    return SampleTap, Table, Recorder, FedBatches, LogCapture, Observer


def loop_parts(keras, dataset_base, to_numpy, weights_of):
    """The loop-side classes both Keras generations share: ``(FedBatches, LogCapture, Observer)``.

    ``keras`` is Keras 3 or tf-keras, ``dataset_base`` its ``PyDataset`` or
    ``Sequence``; ``to_numpy`` and ``weights_of`` read tensors and a model's
    weights there.
    """

    class FedBatches(dataset_base):
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
            self.test: dict | None = None  # the last evaluation's logs (tf-keras's evaluate_generator returns none)

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(dict(logs or {}))

        def on_test_end(self, logs=None):
            self.test = dict(logs or {})

    class Observer(keras.callbacks.Callback):
        """Placed first: snapshots what each epoch fed before other callbacks run, then stops the tap."""

        def __init__(self, tap, recorder, inputs, trainable: bool, replicas: int = 1):
            super().__init__()
            self.tap, self.recorder, self.inputs, self.trainable = tap, recorder, inputs, trainable
            self.replicas = replicas
            self.epochs: list[tuple] = []  # (fed indices, recorded batches, end scores, weights) per epoch

        def on_epoch_begin(self, epoch, logs=None):
            self.tap.reset()
            self.tap.switch(True)

        def on_test_begin(self, logs=None):
            self.tap.switch(False)  # validation inside fit is not the epoch's feed

        def on_epoch_end(self, epoch, logs=None):
            self.tap.switch(False)
            end = weights = None
            if self.trainable and self.replicas > 1:
                # predict_on_batch under a MirroredStrategy returns every row once per replica (Keras 3.15)
                end = to_numpy(self.model.predict(self.inputs, batch_size=len(self.inputs), verbose=0))
            elif self.trainable:
                end = to_numpy(self.model.predict_on_batch(self.inputs))
            if self.trainable:
                weights = weights_of(self.model)
            self.epochs.append((self.tap.recorded(), self.recorder.recorded(), end, weights))

    return FedBatches, LogCapture, Observer


def logistic_head(keras, tap, table, columns: int, trainable: bool, task: str):
    """``(model, tap, table variable)``: sample index -> tap -> table row [-> identity-initialised Dense]."""
    index = keras.Input(shape=(1,), dtype="int32", name="sample_index")
    output = table(tap(index))
    if trainable:
        output = keras.layers.Dense(
            columns,
            activation="softmax" if task == "multiclass" else "sigmoid",
            kernel_initializer=keras.initializers.Identity(),
            bias_initializer="zeros",
            name="f1check_logistic",
        )(output)
    name = "f1check_trained" if trainable else "f1check_fixed_scores"
    return keras.Model(index, output, name=name), tap, table.table


def start_example(harness, scores):
    """Put a harness's model back to its start with ``scores`` (or their features) in its table; the inputs."""
    import numpy as np

    n = len(scores)
    table = np.zeros((harness.rows, harness.columns), np.float32)
    table[:n] = starting_features(scores, harness.semantics) if harness.trainable else scores
    harness.model.set_weights(harness.start)  # also puts the table's rows back, before the new ones
    harness.table.assign(table)
    harness.model.optimizer.iterations.assign(0)
    harness.tap.reset()
    harness.tap.switch(True)
    return np.arange(n, dtype=np.int32)[:, None]


def check_fed(epochs) -> None:
    """The tap (what the model saw) and the recorder (what the metrics saw) must agree."""
    for epoch in epochs:
        if len(epoch.fed_indices) != sum(len(b[0]) for b in epoch.batches):
            raise F1CheckError(
                f"internal: the model saw {len(epoch.fed_indices)} samples but the metrics "
                f"{sum(len(b[0]) for b in epoch.batches)}."
            )


def loss_for(semantics: Semantics) -> str:
    return "categorical_crossentropy" if semantics.task == "multiclass" else "binary_crossentropy"


def starting_features(scores, semantics: Semantics):
    """Features whose identity-initialised logistic layer predicts ``scores`` exactly at the start."""
    import numpy as np

    clipped = np.clip(scores.astype(np.float64), 1e-6, 1 - 1e-6)
    if semantics.task == "multiclass":
        return np.log(clipped).astype(np.float32)  # softmax(log s) = s / sum(s)
    return np.log(clipped / (1 - clipped)).astype(np.float32)  # sigmoid(logit s) = s


def index_model(rows: int, columns: int, trainable: bool, task: str, replicas: int = 1):
    """``(model, tap, table)``: sample index -> tap -> table row [-> identity-initialised Dense]."""
    SampleTap, Table, *_ = _parts()
    tap = SampleTap(rows, replicas, name="f1check_sample_tap")
    return logistic_head(backend.keras(), tap, Table(rows, columns, name="f1check_table"), columns, trainable, task)


def fixed_score_model(scores, capacity: int):
    """A model whose output for sample ``i`` is ``scores[i]``; returns (model, tap)."""
    model, tap, table = index_model(max(capacity, len(scores)), scores.shape[1], False, "binary")
    table.assign(scores)
    return model, tap


class Harness:
    """One subject's driver in one mode: a compiled model, kept between examples where it can be.

    Building and compiling a model costs a trace (~0.4 s); running the
    compiled loop again costs ~0.1 s.  So the harness keeps its model between
    examples when the subject's metrics reset cleanly (Keras resets them at
    the start of every ``evaluate`` and every epoch, which is then as good as
    a fresh instance), and rebuilds it for every example otherwise.  Trained
    weights and the optimiser are put back to their start before each
    example.  The model grows when an example has more samples or steps than
    it holds.
    """

    KEY = "keras"  # its models in ``subject.harnesses`` (tf-keras keeps its own)
    QUIET = (  # what Keras says on purpose in these loops
        "Your input ran out of data",  # feeds without steps: that is where the phantom step is
        "The model does not have any trainable weights",  # the fixed-prediction model of a callback in evaluate
    )

    def __init__(self, subject, semantics: Semantics, columns: int, mode: str, reuse: bool, replicas: int = 1):
        self.subject, self.semantics, self.columns, self.mode, self.reuse = subject, semantics, columns, mode, reuse
        self.replicas = replicas
        self.trainable = mode != "evaluate"
        self.model = self.tap = self.recorder = self.table = self.start = None
        self.rows = self.steps = 0

    # What a Keras generation provides (tf-keras overrides these: f1check/legacy.py).
    def keras(self):
        return backend.keras()

    def parts(self) -> tuple:
        """``(SampleTap, Table, Recorder, FedBatches, LogCapture, Observer)``."""
        return _parts()

    def new_model(self, rows: int, steps: int) -> tuple:
        """``(model, tap, table variable, recorder)`` for ``rows`` samples and ``steps`` steps."""
        model, tap, table = index_model(rows, self.columns, self.trainable, self.semantics.task, self.replicas)
        return model, tap, table, self.parts()[2](rows, steps, self.columns, self.replicas)

    def weights_of(self, model) -> list:
        return backend.weights(model)

    def capacity(self, n: int, steps: int) -> tuple[int, int]:
        """Rows and steps of the next model: a kept model doubles when it grows."""
        if not self.reuse:
            return n, steps
        grow = 2 if self.model is not None else 1
        return max(n, self.rows * grow), max(steps, self.steps * grow)

    def loop(self, feed: str):
        """The model's loop method this mode runs."""
        return self.model.fit if self._fits() else self.model.evaluate

    def evaluate_logs(self, loop, args, kwargs) -> dict:
        return loop(*args, return_dict=True, verbose=0, **kwargs)

    def failure(self, exc: Exception, feed: str) -> SubjectError:
        where = "model.fit" if self._fits() else "model.evaluate"
        return SubjectError(
            f"{self.subject.label}: raised {type(exc).__name__}: {_first_lines(exc)}\n(inside {where}, fed "
            f"{feeds.describe(feed)}, with the subject compiled in; fix the subject so that it runs in a "
            "compiled Keras loop)"
        )

    def _build(self, rows: int, steps: int) -> None:
        keras = self.keras()
        with backend.replica_scope(self.replicas):
            self.model, self.tap, self.table, self.recorder = self.new_model(rows, steps)
            subject = self.subject
            metrics = [subject.fresh()] if isinstance(subject, MetricSubject) else [m.fresh() for m in subject.metrics]
            optimizer = keras.optimizers.SGD(learning_rate=FIT_LEARNING_RATE if self.trainable else 0.0)
            self.model.compile(loss=loss_for(self.semantics), optimizer=optimizer, metrics=metrics + [self.recorder])
        self.start = self.weights_of(self.model)
        self.rows, self.steps = rows, steps

    def run(self, y, scores, partition: Partition, feed: str = "pydataset") -> Observation:
        n = len(y)
        if not self.reuse or self.model is None or n > self.rows or partition.steps > self.steps:
            self._build(*self.capacity(n, partition.steps))
        inputs = start_example(self, scores)
        args, kwargs = feeds.feed(feed, inputs, y, partition, training=self._fits(), dataset_class=self.parts()[3])
        try:
            with warnings.catch_warnings():
                for message in self.QUIET:
                    warnings.filterwarnings("ignore", message=message)
                epochs = self._loop(feed, args, kwargs, inputs, y, scores)
        except F1CheckError:
            raise
        except Exception as exc:
            raise self.failure(exc, feed) from None
        check_fed(epochs)
        return Observation(epochs=epochs, feed=feed, model=self.model, inputs=inputs)

    def _loop(self, feed: str, args, kwargs, inputs, y, scores) -> list[Epoch]:
        loop = self.loop(feed)
        if self._fits():
            return self._fit(loop, args, kwargs, inputs, y, scores)
        logs = self.evaluate_logs(loop, args, kwargs)
        return [Epoch(_logged(logs, self.subject), self.recorder.recorded(), self.tap.recorded(), scores, logs)]

    def _fits(self) -> bool:
        """Callbacks need ``fit`` for ``on_epoch_end`` to run, even over fixed predictions."""
        return self.trainable or not isinstance(self.subject, MetricSubject)

    def _fit(self, loop, args, kwargs, inputs, y, scores) -> list[Epoch]:
        LogCapture, Observer = self.parts()[4:]
        subject = self.subject
        observer, capture = Observer(self.tap, self.recorder, inputs, self.trainable, self.replicas), LogCapture()
        callbacks = [observer]
        if not isinstance(subject, MetricSubject):
            callbacks.append(subject.fresh(self.model, inputs, y))
        callbacks.append(capture)
        loop(*args, epochs=FIT_EPOCHS if self.trainable else 1, shuffle=False, verbose=0, callbacks=callbacks, **kwargs)
        epochs = []
        for logs, (fed, batches, end, weights) in zip(capture.epochs, observer.epochs):
            reported = _logged(logs, subject) if isinstance(subject, MetricSubject) else subject.read(logs, "in model.fit")
            epochs.append(Epoch(reported, batches, fed, scores if end is None else end, logs, weights))
        return epochs


def harness(subject, semantics: Semantics, columns: int, mode: str, replicas: int = 1, kind=Harness) -> Harness:
    """The subject's harness (``kind``) for ``mode``, data of ``columns`` columns and ``replicas``, made on first use."""
    from .replay import resets_cleanly

    key = (kind.KEY, mode, columns, replicas)
    if key not in subject.harnesses:
        metrics = [subject] if isinstance(subject, MetricSubject) else list(subject.metrics)
        reuse = all(resets_cleanly(m, columns, semantics.task) for m in metrics)
        subject.harnesses[key] = kind(subject, semantics, columns, mode, reuse, replicas)
    return subject.harnesses[key]


def observe(subject, y, scores, partition: Partition, semantics: Semantics, mode: str = "evaluate",
            feed: str = "pydataset", replicas: int = 1) -> Observation:
    """Run ``subject`` through the real loop of ``mode`` over ``partition``, fed as ``feed``."""
    if backend.legacy():  # tf-keras (TF_USE_LEGACY_KERAS=1): the same loops, built from tf.keras
        from . import legacy

        return legacy.observe(subject, y, scores, partition, semantics, mode, feed, replicas)
    if replicas > 1:
        check_replicable(partition, replicas)
    return harness(subject, semantics, y.shape[1], mode, replicas).run(y, scores, partition, feed)


def check_replicable(partition: Partition, replicas: int) -> None:
    """Under replicas, every batch must split evenly: Keras 3 raises inside ``evaluate``/``fit`` otherwise."""
    uneven = [s for s in partition.batch_sizes if s % replicas]
    if uneven:
        raise ConfigError(
            f"{partition.short()} has batches of {sorted(set(uneven))[:5]}, which do not split evenly over "
            f"replicas={replicas}: Keras 3 under tf.distribute.MirroredStrategy fails on such a batch (an AddN of "
            f"unequal per-replica shapes). Use batch sizes that are multiples of {replicas}, or replicas=1."
        )


def evaluate(subject, y, scores, partition: Partition, semantics: Semantics) -> Epoch:
    """The evaluate driver's one epoch (``model.evaluate``, or one epoch of ``fit`` for a callback)."""
    return observe(subject, y, scores, partition, semantics).epochs[0]


def _logged(logs: dict, subject) -> float:
    if subject.key not in logs:
        raise F1CheckError(f"internal: the loop logged {sorted(logs)} but not {subject.key!r}, the key of {subject.label}.")
    return to_float(logs[subject.key], subject.label, "the value the loop logged")


def _first_lines(exc: Exception, limit: int = 6) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    text = "\n".join(lines[:limit])
    return text + ("\n..." if len(lines) > limit else "")
