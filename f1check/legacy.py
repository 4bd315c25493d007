"""Legacy Keras 2 (tf-keras): the drivers of :mod:`f1check.drivers`, built from ``tf.keras``.

With ``TF_USE_LEGACY_KERAS=1`` and tf-keras installed (:func:`backend.legacy`),
``tensorflow.keras`` *is* tf-keras, and a repository written in the 2018 style
(metric functions over ``tensorflow.keras.backend as K``, ``Metric`` and
``Callback`` subclasses from ``tensorflow.keras``) only runs in tf-keras
loops.  This module is the design of drivers.py again: the model's input is
the sample index; a tap layer records the indices each step fed; a
non-trainable table maps an index to its score (evaluate) or to logit
features under an identity-initialised logistic layer trained with SGD (fit,
fit-dropped); a recorder metric compiled beside the subject records every
``(y_true, y_pred)`` the loop fed it.  The loops are tf-keras's own
``evaluate`` and ``fit``; the ``generator`` feed goes through
``evaluate_generator``/``fit_generator``, the deprecated endpoints a 2018
repository calls (in tf-keras 2.x thin wrappers over ``evaluate``/``fit``).

Written with plain TensorFlow ops: tf-keras has no ``keras.ops``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from . import backend, drivers, feeds
from .drivers import RECORDER_NAME, Observation, logistic_head, loop_parts
from .errors import ConfigError, F1CheckError, SubjectError
from .options import Semantics
from .partitions import Partition

# A kept model's first capacity: samples and steps (the search feeds at most 64 batches).
MIN_ROWS = 1024
MIN_STEPS = 64


def _numpy(value):
    import numpy as np

    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


@lru_cache(maxsize=None)
def _parts():
    """tf-keras classes, defined on first use (importing this module stays cheap)."""
    import numpy as np
    import tensorflow as tf

    keras = backend.legacy_keras()

    def append(buffer, count, values, keep):
        """Write ``values`` into ``buffer`` from row ``count`` on, where ``keep`` (a scalar bool) holds."""
        rows = tf.minimum(count + tf.range(tf.shape(values)[0], dtype=tf.int32), buffer.shape[0] - 1)
        written = tf.tensor_scatter_nd_update(buffer, tf.expand_dims(rows, 1), tf.cast(values, buffer.dtype))
        buffer.assign(tf.where(keep, written, buffer))

    class SampleTap(keras.layers.Layer):
        """Passes sample indices through and records the ones the loop's steps feed (see drivers.py)."""

        def __init__(self, capacity: int, **kwargs):
            super().__init__(**kwargs)
            self.capacity = capacity

        def build(self, input_shape):
            def weight(name, shape=(), initializer="zeros"):
                return self.add_weight(name=name, shape=shape, initializer=initializer, dtype="int32", trainable=False)

            self.seen = weight("seen", (self.capacity,))
            self.count = weight("count")
            self.recording = weight("recording", initializer="ones")
            super().build(input_shape)

        def call(self, index):
            flat = tf.reshape(tf.cast(index, tf.int32), [-1])
            size = tf.shape(flat)[0]
            recording = self.recording > 0
            append(self.seen, self.count, flat, tf.logical_and(recording, self.count + size <= self.capacity))
            self.count.assign_add(tf.where(recording, size, 0))
            return tf.identity(index)

        def switch(self, on: bool):
            self.recording.assign(1 if on else 0)

        def reset(self):
            self.count.assign(0)

        def recorded(self):
            count = int(_numpy(self.count))
            if count > self.capacity:
                raise F1CheckError(
                    f"the loop fed {count} samples in one epoch, more than the partition holds ({self.capacity}): "
                    "it repeated data the partition feeds once."
                )
            return _numpy(self.seen)[:count]

    class Table(keras.layers.Layer):
        """Looks up the rows of a fixed (non-trainable) table by sample index."""

        def __init__(self, rows: int, columns: int, **kwargs):
            super().__init__(**kwargs)
            self.rows, self.columns = rows, columns

        def build(self, input_shape):
            self.table = self.add_weight(name="table", shape=(self.rows, self.columns), initializer="zeros",
                                         trainable=False)
            super().build(input_shape)

        def call(self, index):
            return tf.gather(self.table, tf.reshape(tf.cast(index, tf.int32), [-1]))

    class Recorder(keras.metrics.Metric):
        """Records the (y_true, y_pred) of every batch the loop feeds the metrics."""

        def __init__(self, capacity: int, max_steps: int, columns: int):
            super().__init__(name=RECORDER_NAME)
            self.capacity, self.max_steps = capacity, max_steps
            self.y_true = self.add_weight("y_true", shape=(capacity, columns), initializer="zeros")
            self.y_pred = self.add_weight("y_pred", shape=(capacity, columns), initializer="zeros")
            self.sizes = self.add_weight("sizes", shape=(max_steps,), initializer="zeros", dtype="int32")
            self.count = self.add_weight("count", shape=(), initializer="zeros", dtype="int32")
            self.steps = self.add_weight("steps", shape=(), initializer="zeros", dtype="int32")

        def update_state(self, y_true, y_pred, sample_weight=None):
            size = tf.shape(y_pred)[0]
            fits = tf.logical_and(self.count + size <= self.capacity, self.steps < self.max_steps)
            append(self.y_true, self.count, y_true, fits)  # an overflow is counted and reported by recorded()
            append(self.y_pred, self.count, y_pred, fits)
            append(self.sizes, self.steps, tf.reshape(size, [1]), fits)
            self.count.assign_add(size)
            self.steps.assign_add(size // tf.maximum(size, 1))  # a data dependency, as in drivers.py

        def result(self):
            return tf.cast(self.count, tf.float32)

        def reset_state(self):
            # tf-keras's default assigns a scalar 0, which only fits scalar variables
            for variable in self.variables:
                variable.assign(tf.zeros_like(variable))

        def recorded(self) -> list:
            """``[(y_true, y_pred), ...]`` per fed batch."""
            steps, count = int(_numpy(self.steps)), int(_numpy(self.count))
            if count > self.capacity or steps > self.max_steps:
                raise F1CheckError(
                    f"the loop fed {count} samples in {steps} steps, more than the partition holds "
                    f"({self.capacity} samples): it repeated data the partition feeds once."
                )
            cuts = np.cumsum(np.concatenate([[0], _numpy(self.sizes)[:steps]]))
            y_true, y_pred = _numpy(self.y_true)[:count], _numpy(self.y_pred)[:count]
            return [(y_true[a:b], y_pred[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]

    FedBatches, LogCapture, Observer = loop_parts(
        keras, keras.utils.Sequence, _numpy, lambda model: [np.array(w) for w in model.get_weights()]
    )
    return SampleTap, Table, Recorder, FedBatches, LogCapture, Observer


def index_model(rows: int, columns: int, trainable: bool, task: str):
    """``(model, tap, table)``: sample index -> tap -> table row [-> identity-initialised Dense], in tf-keras."""
    SampleTap, Table, *_ = _parts()
    tap = SampleTap(rows, name="f1check_sample_tap")
    return logistic_head(backend.legacy_keras(), tap, Table(rows, columns, name="f1check_table"), columns, trainable,
                         task)


class Harness(drivers.Harness):
    """:class:`drivers.Harness` with tf-keras's models, loops and messages."""

    KEY = "tf-keras"
    # Also the deprecated generator endpoints f1check calls as a 2018 repository does.
    QUIET = (r"`Model\.(fit|evaluate)_generator` is deprecated", *drivers.Harness.QUIET)

    def keras(self):
        return backend.legacy_keras()

    def parts(self) -> tuple:
        return _parts()

    def new_model(self, rows: int, steps: int) -> tuple:
        model, tap, table = index_model(rows, self.columns, self.trainable, self.semantics.task)
        return model, tap, table, self.parts()[2](rows, steps, self.columns)

    def weights_of(self, model) -> list:
        return model.get_weights()

    def capacity(self, n: int, steps: int) -> tuple[int, int]:
        if not self.reuse:
            return n, steps
        # room to spare: every rebuild costs tf-keras a new trace (~1 s)
        return max(n, 2 * self.rows, MIN_ROWS), max(steps, 2 * self.steps, MIN_STEPS)

    def loop(self, feed: str):
        """The 2018 ``*_generator`` endpoint for a generator with steps, else ``fit``/``evaluate``."""
        return getattr(self.model, self._endpoint(feed).removeprefix("model."))

    def evaluate_logs(self, loop, args, kwargs) -> dict:
        capture = self.parts()[4]()
        loop(*args, verbose=0, callbacks=[capture], **kwargs)  # evaluate_generator has no return_dict
        return capture.test or {}

    def failure(self, exc: Exception, feed: str) -> SubjectError:
        return SubjectError(
            f"{self.subject.label}: raised {type(exc).__name__}: {_first_lines(exc)}\n(inside tf-keras "
            f"{self._endpoint(feed)}, fed {_describe(feed)}, with the subject compiled in; fix the "
            f"subject so that it runs in a compiled tf.keras loop){_shape_hint(exc, feed)}"
        )

    def _endpoint(self, feed: str) -> str:
        name = "model.fit" if self._fits() else "model.evaluate"
        return name + "_generator" if feed == "generator" else name


def observe(subject, y, scores, partition: Partition, semantics: Semantics, mode: str = "evaluate",
            feed: str = "pydataset", replicas: int = 1) -> Observation:
    """:func:`drivers.observe` in tf-keras: ``subject`` through the real tf-keras loop of ``mode``."""
    if replicas > 1:
        raise ConfigError(
            f"replicas={replicas} is not supported with tf-keras ({backend.LEGACY_ENV}=1): f1check drives "
            "tf-keras loops on one device only. Use replicas=1, or unset the variable to check Keras 3 subjects."
        )
    return drivers.harness(subject, semantics, y.shape[1], mode, kind=Harness).run(y, scores, partition, feed)


def _shape_hint(exc: Exception, feed: str) -> str:
    """Why a shape error may come from the feed: tf-keras gives generators no static shapes."""
    if feed in feeds.UNIFORM or "shape" not in str(exc).lower():
        return ""
    return (
        "\ntf-keras feeds a generator or Sequence with every dimension unknown (labels of shape (None, None)), "
        "and a metric that needs a known last dimension fails there (tf.keras.metrics.F1Score does: tf-keras "
        "issue #771). If the repository never feeds generators, check only the feeds it uses, e.g. "
        "feeds = [\"numpy\", \"tf.data\"] in [tool.f1check] (feeds= in f1check.check)."
    )


def _describe(feed: str) -> str:
    """:func:`feeds.describe`, naming tf-keras's ``Sequence`` where Keras 3 has ``PyDataset``."""
    return "a tf.keras.utils.Sequence with steps" if feed == "pydataset" else feeds.describe(feed)


_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<function>[^\s*]+)')


def _first_lines(exc: Exception, limit: int = 6) -> str:
    """The error's message; a tf.function's ``in user code:`` trace cut to the error and the user's frame."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    frames = [(k, _FRAME.search(line)) for k, line in enumerate(lines)]
    frames = [(k, m) for k, m in frames if m]
    if lines and lines[0].startswith("in user code") and frames:
        last = frames[-1][0]
        message = ("\n".join(lines[last + 2 : last + 2 + limit]) or lines[-1]).removeprefix(f"{type(exc).__name__}: ")
        own = [m for _, m in frames if not any(p in m["path"] for p in ("/tf_keras/", "/tensorflow/", "/keras/", "/f1check/"))]
        if own:
            message += f" (in {own[-1]['function']}, {own[-1]['path']}:{own[-1]['line']})"
        return message
    text = "\n".join(lines[:limit])
    return text + ("\n..." if len(lines) > limit else "")
