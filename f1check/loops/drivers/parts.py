"""The pieces f1check adds to a real Keras loop, written once for Keras 3 and for tf-keras.

The model's input is the *sample index*.  A tap layer records which samples
each step fed; a non-trainable table maps an index to its row (the score, or
the features a logistic layer starts from); the recorder, a metric compiled
beside the subject, records the very ``(y_true, y_pred)`` the subject saw.
Two callbacks snapshot what every epoch (and every validation pass) fed and
what the logs held.  Each piece is built over the Keras module it is given
and an :class:`Ops` adapter: ``keras.ops`` for Keras 3 (every backend, JAX
included: the writes are branch-free), plain TensorFlow for tf-keras.

With ``replicas > 1`` (Keras 3 on TensorFlow) every replica runs its share of
a batch; the tap and recorder gather all shares (in replica order) into
variables that keep the first replica's write, so what was fed is still
recorded exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ...core import backend
from ...core.errors import F1CheckError
from ...core.partitions import Partition
from ...core.weights import Batch
from .observing import capture_class, observer_class, tap_on_class

RECORDER_NAME = "f1check_recorder"


class Ops:
    """The few tensor operations the pieces use, on Keras 3's ``keras.ops``."""

    def __init__(self, keras):
        self.keras, self.ops = keras, keras.ops

    def read(self, variable):
        return variable.value

    def scatter_rows(self, buffer, rows, values):
        return self.ops.scatter_update(buffer, self.ops.expand_dims(rows, 1), self.ops.cast(values, buffer.dtype))

    def __getattr__(self, name):  # where, minimum, maximum, arange, cast, reshape, shape, take, logical_and
        return getattr(self.ops, name)

    def layer_weight(self, layer, name, shape, dtype, replicas):
        # one replica: Keras's default aggregation (Keras before 3.7 knows no "none", and it changes nothing here)
        spread = {"aggregation": "only_first_replica"} if replicas > 1 else {}
        return layer.add_weight(shape=shape, initializer="zeros", dtype=dtype, trainable=False, name=name, **spread)

    def metric_variable(self, metric, name, shape, dtype, replicas):
        aggregation = "only_first_replica" if replicas > 1 else "sum"
        return metric.add_variable(shape=shape, initializer="zeros", dtype=dtype, name=name, aggregation=aggregation)

    def gathered(self, values):
        """``values`` from every replica, in replica order, inside a replicated step; else as they are."""
        if self.keras.backend.backend() != "tensorflow":
            return values
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return values
        return context.all_gather(values, axis=0)


class TensorFlowOps(Ops):
    """The same operations in plain TensorFlow, for tf-keras (which has no ``keras.ops``)."""

    def __init__(self, keras):
        import tensorflow as tf

        self.keras, self.tf = keras, tf

    def read(self, variable):
        return variable

    def scatter_rows(self, buffer, rows, values):
        return self.tf.tensor_scatter_nd_update(buffer, self.tf.expand_dims(rows, 1), self.tf.cast(values, buffer.dtype))

    def __getattr__(self, name):
        tf = self.__dict__["tf"]
        renamed = {"arange": tf.range, "take": lambda t, i, axis=0: tf.gather(t, i, axis=axis),
                   "shape": tf.shape, "logical_and": tf.logical_and}
        return renamed.get(name) or getattr(tf, name)

    def layer_weight(self, layer, name, shape, dtype, replicas):
        return layer.add_weight(name=name, shape=shape, initializer="zeros", dtype=dtype, trainable=False)

    def metric_variable(self, metric, name, shape, dtype, replicas):
        return metric.add_weight(name=name, shape=shape, initializer="zeros", dtype=dtype)

    def gathered(self, values):
        return values


@dataclass(frozen=True)
class Parts:
    """The classes f1check adds to a loop, built for one Keras."""

    keras: Any
    tap: type  # layer: records the sample indices each step fed
    table: type  # layer: index -> row of a fixed table
    recorder: type  # metric: records (y_true, y_pred) of every batch
    dataset: type  # PyDataset (Sequence in tf-keras) of exactly a partition's batches
    observer: type  # callback, first: snapshots each epoch's feed and logs
    capture: type  # callback, last: copies the logs every other callback left
    tap_on: type  # callback, last: switches the tap on before each step

    @property
    def custom_objects(self) -> dict:
        """f1check's own classes in a saved model, by the names ``load_model`` looks them up under."""
        return {cls.__name__: cls for cls in (self.tap, self.table, self.recorder)}


@lru_cache(maxsize=None)
def parts(legacy: bool) -> Parts:
    """The pieces for Keras 3 (``legacy=False``) or tf-keras, defined on first use."""
    keras = backend.legacy_keras() if legacy else backend.keras()
    ops = TensorFlowOps(keras) if legacy else Ops(keras)
    dataset_base = keras.utils.Sequence if legacy else keras.utils.PyDataset
    return Parts(
        keras=keras,
        tap=_tap_class(keras, ops),
        table=_table_class(keras, ops),
        recorder=_recorder_class(keras, ops),
        dataset=_dataset_class(dataset_base),
        observer=observer_class(keras),
        capture=capture_class(keras),
        tap_on=tap_on_class(keras),
    )


def _append(ops, buffer, count, values, keep) -> None:
    """Write ``values`` into ``buffer`` from row ``count`` on, where ``keep`` (a scalar bool) holds.

    Branch-free (a ``where``, not a ``cond`` with side effects) so that it
    traces on every backend; rows past the end are clamped and the write
    then discarded.  A scatter, not ``slice_update``: on TensorFlow the latter
    is an XLA op compiled anew for every batch size (~50 ms a step).
    """
    last = buffer.shape[0] - 1
    rows = ops.minimum(ops.read(count) + ops.arange(ops.shape(values)[0], dtype="int32"), last)
    written = ops.scatter_rows(ops.read(buffer), rows, values)
    buffer.assign(ops.where(keep, written, ops.read(buffer)))


def _batches(cuts, y_true, y_pred, weight) -> list:
    """The recorded rows cut into the fed batches (``weight`` None: unweighted)."""
    ends = list(zip(cuts[:-1], cuts[1:]))
    if weight is None:
        return [Batch(y_true[a:b], y_pred[a:b]) for a, b in ends]
    return [Batch(y_true[a:b], y_pred[a:b], weight[a:b]) for a, b in ends]


def _as_columns(ops, y_true, size, columns: int):
    """Labels in any form (``(b,)``, ``(b, 1)`` class indices, int64, bool) as ``(b, columns)`` float32: a single
    column is repeated across the row, and the recorder's ``decode`` reads it back in the held form."""
    return ops.reshape(ops.cast(y_true, "float32"), (size, -1)) * ops.ones((1, columns), "float32")


def _overflow(count: int, steps: int, capacity: int) -> F1CheckError:
    return F1CheckError(
        f"the loop fed {count} samples in {steps} steps, more than the partition holds ({capacity} samples): "
        "it repeated data the partition feeds once."
    )


def _tap_class(keras, ops):
    class F1CheckSampleTap(keras.layers.Layer):
        """Passes sample indices through and records the ones the loop's steps feed.

        Recording is switched off while callbacks predict; a step that would
        overflow the buffer is counted, not written, and reported.
        """

        def __init__(self, capacity: int, replicas: int = 1, **kwargs):
            super().__init__(**kwargs)
            self.capacity, self.replicas = capacity, replicas

        def build(self, input_shape):
            self.seen = ops.layer_weight(self, "seen", (self.capacity,), "int32", self.replicas)
            self.count = ops.layer_weight(self, "count", (), "int32", self.replicas)
            self.recording = ops.layer_weight(self, "recording", (), "int32", self.replicas)
            self.built = True

        def get_config(self):  # model.save and load_model (mode reloaded) rebuild it from this
            return {**super().get_config(), "capacity": self.capacity, "replicas": self.replicas}

        def compute_output_shape(self, input_shape):
            return input_shape

        def call(self, index):
            flat = ops.gathered(ops.reshape(ops.cast(index, "int32"), (-1,)))
            size = ops.shape(flat)[0]
            recording = ops.read(self.recording) > 0
            fits = ops.logical_and(recording, ops.read(self.count) + size <= self.capacity)
            _append(ops, self.seen, self.count, flat, fits)
            self.count.assign(ops.read(self.count) + ops.where(recording, size, 0))
            return ops.cast(index, "int32") + 0  # a new tensor: tf-keras wants no identity passthrough

        def switch(self, on: bool):
            self.recording.assign(1 if on else 0)

        def reset(self):
            self.count.assign(0)

        def recorded(self):
            count = int(backend.to_numpy(self.count))
            if count > self.capacity:
                raise _overflow(count, -1, self.capacity)
            return backend.to_numpy(self.seen)[:count]

    return F1CheckSampleTap


def _table_class(keras, ops):
    class F1CheckTable(keras.layers.Layer):
        """Looks up the rows of a fixed (non-trainable) table by sample index."""

        def __init__(self, rows: int, columns: int, **kwargs):
            super().__init__(**kwargs)
            self.rows, self.columns = rows, columns

        def build(self, input_shape):
            self.table = self.add_weight(shape=(self.rows, self.columns), initializer="zeros", trainable=False,
                                         name="table")
            self.built = True

        def get_config(self):
            return {**super().get_config(), "rows": self.rows, "columns": self.columns}

        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.columns)

        def call(self, index):
            return ops.take(ops.read(self.table), ops.reshape(ops.cast(index, "int32"), (-1,)), axis=0)

    return F1CheckTable


def _recorder_class(keras, ops):
    class F1CheckRecorder(keras.metrics.Metric):
        """Records the (y_true, y_pred) of every batch the loop feeds the metrics, and with ``weighs`` the
        weight each sample carried (compiled then as a weighted metric: 1 where the loop gives none)."""

        def __init__(self, capacity: int, max_steps: int, columns: int, replicas: int = 1, weighs: bool = False,
                     **kwargs):
            super().__init__(name=RECORDER_NAME, dtype=kwargs.get("dtype"))
            self.capacity, self.max_steps, self.weighs, self.columns = capacity, max_steps, weighs, columns
            self.replicas = replicas
            self.decode = None  # the loop's labels back in their held form (the run sets it: it knows the form)

            def variable(name, shape, dtype="float32"):
                return ops.metric_variable(self, name, shape, dtype, replicas)

            self.y_true = variable("y_true", (capacity, columns))
            self.y_pred = variable("y_pred", (capacity, columns))
            self.weight = variable("weight", (capacity, 1)) if weighs else None
            self.sizes = variable("sizes", (max_steps,), "int32")
            self.count = variable("count", (), "int32")
            self.steps = variable("steps", (), "int32")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true, y_pred = ops.gathered(y_true), ops.gathered(y_pred)
            size = ops.shape(y_pred)[0]
            y_true = _as_columns(ops, y_true, size, self.columns)
            count, steps = ops.read(self.count), ops.read(self.steps)
            fits = ops.logical_and(count + size <= self.capacity, steps < self.max_steps)
            _append(ops, self.y_true, self.count, y_true, fits)  # an overflow is counted, and recorded() reports it
            _append(ops, self.y_pred, self.count, y_pred, fits)
            if self.weighs:
                if sample_weight is None:
                    weight = ops.ones((size, 1), "float32")
                else:
                    weight = ops.reshape(ops.cast(ops.gathered(sample_weight), "float32"), (-1, 1))
                _append(ops, self.weight, self.count, weight, fits)
            _append(ops, self.sizes, self.steps, ops.reshape(size, (1,)), fits)
            self.count.assign(count + size)
            # ``size // size``, not ``1``: a data dependency, so that when a step fails to get data (the end of
            # a dataset without steps) TensorFlow cannot run this increment ahead of the failure
            self.steps.assign(steps + size // ops.maximum(size, 1))

        def result(self):
            return ops.cast(ops.read(self.count), "float32")

        def get_config(self):
            return {**super().get_config(), "capacity": self.capacity, "max_steps": self.max_steps,
                    "columns": self.columns, "replicas": self.replicas, "weighs": self.weighs}

        def reset_state(self):
            for variable in self.variables:  # tf-keras's default assigns a scalar 0, which fits scalars only
                variable.assign(variable * 0)

        def recorded(self) -> list:
            """``[Batch(y_true, y_pred, w), ...]`` per fed batch (``w``: the weight each sample carried, or None)."""
            return _recorded(self)

    return F1CheckRecorder


def _recorded(recorder) -> list:
    """What a recorder holds, cut into the fed batches, the labels read back in their held form."""
    import numpy as np

    steps, count = int(backend.to_numpy(recorder.steps)), int(backend.to_numpy(recorder.count))
    if count > recorder.capacity or steps > recorder.max_steps:
        raise _overflow(count, steps, recorder.capacity)
    cuts = np.cumsum(np.concatenate([[0], backend.to_numpy(recorder.sizes)[:steps]]))
    y_true, y_pred = backend.to_numpy(recorder.y_true)[:count], backend.to_numpy(recorder.y_pred)[:count]
    weight = backend.to_numpy(recorder.weight)[:count, 0] if recorder.weighs else None
    return _batches(cuts, y_true if recorder.decode is None else recorder.decode(y_true), y_pred, weight)


def _dataset_class(base):
    class FedBatches(base):
        """Exactly the partition's batches, in the partition's order."""

        def __init__(self, inputs, labels, partition: Partition, weights=None):
            super().__init__()
            self.inputs, self.labels, self.weights = inputs, labels, weights
            self.index_batches = partition.batches()

        def __len__(self):
            return len(self.index_batches)

        def __getitem__(self, k):
            index = self.index_batches[k]
            if self.weights is None:
                return self.inputs[index], self.labels[index]
            return self.inputs[index], self.labels[index], self.weights[index]

    return FedBatches
