"""A compiled model for one subject in one mode, and the real Keras loop it runs.

- ``evaluate``: a model that outputs the given scores, through
  ``model.evaluate`` (a callback gets one epoch of ``fit`` at learning rate 0,
  so that ``on_epoch_end`` runs);
- ``fit`` and ``fit-dropped``: a logistic layer trained with SGD for
  ``FIT_EPOCHS`` epochs over features whose starting predictions are the
  given scores (the kernel starts as the identity on ``logit(scores)``), so
  predictions move while the epoch runs; every epoch is observed;
- ``validation`` and ``validation-dropped``: the same model trains on the
  data for ``FIT_EPOCHS`` epochs with the partition as ``validation_data``;
  every validation pass is observed (the ``val_`` logs).

tf-keras (:mod:`f1check.drivers.legacy`) overrides only what differs: its
modules, its ``*_generator`` endpoints, its logs and its messages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from .. import backend, feeds
from ..errors import F1CheckError, SubjectError
from ..partitions import Partition
from ..settings import Semantics
from ..subjects import CallbackSubject, MetricSubject, hint, log_key, to_float
from .parts import Parts, Snapshot, parts

FIT_EPOCHS = 2  # at least two: a metric that does not reset between epochs shows in the second
FIT_LEARNING_RATE = 0.5  # large enough that predictions move within an epoch (the drift term)
TRAINING_BATCHES = 4  # batches of the training pass in the validation modes


@dataclass
class Epoch:
    """What one epoch (or validation pass) of a loop showed: the logged value and what was fed."""

    reported: float
    batches: list  # [(y_true, y_pred), ...] per fed batch, as the subject saw them
    fed_indices: Any  # sample indices in the order they were fed
    end_scores: Any  # the model's predictions for every sample when the subject reported
    logs: dict  # the logs at the end, after every callback
    logs_in: dict = field(default_factory=dict)  # the logs as callbacks got them (before any wrote)
    weights: Any = field(repr=False, default=None)  # the trained model's weights then
    preceding: list = field(default_factory=list)  # batches the metrics saw earlier in the epoch (a validation
    # pass comes after the training epoch: a metric that does not reset carries those counts in)

    @property
    def batch_sizes(self) -> list[int]:
        return [len(y) for y, _ in self.batches]

    def fed(self) -> tuple:
        """``(y_true, y_pred)`` of every fed batch, concatenated in the order they were fed."""
        import numpy as np

        return np.concatenate([b[0] for b in self.batches]), np.concatenate([b[1] for b in self.batches])


@dataclass
class Observation:
    """Every epoch of one run, and the model and inputs a callback replay needs."""

    epochs: list[Epoch]
    feed: str
    model: Any = field(repr=False, default=None)
    inputs: Any = field(repr=False, default=None)  # what the model takes for every sample


def starting_features(scores, semantics: Semantics):
    """Features whose identity-initialised logistic layer predicts ``scores`` exactly at the start."""
    import numpy as np

    clipped = np.clip(scores.astype(np.float64), 1e-6, 1 - 1e-6)
    if semantics.task == "multiclass":
        return np.log(clipped).astype(np.float32)  # softmax(log s) = s / sum(s)
    return np.log(clipped / (1 - clipped)).astype(np.float32)  # sigmoid(logit s) = s


def loss_for(semantics: Semantics) -> str:
    return "categorical_crossentropy" if semantics.task == "multiclass" else "binary_crossentropy"


def training_partition(n: int) -> Partition:
    """The training feed of the validation modes: about ``TRAINING_BATCHES`` equal batches."""
    size = max(1, math.ceil(n / TRAINING_BATCHES))
    return Partition([size] * (n // size) + ([n % size] if n % size else []))


class Harness:
    """One subject's compiled model in one mode, kept between runs while that is safe.

    Building and compiling a model costs a trace (~0.4 s); running the
    compiled loop again costs ~0.1 s.  Trained weights and the optimiser are
    put back to their start before each run; the table gets the run's data.
    """

    LEGACY = False
    ERROR_PREFIX = ""

    def __init__(self, subject, semantics: Semantics, columns: int, mode: str, rows: int, steps: int, replicas: int = 1):
        self.subject, self.semantics, self.columns, self.mode = subject, semantics, columns, mode
        self.replicas = replicas
        self.trainable = mode != "evaluate"
        self.validation = mode in feeds.VALIDATION_MODES
        self.parts: Parts = parts(self.LEGACY)
        if self.validation:  # the recorder also sees the training pass's batches
            steps = max(steps, TRAINING_BATCHES + 1)
        self._build(rows, steps)

    # -- building ----------------------------------------------------------------------------------------

    def _build(self, rows: int, steps: int) -> None:
        keras = self.parts.keras
        with backend.replica_scope(self.replicas):
            self.tap = self.parts.tap(rows, self.replicas, name="f1check_sample_tap")
            table = self.parts.table(rows, self.columns, name="f1check_table")
            self.model = self._model(keras, table)
            self.table = table.table
            self.recorder = self.parts.recorder(rows, steps, self.columns, self.replicas)
            subject = self.subject
            self.compiled = [subject.fresh()] if isinstance(subject, MetricSubject) else [m.fresh() for m in subject.metrics]
            optimizer = keras.optimizers.SGD(learning_rate=FIT_LEARNING_RATE if self.trainable else 0.0)
            self.model.compile(loss=loss_for(self.semantics), optimizer=optimizer, metrics=[*self.compiled, self.recorder])
        self.key = log_key(self.compiled[0]) if isinstance(subject, MetricSubject) else subject.key
        self.start = backend.values(self.model.weights)
        self.rows, self.steps = rows, steps

    def _model(self, keras, table):
        """sample index -> tap -> table row [-> identity-initialised logistic layer]."""
        index = keras.Input(shape=(1,), dtype="int32", name="sample_index")
        output = table(self.tap(index))
        if self.trainable:
            output = keras.layers.Dense(
                self.columns,
                activation="softmax" if self.semantics.task == "multiclass" else "sigmoid",
                kernel_initializer=keras.initializers.Identity(),
                bias_initializer="zeros",
                name="f1check_logistic",
            )(output)
        return keras.Model(index, output, name="f1check_trained" if self.trainable else "f1check_fixed_scores")

    def holds(self, n: int, steps: int) -> bool:
        return n <= self.rows and steps <= self.steps

    # -- one run ----------------------------------------------------------------------------------------

    def run(self, y, scores, partition: Partition, feed: str = "pydataset") -> Observation:
        """``partition`` of ``(y, scores)`` through the real loop of the mode, fed as ``feed``."""
        if not self.holds(len(y), partition.steps):
            raise F1CheckError(f"internal: a harness for {self.rows} samples was given {len(y)}.")
        inputs = self.load(scores)
        try:
            with backend.quiet():
                epochs = self._loop(feed, inputs, y, scores, partition)
        except F1CheckError:
            raise
        except Exception as exc:
            raise self.failure(exc, feed) from None
        for epoch in epochs:
            if len(epoch.fed_indices) != sum(len(b[0]) for b in epoch.batches):
                raise F1CheckError(
                    f"internal: the model saw {len(epoch.fed_indices)} samples but the metrics "
                    f"{sum(len(b[0]) for b in epoch.batches)}."
                )
        return Observation(epochs=epochs, feed=feed, model=self.model, inputs=inputs)

    def load(self, scores):
        """The model back at its start with ``scores`` (or their features) in its table; the inputs."""
        import numpy as np

        n = len(scores)
        table = np.zeros((self.rows, self.columns), np.float32)
        table[:n] = starting_features(scores, self.semantics) if self.trainable else scores
        self.model.set_weights(self.start)  # also puts the table's rows back, before the new ones
        self.table.assign(table)
        self.model.optimizer.iterations.assign(0)
        self.tap.reset()
        self.tap.switch(True)
        return np.arange(n, dtype=np.int32)[:, None]

    def _callbacks_fit(self) -> bool:
        """Callbacks need ``fit`` for ``on_epoch_end`` to run, even over fixed predictions."""
        return self.trainable or not isinstance(self.subject, MetricSubject)

    def _loop(self, feed: str, inputs, y, scores, partition: Partition) -> list[Epoch]:
        if not self._callbacks_fit():
            given = feeds.feed(feed, inputs, y, partition, steps_key="steps", dataset_class=self.parts.dataset)
            logs = self.evaluate_logs(self.loop_method(feed, training=False), given)
            return [Epoch(self._logged(logs, self.key), self.recorder.recorded(), self.tap.recorded(), scores, logs)]
        observer = self.parts.observer(self.tap, self.recorder, inputs, inputs if self.validation else None,
                                       self.trainable, self.replicas)
        capture = self.parts.capture()
        callbacks = [observer]
        if isinstance(self.subject, CallbackSubject):
            callbacks.append(self.subject.fresh(self.model, inputs, y))
        callbacks.append(capture)
        if self.validation:
            train = feeds.feed("generator" if feed == "generator" else "pydataset", inputs, y, training_partition(len(y)),
                               steps_key="steps_per_epoch", dataset_class=self.parts.dataset)
            # validation-dropped feeds a generator that runs on over all the data, as a real one would: with
            # validation_steps = n // batch_size each pass starts where the last one stopped (rotation)
            val = feeds.feed(feed, inputs, y, partition, steps_key="validation_steps", dataset_class=self.parts.dataset,
                             rotate=self.mode == "validation-dropped")
            kwargs = {**train.kwargs, **feeds.as_validation(val)}
            self.loop_method(feed, training=True)(*train.args, epochs=FIT_EPOCHS, shuffle=False, verbose=0,
                                                  callbacks=callbacks, **kwargs)
            snapshots = observer.validations
            for snapshot, training in zip(snapshots, observer.epochs):
                snapshot.preceding = [training.batches]
        else:
            given = feeds.feed(feed, inputs, y, partition, steps_key="steps_per_epoch", dataset_class=self.parts.dataset)
            self.loop_method(feed, training=True)(*given.args, epochs=FIT_EPOCHS if self.trainable else 1,
                                                  shuffle=False, verbose=0, callbacks=callbacks, **given.kwargs)
            snapshots = observer.epochs
        if len(snapshots) != len(capture.epochs):
            raise F1CheckError(
                f"internal: {len(capture.epochs)} epochs ended but {len(snapshots)} passes were observed "
                f"(mode {self.mode!r}, fed {feeds.describe(feed, self.LEGACY)})."
            )
        return [self._epoch(snapshot, logs, scores) for snapshot, logs in zip(snapshots, capture.epochs)]

    def _epoch(self, snapshot: Snapshot, logs: dict, scores) -> Epoch:
        if isinstance(self.subject, MetricSubject):
            reported = self._logged(logs, f"val_{self.key}" if self.validation else self.key)
        else:
            reported = self.subject.read(logs)
        end = scores if snapshot.end_scores is None else snapshot.end_scores
        return Epoch(reported, snapshot.batches, snapshot.fed_indices, end, logs, snapshot.logs, snapshot.weights,
                     snapshot.preceding)

    def _logged(self, logs: dict, key: str) -> float:
        if key not in logs:
            raise F1CheckError(
                f"internal: the loop logged {sorted(logs)} but not {key!r}, the key of {self.subject.label} "
                "as compiled."
            )
        return to_float(logs[key], self.subject.label, "the value the loop logged")

    # -- what a Keras generation provides (tf-keras overrides these) ---------------------------------------

    def loop_method(self, feed: str, training: bool):
        return self.model.fit if training else self.model.evaluate

    def evaluate_logs(self, evaluate, given: feeds.Feed) -> dict:
        return evaluate(*given.args, return_dict=True, verbose=0, **given.kwargs)

    def endpoint(self, feed: str) -> str:
        return "model.fit" if self._callbacks_fit() else "model.evaluate"

    def failure(self, exc: Exception, feed: str) -> SubjectError:
        return SubjectError(
            f"{self.subject.label}: raised {type(exc).__name__}: {first_lines(exc)}{hint(exc)}\n(inside "
            f"{self.ERROR_PREFIX}{self.endpoint(feed)}, fed {feeds.describe(feed, self.LEGACY)}, with the subject "
            f"compiled in; fix the subject so that it runs in a compiled {self.parts.keras.__name__} loop)"
        )


_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<function>[^\s*]+)')
FRAMEWORK_PATHS = ("/tf_keras/", "/tensorflow/", "/keras/", "/jax/", "/f1check/")


def first_lines(exc: Exception, limit: int = 6) -> str:
    """The error's message; a traced function's ``in user code:`` trace cut to the error and the user's frame."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    frames = [(k, _FRAME.search(line)) for k, line in enumerate(lines)]
    frames = [(k, m) for k, m in frames if m]
    if lines and lines[0].startswith("in user code") and frames:
        last = frames[-1][0]
        message = ("\n".join(lines[last + 2 : last + 2 + limit]) or lines[-1]).removeprefix(f"{type(exc).__name__}: ")
        own = [m for _, m in frames if not any(p in m["path"] for p in FRAMEWORK_PATHS)]
        if own:
            message += f" (in {own[-1]['function']}, {own[-1]['path']}:{own[-1]['line']})"
        return message
    text = "\n".join(lines[:limit])
    return text + ("\n..." if len(lines) > limit else "")
