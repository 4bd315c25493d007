"""Callbacks that log F1 at the end of every epoch."""

import keras
import numpy as np
from sklearn.metrics import f1_score


class PredictF1(keras.callbacks.Callback):
    """Predicts the data at the end of the epoch and writes sklearn's F1 to logs[key]."""

    def __init__(self, x, y, key="val_f1", average="binary"):
        super().__init__()
        self.x, self.y, self.key, self.average = x, y, key, average

    def on_epoch_end(self, epoch, logs=None):
        scores = self.model.predict(self.x, batch_size=256, verbose=0)
        if self.average == "binary":
            predicted, truth = (scores.ravel() > 0.5).astype(int), self.y.ravel()
        else:
            predicted, truth = np.argmax(scores, axis=1), np.argmax(self.y, axis=1)
            labels = list(range(self.y.shape[1]))
            logs[self.key] = f1_score(truth, predicted, average=self.average, labels=labels, zero_division=0)
            return
        logs[self.key] = f1_score(truth, predicted, zero_division=0)


def predict_f1(model, x, y):
    return PredictF1(x, y)


def predict_macro_f1(model, x, y):
    return PredictF1(x, y, key="val_macro_f1", average="macro")


class F1FromLogs(keras.callbacks.Callback):
    """F1 = 2·TP / (actual + predicted), from the epoch means of the three count metrics."""

    def on_epoch_end(self, epoch, logs=None):
        denominator = logs["actual_positives"] + logs["predicted_positives"]
        logs["f1"] = 2 * logs["tp"] / denominator if denominator else 0.0


class F1FromPrecisionRecallLogs(keras.callbacks.Callback):
    """F1 from the precision and recall Keras logged (streaming Precision and Recall metrics)."""

    def on_epoch_end(self, epoch, logs=None):
        p, r = logs["precision"], logs["recall"]
        logs["pr_f1"] = 2 * p * r / (p + r) if p + r > 0 else 0.0


class F1FromConfusionLogs(keras.callbacks.Callback):
    """F1 = 2·TP / (2·TP + FP + FN) from Keras's TruePositives/FalsePositives/FalseNegatives."""

    def on_epoch_end(self, epoch, logs=None):
        tp, fp, fn = logs["true_positives"], logs["false_positives"], logs["false_negatives"]
        logs["confusion_f1"] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else 0.0


def precision():
    return keras.metrics.Precision(thresholds=0.5, name="precision")


def recall():
    return keras.metrics.Recall(thresholds=0.5, name="recall")


def true_positives():
    return keras.metrics.TruePositives(thresholds=0.5, name="true_positives")


def false_positives():
    return keras.metrics.FalsePositives(thresholds=0.5, name="false_positives")


def false_negatives():
    return keras.metrics.FalseNegatives(thresholds=0.5, name="false_negatives")
