"""Example subjects: the ways people compute F1 in Keras, right and wrong.

These are the approaches people use (a per-batch metric function, a predict
callback, count metrics with a log callback, stateful metrics), written for
Keras 3 (``keras.ops``) the way model repositories write them.  ``python -m f1check demo`` and the
tests check them; they are also a starting point for your own.

Importing this module imports Keras.
"""

from __future__ import annotations

import numpy as np

from .core.backend import keras as _import_keras

keras = _import_keras()  # as `import keras`, with TensorFlow's C++ start-up lines held back
ops = keras.ops

__all__ = [
    "VALIDATION_COUNT_METRICS",
    "ColumnOnlyF1",
    "F1FromLogs",
    "StreamingF1",
    "StreamingMCC",
    "TiesPositiveF1",
    "UnsavedThresholdF1",
    "ValidationF1FromLogs",
    "actual_positives",
    "f2_m",
    "keras_f1_score",
    "keras_f2",
    "keras_precision",
    "keras_recall",
    "mcc_m",
    "naive_f1",
    "possible_positives",
    "precision_m",
    "predict_f1_callback",
    "predicted_positives",
    "recall_m",
    "streaming_f1_at_03",
    "true_positives",
    "unsaved_f1_at_03",
]


# 1. The naive metric function: per-batch F1, which Keras then averages over batches.
def naive_f1(y_true, y_pred):
    """F1 of one batch on rounded predictions: wrong as an epoch metric by construction."""
    y_true = keras.ops.reshape(y_true, keras.ops.shape(y_pred))  # labels fed flat or as a column alike
    y_pred = ops.round(ops.clip(y_pred, 0.0, 1.0))
    tp = ops.sum(y_true * y_pred)
    precision = tp / (ops.sum(y_pred) + keras.config.epsilon())
    recall = tp / (ops.sum(y_true) + keras.config.epsilon())
    return 2 * precision * recall / (precision + recall + keras.config.epsilon())


# 2. A predict callback: predict the data at epoch end and call sklearn.
class PredictF1(keras.callbacks.Callback):
    """Writes sklearn's F1 of ``model.predict(x)`` to ``logs['val_f1']``: exact, at a full pass's cost."""

    def __init__(self, x, y, key: str = "val_f1", limit: int | None = None):
        super().__init__()
        self.x, self.y, self.key, self.limit = x, y, key, limit

    def on_epoch_end(self, epoch, logs=None):
        from sklearn.metrics import f1_score

        x, y = (self.x, self.y) if self.limit is None else (self.x[: self.limit], self.y[: self.limit])
        scores = self.model.predict(x, verbose=0)
        logs[self.key] = f1_score(np.ravel(y), np.ravel(np.round(scores)), zero_division=0)


def predict_f1_callback(model, x, y):
    """Factory f1check calls with the loop's model and data."""
    return PredictF1(x, y)


def predict_first_samples_callback(model, x, y):
    """Wrong: scores only the first 8 samples (the 'quick check' that stayed in)."""
    return PredictF1(x, y, limit=8)


# 3. Count metrics + a callback that computes F1 from the epoch logs.
def true_positives(y_true, y_pred):
    y_true = keras.ops.reshape(y_true, keras.ops.shape(y_pred))  # labels fed flat or as a column alike
    return ops.sum(ops.round(ops.clip(y_true * y_pred, 0.0, 1.0)))


def actual_positives(y_true, y_pred):
    y_true = keras.ops.reshape(y_true, keras.ops.shape(y_pred))  # labels fed flat or as a column alike
    return ops.sum(ops.round(ops.clip(y_true, 0.0, 1.0)))


def predicted_positives(y_true, y_pred):
    y_true = keras.ops.reshape(y_true, keras.ops.shape(y_pred))  # labels fed flat or as a column alike
    return ops.sum(ops.round(ops.clip(y_pred, 0.0, 1.0)))


COUNT_METRICS = (true_positives, actual_positives, predicted_positives)


class F1FromLogs(keras.callbacks.Callback):
    """``2·TP / (actual + predicted)`` from the epoch means of the count metrics.

    Keras averages each count over the batches; the common factor cancels, so
    this is exact when every sample is fed.
    """

    def __init__(self, key: str = "f1"):
        super().__init__()
        self.key = key

    def on_epoch_end(self, epoch, logs=None):
        tp = logs["true_positives"]
        denominator = logs["actual_positives"] + logs["predicted_positives"]
        logs[self.key] = 2 * tp / denominator if denominator > 0 else 0.0


# The same counts for the validation pass: fit logs them as val_<name>, and a callback reads those.
def possible_positives(y_true, y_pred):
    y_true = keras.ops.reshape(y_true, keras.ops.shape(y_pred))  # labels fed flat or as a column alike
    return ops.sum(ops.round(ops.clip(y_true, 0.0, 1.0)))


VALIDATION_COUNT_METRICS = (true_positives, possible_positives, predicted_positives)


class ValidationF1FromLogs(keras.callbacks.Callback):
    """``val_f1`` from the validation pass's count metrics, as the logs of ``fit(validation_data=...)`` give them."""

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        tp = logs["val_true_positives"]
        denominator = logs["val_possible_positives"] + logs["val_predicted_positives"]
        logs["val_f1"] = 2 * tp / denominator if denominator > 0 else 0.0


# 4. Stateful metrics.
def keras_f1_score():
    """Keras's own ``F1Score`` at the 0.5 threshold (strict ``>``)."""
    return keras.metrics.F1Score(threshold=0.5, name="f1_score")


class StreamingF1(keras.metrics.Metric):
    """Accumulates TP, FP and FN over the epoch; F1 from the totals. Right."""

    def __init__(self, threshold: float = 0.5, name: str = "streaming_f1", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")
        self.fp = self.add_variable(shape=(), initializer="zeros", name="fp")
        self.fn = self.add_variable(shape=(), initializer="zeros", name="fn")

    def _positive(self, y_pred):
        return ops.cast(y_pred > self.threshold, "float32")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = keras.ops.reshape(y_true, keras.ops.shape(y_pred))  # labels fed flat or as a column alike
        y_true = ops.cast(y_true, "float32")
        predicted = self._positive(y_pred)
        self.tp.assign_add(ops.sum(y_true * predicted))
        self.fp.assign_add(ops.sum((1 - y_true) * predicted))
        self.fn.assign_add(ops.sum(y_true * (1 - predicted)))

    def result(self):
        denominator = 2 * self.tp + self.fp + self.fn
        return ops.where(denominator > 0, 2 * self.tp / ops.maximum(denominator, 1.0), 0.0)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


def streaming_f1_at_03():
    """StreamingF1 counting scores above 0.3: its get_config returns the threshold, so load_model gives it back."""
    return StreamingF1(threshold=0.3)


class UnsavedThresholdF1(StreamingF1):
    """Wrong after ``model.save`` and ``keras.models.load_model``: its ``get_config`` leaves the threshold out (as a
    metric written without one does), so the loaded model rebuilds it at the default 0.5."""

    def get_config(self):
        return keras.metrics.Metric.get_config(self)


def unsaved_f1_at_03():
    return UnsavedThresholdF1(threshold=0.3)


class TiesPositiveF1(StreamingF1):
    """Wrong: counts a score of exactly the threshold as positive (``>=``)."""

    def _positive(self, y_pred):
        return ops.cast(y_pred >= self.threshold, "float32")


class ColumnOnlyF1(StreamingF1):
    """Wrong on flat labels: the streaming metric without its reshape.  Fed ``(n,)`` labels against the model's
    ``(n, 1)`` predictions, ``y_true * predicted`` broadcasts to a ``(b, b)`` outer product and every count is a sum
    over it (right on ``(n, 1)`` labels)."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "float32")
        predicted = self._positive(y_pred)
        self.tp.assign_add(ops.sum(y_true * predicted))
        self.fp.assign_add(ops.sum((1 - y_true) * predicted))
        self.fn.assign_add(ops.sum(y_true * (1 - predicted)))


# Beyond F1: the per-batch precision and recall that sit next to f1 in many compile(metrics=[...]) calls, their
# F-beta and MCC, all averaged by Keras over the batches (wrong); and the stateful ways (right).
def precision_m(y_true, y_pred):
    y_true = keras.ops.reshape(y_true, keras.ops.shape(y_pred))  # labels fed flat or as a column alike
    true_positives = ops.sum(ops.round(ops.clip(y_true * y_pred, 0.0, 1.0)))
    predicted = ops.sum(ops.round(ops.clip(y_pred, 0.0, 1.0)))
    return true_positives / (predicted + keras.config.epsilon())


def recall_m(y_true, y_pred):
    y_true = keras.ops.reshape(y_true, keras.ops.shape(y_pred))  # labels fed flat or as a column alike
    true_positives = ops.sum(ops.round(ops.clip(y_true * y_pred, 0.0, 1.0)))
    possible = ops.sum(ops.round(ops.clip(y_true, 0.0, 1.0)))
    return true_positives / (possible + keras.config.epsilon())


def f2_m(y_true, y_pred):
    """Per-batch F-beta with beta = 2."""
    y_true = keras.ops.reshape(y_true, keras.ops.shape(y_pred))  # labels fed flat or as a column alike
    p, r = precision_m(y_true, y_pred), recall_m(y_true, y_pred)
    return 5 * p * r / (4 * p + r + keras.config.epsilon())


def mcc_m(y_true, y_pred):
    """Per-batch Matthews correlation."""
    y_true = keras.ops.reshape(y_true, keras.ops.shape(y_pred))  # labels fed flat or as a column alike
    y_pred = ops.round(ops.clip(y_pred, 0.0, 1.0))
    tp, tn = ops.sum(y_true * y_pred), ops.sum((1 - y_true) * (1 - y_pred))
    fp, fn = ops.sum((1 - y_true) * y_pred), ops.sum(y_true * (1 - y_pred))
    return (tp * tn - fp * fn) / (ops.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)) + keras.config.epsilon())


def keras_precision():
    return keras.metrics.Precision(thresholds=0.5)


def keras_recall():
    return keras.metrics.Recall(thresholds=0.5)


def keras_f2():
    return keras.metrics.FBetaScore(beta=2.0, threshold=0.5)


class StreamingMCC(keras.metrics.Metric):
    """The Matthews correlation from the epoch's confusion counts. Right."""

    def __init__(self, name: str = "streaming_mcc", **kwargs):
        super().__init__(name=name, **kwargs)
        self.counts = self.add_variable(shape=(4,), initializer="zeros", name="counts")  # tp, tn, fp, fn

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = keras.ops.reshape(y_true, keras.ops.shape(y_pred))  # labels fed flat or as a column alike
        y_true = ops.cast(y_true, "float32")
        p = ops.cast(y_pred > 0.5, "float32")
        self.counts.assign_add(ops.stack([ops.sum(y_true * p), ops.sum((1 - y_true) * (1 - p)),
                                          ops.sum((1 - y_true) * p), ops.sum(y_true * (1 - p))]))

    def result(self):
        tp, tn, fp, fn = self.counts[0], self.counts[1], self.counts[2], self.counts[3]
        denominator = ops.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        return ops.where(denominator > 0, (tp * tn - fp * fn) / ops.maximum(denominator, 1e-12), 0.0)


class NeverResetF1(StreamingF1):
    """Wrong: ``reset_state`` does nothing, so counts leak from one epoch (or run) into the next."""

    def reset_state(self):
        pass
