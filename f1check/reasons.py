"""Why a logged value is wrong: a stable code and a sentence with its numbers.

A :class:`Reason` is what the diagnosis says of one example; a result states
the reasons whose numbers match on more than one failing example
(:func:`f1check.search.diagnosis.standing`), so that a reason never rests on one
degenerate sample where many formulas agree.  The codes are a vocabulary a
dashboard or a bot can rely on; :data:`CODES` says what each means.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CODES", "Reason"]

# Every code f1check states, and what it means (the README's table is made from this one).
CODES = {
    "per-batch-mean": "the subject averages per-batch values, which F1 (and precision, recall, F-beta, MCC) are not",
    "last-batch-only": "the subject logs the last batch's value only",
    "macro-average": "the subject averages over both classes (average='macro') where the target is the positive class's",
    "weighted-average": "the subject averages over the classes weighed by support (average='weighted') where the target "
                        "does not",
    "micro-average": "the subject pools its counts over the classes (average='micro') where the target does not",
    "other-score": "the subject computes another quantity (F2 for F1, precision for recall, ...)",
    "threshold-tie": "the subject counts a score of exactly the threshold as positive (>= instead of >)",
    "any-positive-score": "the subject counts every score above 0 as positive (a cast to bool)",
    "soft-counts": "the subject counts probabilities, not thresholded predictions",
    "tied-maxima": "the subject predicts every class tied for the top score, not the first",
    "per-class-threshold": "the subject thresholds every class at 0.5 instead of taking the argmax",
    "zero-division": "the subject's value where nothing is positive or predicted positive is not the target's zero_division",
    "additive-smoothing": "the subject adds one to its counts (Laplace smoothing)",
    "carried-state": "the metric keeps counts across reset_state()",
    "callback-state": "the callback keeps state from one epoch into the next",
    "stale-model": "the callback scores the model as it was before the epoch trained",
    "scores-a-prefix": "the callback scores only the first samples of its data",
    "training-counts-as-validation": "the callback writes a validation value computed from the training pass's counts",
    "ignores-sample-weights": "a weighted metric that ignores its sample weights",
    "weights-on-true-positives": "a weighted metric that weighs its true positives only",
    "weights-as-mask": "a weighted metric that uses its weights as a 0/1 mask",
    "weights-applied-twice": "a weighted metric that applies its weights twice (squared)",
    "clipped-weights": "a weighted metric that clips its weights to [0, 1]",
    "weights-normalised-per-batch": "a weighted metric that divides its weights by their batch's sum",
    "weights-broadcast": "a weighted metric that multiplies (b, 1) weights against (b,) counts (an outer product)",
    "rounded-differences": "the subject counts as the Kaggle F-beta does, from rounded differences (a positive scored "
                           "exactly 0.5 is neither a true positive nor a false negative)",
    "labels-broadcast": "the subject multiplies flat (b,) labels against (b, 1) predictions: every count is taken over "
                        "the (b, b) outer product",
    "indices-read-as-one-hot": "the subject reads (n, 1) class indices as one-hot labels",
    "one-hot-read-as-indices": "the subject reads one-hot labels as class indices",
    "labels-misread": "the subject logs the right value for labels in one form and another for the form the loop fed",
    "one-of-readings": "the subject's numbers match more than one reading on every example tried: either is named",
    "uses-sample-weights": "a metric judged unweighted whose value weighs the samples",
    "weighted-function": "a per-batch metric function in weighted_metrics, which Keras cannot weigh",
    "counts-in-16-bit": "under a 16-bit dtype policy the subject keeps or sums its counts in 16 bits",
    "fails-under-setting": "the subject raises under a compile setting (a 16-bit dtype policy, XLA, steps per execution)",
    "nan-logged": "the loop logged NaN or infinity where sklearn gives a number",
    "phantom-step": "the Keras loop averaged over one step more than it ran (a feed without steps)",
    "replica-split": "under replicas each replica averaged its share of every batch",
    "loop-misreport": "the Keras loop logged something other than what the subject computes",
    "dropped-remainder": "samples the loop never fed (a dropped remainder) change sklearn's value over all samples",
    "unfed-samples": "the loop fed another window of the data than the partition's",
    "other-batches": "the loop fed other batches than the partition's (a note, not an error)",
    "drift": "the weights moved during the epoch: the logged value is of training-time predictions",
    "config-loses-arguments": "the metric's get_config() leaves out a constructor argument: load_model rebuilds it with "
                              "the default (or cannot rebuild it), and it logs other numbers after model.save",
    "callback-reads-missing-attribute": "the callback reads an attribute Keras no longer sets (self.validation_data)",
    "unexplained": "the subject computes another value; no known reason matches its numbers",
}


@dataclass(frozen=True)
class Reason:
    """One reason for an example's error: a ``code`` of :data:`CODES` and its sentence, with the numbers (``text``).
    It prints as the sentence it is."""

    code: str
    text: str

    def __post_init__(self):
        if self.code not in CODES:
            raise ValueError(f"internal: unknown reason code {self.code!r}")

    def __str__(self) -> str:
        return self.text

    def json(self) -> dict:
        return {"code": self.code, "text": self.text}
