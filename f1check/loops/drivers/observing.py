"""The callbacks f1check places around a subject's in a real Keras loop.

:class:`Observer` goes first and snapshots what each epoch (and each
validation pass) fed and what the logs held, before any other callback runs;
``TapOn`` and ``LogCapture`` go last: one switches the tap on right before
each of the loop's own steps, the other copies the logs every callback left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...core import backend


@dataclass
class Snapshot:
    """What one pass (a training epoch, or a validation pass) fed and what its loop reported."""

    fed_indices: Any  # sample indices in the order they were fed
    batches: list  # [(y_true, y_pred), ...] per fed batch, as the metrics saw them
    end_scores: Any = None  # the model's predictions for every sample at the epoch's end (trained models)
    model_weights: Any = field(default=None, repr=False)  # the model's weights (its variables' values) then
    logs: dict = field(default_factory=dict)  # the logs as callbacks got them (before any wrote)
    preceding: list = field(default_factory=list)  # batches of the passes before this one in the epoch


def observer_class(keras):
    class Observer(keras.callbacks.Callback):
        """Placed first: snapshots what each epoch (and each validation pass) fed, before other callbacks run.

        Keras resets the metrics, the recorder included, when a validation
        pass begins, so the training epoch is snapshotted then.  The tap
        records only during the loop's own steps: this callback switches it off after every step, and
        :class:`TapOn`, placed last, on right before the next, so what callbacks predict at any hook
        (``model.predict`` in ``on_epoch_begin``, say) is never counted as fed.
        """

        def __init__(self, tap, recorder, inputs, val_inputs, trainable: bool, replicas: int = 1):
            super().__init__()
            self.tap, self.recorder, self.inputs, self.val_inputs = tap, recorder, inputs, val_inputs
            self.trainable, self.replicas = trainable, replicas
            self.head = None  # the judged head's name on a two-output model whose outputs are a dict
            self.epochs: list[Snapshot] = []
            self.validations: list[Snapshot] = []
            self._training: Snapshot | None = None

        def on_epoch_begin(self, epoch, logs=None):
            self._training = None
            self.tap.reset()
            self.tap.switch(False)

        def on_train_batch_end(self, batch, logs=None):
            self.tap.switch(False)

        def on_test_batch_end(self, batch, logs=None):
            self.tap.switch(False)

        def on_test_begin(self, logs=None):
            self._training = Snapshot(self.tap.recorded(), self.recorder.recorded())
            self.tap.reset()
            self.tap.switch(False)

        def on_test_end(self, logs=None):
            self.tap.switch(False)
            self.validations.append(Snapshot(self.tap.recorded(), self.recorder.recorded()))

        def on_epoch_end(self, epoch, logs=None):
            self.tap.switch(False)
            training = self._training or Snapshot(self.tap.recorded(), self.recorder.recorded())
            training.logs = dict(logs or {})
            if self.trainable:
                training.end_scores = self._predict(self.inputs)
                training.model_weights = backend.values(self.model.weights)
                if self.validations and self.val_inputs is not None:
                    self.validations[-1].end_scores = self._predict(self.val_inputs)
                    self.validations[-1].logs = training.logs
                    self.validations[-1].model_weights = training.model_weights  # a callback replay predicts with them
            self.epochs.append(training)

        def _predict(self, inputs):
            # predict_on_batch repeats rows per replica under replicas; 16-bit outputs are kept exactly as float32
            predicted = self.model.predict(inputs, batch_size=len(inputs), verbose=0) if self.replicas > 1 \
                else self.model.predict_on_batch(inputs)
            return backend.to_numpy(judged_head(predicted, self.head)).astype("float32")

    return Observer


def judged_head(predicted, head: str | None):
    """The judged head's predictions: ``predicted`` itself on one output; on two, by name (dict) or first (list)."""
    if isinstance(predicted, dict):
        return predicted[head]
    return predicted[0] if isinstance(predicted, (list, tuple)) else predicted


def tap_on_class(keras):
    class TapOn(keras.callbacks.Callback):
        """Placed last: switches the tap on right before each of the loop's steps, after every other callback's
        batch hook (one that predicts is not counted)."""

        def __init__(self, tap):
            super().__init__()
            self.tap = tap

        def on_train_batch_begin(self, batch, logs=None):
            self.tap.switch(True)

        def on_test_batch_begin(self, batch, logs=None):
            self.tap.switch(True)

    return TapOn


def capture_class(keras):
    class LogCapture(keras.callbacks.Callback):
        """Placed last: copies the logs after every other callback has had its turn."""

        def __init__(self):
            super().__init__()
            self.epochs: list[dict] = []
            self.test: dict | None = None  # the last evaluation's logs (tf-keras's evaluate_generator returns none)

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(dict(logs or {}))

        def on_test_end(self, logs=None):
            self.test = dict(logs or {})

    return LogCapture


@dataclass
class Epoch:
    """What one epoch (or validation pass) of a loop showed: the logged value and what was fed."""

    reported: float
    batches: list  # [(y_true, y_pred), ...] per fed batch, as the subject saw them
    fed_indices: Any  # sample indices in the order they were fed
    end_scores: Any  # the model's predictions for every sample when the subject reported
    logs: dict  # the logs at the end, after every callback
    logs_in: dict = field(default_factory=dict)  # the logs as callbacks got them (before any wrote)
    model_weights: Any = field(repr=False, default=None)  # the trained model's weights (its variables' values) then
    preceding: list = field(default_factory=list)  # batches the metrics saw earlier in the epoch (a validation
    # pass comes after the training epoch: a metric that does not reset carries those counts in)

    @property
    def batch_sizes(self) -> list[int]:
        return [len(y) for y, _ in self.batches]

    def fed(self) -> tuple:
        """``(y_true, y_pred)`` of every fed batch, concatenated in the order they were fed."""
        import numpy as np

        return np.concatenate([b[0] for b in self.batches]), np.concatenate([b[1] for b in self.batches])
