"""How this repository computes F1 during training (Keras 3, ``keras.ops``).

Several heads were written at different times by different people, so there
is one of everything: per-batch functions, count metrics for a log callback,
stateful metrics, Keras's own ``F1Score``.
"""

import keras
from keras import ops

EPS = keras.config.epsilon()


# -- metric functions (Keras averages them over the epoch's batches) ----------

def f1(y_true, y_pred):
    """The classic per-batch F1 from the Keras 2 days: precision and recall of the rounded batch."""
    y_pred = ops.round(ops.clip(y_pred, 0, 1))
    tp = ops.sum(y_true * y_pred)
    precision = tp / (ops.sum(y_pred) + EPS)
    recall = tp / (ops.sum(y_true) + EPS)
    return 2 * precision * recall / (precision + recall + EPS)


def batch_macro_f1(y_true, y_pred):
    """Macro F1 of one batch (first argmax) for the 3-class head: averaged per batch by Keras."""
    classes = ops.shape(y_true)[-1]
    predicted = ops.one_hot(ops.argmax(y_pred, axis=-1), classes)
    tp = ops.sum(y_true * predicted, axis=0)
    denominator = ops.sum(y_true, axis=0) + ops.sum(predicted, axis=0)
    return ops.mean(ops.where(denominator > 0, 2 * tp / ops.maximum(denominator, 1.0), 0.0))


# Counts for callbacks.F1FromLogs: Keras averages each over the batches; the ratio cancels the mean.
def tp(y_true, y_pred):
    return ops.sum(ops.round(ops.clip(y_true * y_pred, 0, 1)))


def actual_positives(y_true, y_pred):
    return ops.sum(y_true)


def predicted_positives(y_true, y_pred):
    return ops.sum(ops.round(ops.clip(y_pred, 0, 1)))


# -- stateful metrics -----------------------------------------------------------

class StreamingF1(keras.metrics.Metric):
    """TP, FP and FN accumulated over the epoch; F1 from the totals."""

    def __init__(self, name="streaming_f1", threshold=0.5, **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        self.counts = self.add_variable(shape=(3,), initializer="zeros", name="counts")

    def positive(self, y_pred):
        return ops.cast(y_pred > self.threshold, "float32")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "float32")
        p = self.positive(y_pred)
        self.counts.assign_add(ops.stack([ops.sum(y_true * p), ops.sum((1 - y_true) * p), ops.sum(y_true * (1 - p))]))

    def result(self):
        tp_, fp, fn = self.counts[0], self.counts[1], self.counts[2]
        return ops.where(2 * tp_ + fp + fn > 0, 2 * tp_ / ops.maximum(2 * tp_ + fp + fn, 1.0), 0.0)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class TiesF1(StreamingF1):
    """The same, but a score of exactly 0.5 counts as positive."""

    def positive(self, y_pred):
        return ops.cast(y_pred >= self.threshold, "float32")


class CumulativeF1(StreamingF1):
    """Counts 'over the whole run': reset_state keeps them, so epoch 2 reports epochs 1 and 2."""

    def reset_state(self):
        pass


class F1FromPrecisionRecall(keras.metrics.Metric):
    """F1 from Keras's streaming Precision and Recall, kept inside one metric."""

    def __init__(self, name="pr_f1", **kwargs):
        super().__init__(name=name, **kwargs)
        self.precision = keras.metrics.Precision(thresholds=0.5)
        self.recall = keras.metrics.Recall(thresholds=0.5)

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.precision.update_state(y_true, y_pred)
        self.recall.update_state(y_true, y_pred)

    def reset_state(self):
        self.precision.reset_state()
        self.recall.reset_state()

    def result(self):
        p, r = self.precision.result(), self.recall.result()
        return ops.where(p + r > 0, 2 * p * r / ops.maximum(p + r, EPS), 0.0)


class StreamingMacroF1(keras.metrics.Metric):
    """Per-class counts over the epoch (first argmax); macro average at the end."""

    def __init__(self, classes=3, name="streaming_macro_f1", **kwargs):
        super().__init__(name=name, **kwargs)
        self.classes = classes
        self.counts = self.add_variable(shape=(3, classes), initializer="zeros", name="counts")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "float32")
        predicted = ops.one_hot(ops.argmax(y_pred, axis=-1), self.classes)
        self.counts.assign_add(ops.stack([
            ops.sum(y_true * predicted, axis=0),
            ops.sum((1 - y_true) * predicted, axis=0),
            ops.sum(y_true * (1 - predicted), axis=0),
        ]))

    def result(self):
        tp_, fp, fn = self.counts[0], self.counts[1], self.counts[2]
        denominator = 2 * tp_ + fp + fn
        return ops.mean(ops.where(denominator > 0, 2 * tp_ / ops.maximum(denominator, 1.0), 0.0))

    def get_config(self):
        return {**super().get_config(), "classes": self.classes}


class StreamingMicroF1(keras.metrics.Metric):
    """Micro F1 over all label columns of the multilabel head, counts over the epoch."""

    def __init__(self, name="streaming_micro_f1", **kwargs):
        super().__init__(name=name, **kwargs)
        self.counts = self.add_variable(shape=(3,), initializer="zeros", name="counts")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "float32")
        p = ops.cast(y_pred > 0.5, "float32")
        self.counts.assign_add(ops.stack([ops.sum(y_true * p), ops.sum((1 - y_true) * p), ops.sum(y_true * (1 - p))]))

    def result(self):
        tp_, fp, fn = self.counts[0], self.counts[1], self.counts[2]
        return ops.where(2 * tp_ + fp + fn > 0, 2 * tp_ / ops.maximum(2 * tp_ + fp + fn, 1.0), 0.0)


# -- factories and instances ------------------------------------------------------

def keras_f1():
    return keras.metrics.F1Score(threshold=0.5)


def keras_fbeta1():
    return keras.metrics.FBetaScore(beta=1.0, threshold=0.5, name="fbeta1")


def keras_macro_f1():
    """Keras's F1Score on the 3-class head without a threshold: every tied maximum counts as predicted."""
    return keras.metrics.F1Score(average="macro", name="macro_f1")


def keras_micro_f1_multilabel():
    return keras.metrics.F1Score(average="micro", threshold=0.5, name="micro_f1")


def streaming_f1_at(threshold):
    return lambda: StreamingF1(name=f"f1_at_{threshold}", threshold=threshold)


f1_at_03 = streaming_f1_at(0.3)

# An instance, as some configs hold them (f1check clones it per example).
head2_f1 = StreamingF1(name="head2_f1")
