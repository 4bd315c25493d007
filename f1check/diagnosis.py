"""Plain words for why an example's logged value is off, most specific first.

Each reason is checked against numbers, not guessed: "the subject averages
per-batch F1" is said only when sklearn's mean over the fed batches is what
was logged; "a phantom step" only when the replayed value times steps/(steps+1)
is; "state carried" only when the same batches on a fresh metric give sklearn's
value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from . import reference
from .context import CheckContext
from .drivers import Epoch, Observation
from .results import Example
from .errors import SubjectError
from .partitions import Partition
from .settings import Semantics
from .carried import CarriedState

# A per-batch mean computed by Keras in float32 with an epsilon differs from sklearn's float64 by ~1e-7;
# 1e-5 recognises it without false matches.
SAME_VALUE = 1e-5


@dataclass(frozen=True)
class Carried:
    """For a subject whose state survives ``reset_state()``: the worst epoch on a fresh metric, and the probe."""

    fresh: float
    state: CarriedState | None


def describe_batches(batches, semantics: Semantics, limit: int = 4) -> str:
    """``batch 0: 3 samples, 0 positive, 0 predicted positive; ...`` (counts for binary and multilabel)."""
    import numpy as np

    parts = []
    for k, (y, s) in enumerate(batches[:limit]):
        if semantics.task == "multiclass":
            parts.append(f"batch {k}: {len(y)} samples")
            continue
        positives = int(np.sum(reference.true_labels(y, semantics) > 0))
        predicted = int(np.sum(reference.predicted_labels(s, semantics) > 0))
        parts.append(f"batch {k}: {len(y)} samples, {positives} positive, {predicted} predicted positive")
    more = f" (and {len(batches) - limit} more)" if len(batches) > limit else ""
    return "; ".join(parts) + more + "."


def nan_error(label: str, partition: Partition, batches, semantics: Semantics) -> SubjectError:
    return SubjectError(
        f"{label} returned NaN when fed {partition.short()} directly. {describe_batches(batches, semantics)} "
        "A 0/0 on a batch without positives is the usual cause: guard divisions with keras.config.epsilon() "
        "(K.epsilon() in tf.keras), or return 0 there."
    )


def diagnose(example: Example, observation: Observation, context: CheckContext,
             carried: Carried | None = None) -> list[str]:
    """Reasons for ``example``'s error (an empty list when it passed and nothing is odd)."""
    notes = []
    subject, semantics, tolerance = context.subject, context.semantics, context.settings.tolerance
    epoch = observation.epochs[example.epoch]
    if tuple(example.partition.batch_sizes) != example.fed_batch_sizes and not example.mode.drops_remainder:
        notes.append(f"the loop fed batches of {list(example.fed_batch_sizes)}, not the partition's {example.batch_sizes}.")
    if example.passed:
        return notes
    where = f" in epoch {example.epoch + 1} of {example.epochs}" if example.epochs > 1 else ""
    if math.isnan(example.reported):
        return notes + [f"the Keras loop logged NaN{where} although the subject, fed the same batches directly, did not."]
    name = semantics.score_name
    if abs(example.error.loop) > tolerance:
        notes.append(_loop_note(example, epoch, semantics, where))
    notes += _carried_notes(example, carried, subject, tolerance, where)
    if example.blame == "aggregation" and not notes:
        notes += _aggregation_notes(example, epoch, subject, semantics, where)
    term = example.blame
    if term == "coverage" and abs(example.error.coverage) > tolerance:
        unfed = unfed_note(epoch.fed_indices, len(epoch.end_scores), example.dropped, where, example.loop)
        notes.append(
            f"{unfed}; sklearn's {name} on all samples differs by {example.error.coverage:+.6f}. The subject is right "
            "about what it saw."
        )
    elif term == "drift" and abs(example.error.drift) > tolerance:
        notes.append(
            f"the weights moved during the epoch: the logged {name} is of training-time predictions, sklearn on the "
            f"end-of-epoch model's predictions of the same samples differs by {-example.error.drift:+.6f}."
        )
    elif term == "aggregation" and not notes:
        if subject.scores_itself:
            notes.append(f"the callback's {name}{where} differs from sklearn's on the data it was given.")
        else:
            notes.append(f"the subject itself computes a different {name}{where} from sklearn's on the samples it was fed.")
    return notes


def unfed_note(fed, total: int, dropped: int, where: str, loop) -> str:
    """Which of ``total`` samples a pass left out, given the indices it ``fed`` in order.

    A dropped remainder when exactly those were missed; otherwise the windows
    that were fed (a generator run on across epochs, or a loop re-feeding what
    it prefetched, feeds some samples twice and others never).
    """
    fed = [int(i) for i in fed]
    distinct = len(set(fed))
    never, again = total - distinct, len(fed) - distinct
    if again == 0 and never == dropped:
        return f"{never} samples were never fed (a dropped remainder)"
    return (
        f"{never} of the {total} samples were never fed{where} and {again} were fed more than once: the loop fed "
        f"samples {fed_runs(fed)} ({loop.describe()}), another window of the data than the partition's"
    )


def fed_runs(indices, limit: int = 6) -> str:
    """``0-5, 3-8``: the fed sample indices as runs of consecutive ones, in the order they were fed."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    text = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs[:limit])
    return text + (f", ... ({len(runs) - limit} runs more)" if len(runs) > limit else "")


def _loop_note(example: Example, epoch: Epoch, semantics: Semantics, where: str) -> str:
    steps = len(epoch.batches)
    phantom = example.replayed * steps / (steps + 1)
    if steps and abs(example.reported - phantom) <= SAME_VALUE:
        return (
            f"loop error: the Keras loop averaged over {steps + 1} steps but fed {steps}{where}, a phantom step. "
            f"Fed {example.loop.describe()}, Keras (TensorFlow backend) counts one step more than it runs for "
            "every mean-reduced metric; pass steps= (steps_per_epoch= or validation_steps= in fit), or use a "
            "stateful metric, which is not affected."
        )
    if example.replicas > 1:
        r = example.replicas
        shards = [(y[k * len(y) // r:(k + 1) * len(y) // r], s[k * len(s) // r:(k + 1) * len(s) // r])
                  for y, s in epoch.batches for k in range(r)]
        per_shard = reference.batch_mean(shards, semantics)
        how = (f"the mean of sklearn's {semantics.score_name} over each replica's share of every batch ({len(shards)} "
               f"shares) is {per_shard:.6f}, which is what was logged" if abs(example.reported - per_shard) <= SAME_VALUE
               else "each replica updates its own copy of the metric on its share of every batch, and the copies are "
               "merged across replicas")
        return (
            f"loop error: under {r} replicas the Keras loop logged {example.reported:.6f}{where}, but the subject fed "
            f"the same whole batches directly gives {example.replayed:.6f}: {how}. A stateful metric whose variables "
            "are sums of counts survives the merge across replicas; a per-batch value does not."
        )
    return (
        f"loop error: the Keras loop logged a different value{where} from what the subject computes when fed the same "
        f"batches directly ({example.reported:.6f} vs {example.replayed:.6f}), fed {example.loop.describe()}."
    )


def _carried_notes(example: Example, carried: Carried | None, subject, tolerance: float, where: str) -> list[str]:
    """State kept across ``reset_state()`` (or, by a callback, across epochs): the same batches on a fresh metric
    (the same epoch on a fresh callback) give sklearn's value."""
    if carried is None or math.isnan(carried.fresh) or abs(carried.fresh - example.f1_seen) > tolerance:
        return []
    if subject.direct is None:  # a callback: its own state across epochs
        if abs(carried.fresh - example.reported) <= tolerance:
            return []
        return [
            f"the callback keeps state across epochs: a fresh callback given epoch {example.epoch + 1} alone writes "
            f"{carried.fresh:.6f}, as sklearn does, but after the epochs before it the callback wrote "
            f"{example.reported:.6f}. Score each epoch on its own in on_epoch_end (a list of past values, a running "
            "mean or counts that are never cleared carry over; clear them in on_epoch_begin)."
        ]
    held = carried.state.describe() if carried.state is not None else ""
    if example.mode.validates:
        before = "the training epoch just before (Keras resets the metrics before every validation pass)"
    elif example.epoch > 0:
        before = f"epoch {example.epoch} (Keras resets the metrics at the start of every epoch)"
    else:
        before = "the run before on the same compiled model (Keras resets the metrics when evaluate or fit begins)"
    return [
        f"state carried across reset_state(): fed alone to a fresh metric, these batches{where} give "
        f"{carried.fresh:.6f}, as sklearn does, but the metric still held counts from {before} and logged "
        f"{example.reported:.6f}{held}. reset_state() must zero every accumulator: an overridden reset_state() "
        "must assign 0 to each count (Keras's own zeroes every variable made with self.add_variable / add_weight), "
        "and counts kept in variables Keras does not track are never reset."
    ]


def _aggregation_notes(example: Example, epoch: Epoch, subject, semantics: Semantics, where: str) -> list[str]:
    """A per-batch mean, or per-class thresholds on multiclass scores, recognised by their numbers."""
    notes = []
    steps = len(epoch.batches)
    name = semantics.score_name
    if not subject.scores_itself:
        per_batch = reference.batch_mean(epoch.batches, semantics)
        if steps > 1 and abs(example.replayed - per_batch) <= SAME_VALUE:
            notes.append(
                f"the subject averages per-batch {name}: the mean of sklearn's {name} over the {steps} fed batches"
                f"{where} is {per_batch:.6f}, which is what was logged. {name} does not decompose over batches; "
                "accumulate counts in a stateful metric instead."
            )
    if subject.direct is not None and not notes and steps > 1:
        last = reference.reference(*epoch.batches[-1], semantics)
        if abs(example.replayed - last) <= SAME_VALUE and abs(example.f1_seen - last) > SAME_VALUE:
            notes.append(
                f"the subject logs the last batch's {name} only: sklearn's {name} on the last fed batch "
                f"({len(epoch.batches[-1][0])} samples){where} is {last:.6f}, which is what was logged. Keras reads "
                "result() after the last batch: accumulate counts over the epoch in update_state()."
            )
    if semantics.task == "binary" and semantics.average == "binary" and not notes and epoch.batches:
        both = _macro_over_both_classes(example, epoch, subject, semantics)
        if abs(example.replayed - both) <= SAME_VALUE and abs(example.f1_seen - both) > SAME_VALUE:
            notes.append(
                f"the subject averages {name} over the classes (average='macro'): sklearn's macro {name} of what it "
                f"scored is {both:.6f}, which is what was logged, while the check's reference is the positive "
                "class's (average='binary'). If the macro average is what you mean, set the target's average = "
                "\"macro\"."
            )
    if semantics.task != "multiclass" and not notes and epoch.batches:
        inclusive = _threshold_inclusive(epoch, semantics)
        if inclusive is not None and abs(example.replayed - inclusive) <= SAME_VALUE and \
                _right_below_the_threshold(subject, epoch, semantics):
            notes.append(
                f"the subject counts a score of exactly the threshold ({semantics.threshold:g}) as positive: sklearn's "
                f"{name} of predictions score >= {semantics.threshold:g} is {inclusive:.6f}, which is what was logged. "
                f"Keras (keras.metrics.F1Score, and rounding half to even) and this check take score > threshold; "
                "use a strict >, or set the target's threshold to what the subject means."
            )
    if semantics.task == "multiclass" and semantics.score != "mcc" and not notes and epoch.batches:
        thresholded = _per_class_threshold(epoch, semantics)
        if abs(example.replayed - thresholded) <= SAME_VALUE:
            notes.append(
                f"the subject thresholds every class at 0.5 instead of taking the argmax: sklearn's {name} of "
                f"multilabel predictions (score > 0.5 per class) is {thresholded:.6f}, which is what was logged. On "
                "softmax rows over 3 or more classes a row whose top class is at most 0.5 predicts no class; for a "
                "one-class-per-sample task compute the argmax (keras.metrics.F1Score(threshold=None)), or check the "
                "target as task='multilabel' if per-class thresholds are what you mean."
            )
    return notes


def _threshold_inclusive(epoch: Epoch, semantics: Semantics) -> float | None:
    """sklearn's value with ``score >= threshold`` predictions; None when no fed score sits on the threshold."""
    import numpy as np

    y, s = epoch.fed()
    if not np.any(s == np.float32(semantics.threshold)):
        return None
    nudged = np.where(s == np.float32(semantics.threshold), np.nextafter(s, np.float32(2)), s)
    return reference.reference(y, nudged, semantics)


def _right_below_the_threshold(subject, epoch: Epoch, semantics: Semantics) -> bool:
    """Whether a metric agrees with sklearn once its tied scores sit just below the threshold.

    A ``>=`` bug does; a subject with another cut (``> 0`` on probabilities, say) does not, and is not a tie bug.
    Callbacks are not replayed for this: their reading stands on the numbers alone.
    """
    import numpy as np

    if subject.direct is None:
        return True
    tie = np.float32(semantics.threshold)

    def lowered(s):
        return np.where(s == tie, np.nextafter(tie, np.float32(-1)), s)

    try:
        value = subject.direct.replay([(y, lowered(s)) for y, s in epoch.batches])
    except SubjectError:
        return False
    y, s = epoch.fed()
    return abs(value - reference.reference(y, lowered(s), semantics)) <= SAME_VALUE


def _macro_over_both_classes(example: Example, epoch: Epoch, subject, semantics: Semantics) -> float:
    """sklearn's macro average over the classes 0 and 1 on what the subject scored, the one of the two
    readings (both labels, or the labels present) that matches what was logged."""
    if subject.scores_itself:  # it predicted every sample itself
        y, s = example.y_true, epoch.end_scores
    else:
        y, s = epoch.fed()
    both = reference.reference(y, s, replace(semantics, average="macro"))
    if abs(example.replayed - both) <= SAME_VALUE:
        return both
    return reference.macro_of_present_classes(y, s, semantics)


def _per_class_threshold(epoch: Epoch, semantics: Semantics) -> float:
    return reference.reference(*epoch.fed(), replace(semantics, task="multilabel", threshold=0.5))
