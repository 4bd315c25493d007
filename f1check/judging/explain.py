"""What the subject computes instead, when the error is its own (the ``aggregation`` term): found by its numbers.

Each explanation is a quantity of the data the example fed, computed apart,
that equals what the subject gives when fed the same batches directly (its
replayed value) and differs from sklearn's: a per-batch mean, the last batch
alone, another reading of the scores (:mod:`f1check.judging.readings`), and for
callbacks the data's first samples, the model from before the epoch, or the
training pass's counts written as validation.  The first that matches is the
explanation; none matching is said too, with the numbers.
"""

from __future__ import annotations

import math

from ..core.errors import SubjectError
from ..core.labels import LabelForm
from ..core.weights import weight_of, weights_of
from ..loops.drivers import Epoch, Observation, fed_as
from ..reasons import Reason
from ..subjects.context import CheckContext
from . import reference
from .mixups import mixups
from .readings import Reading, counted_in, prefix_values, readings, same
from .results import Example

# A per-batch mean computed by Keras in float32 with an epsilon differs from sklearn's float64 by ~1e-7;
# 1e-5 recognises it without false matches.
SAME_VALUE = 1e-5
# Weightings that differ from others only across batches: on data a callback scores at once (one batch) the
# broadcast weights give the unweighted value and per-batch normalised weights the weighted one.
PER_BATCH_WEIGHTINGS = ("weights-broadcast", "weights-normalised-per-batch")


class Explanation(tuple):
    """The reasons of one explanation (a tuple of :class:`Reason`), and how to compute its quantity again:
    ``way`` (``whole``, ``per-batch``, ``last``) and ``reading``, for any batches (None where it cannot be)."""

    way: str | None
    reading: Reading | None

    def __new__(cls, reasons, way: str | None = None, reading: Reading | None = None):
        made = super().__new__(cls, reasons)
        made.way, made.reading = way, reading
        return made

    def value(self, batches) -> float | None:
        """Its quantity over ``[(y_true, scores), ...]``."""
        import numpy as np

        if self.reading is None:
            return None
        y = np.concatenate([b[0] for b in batches])
        s = np.concatenate([b[1] for b in batches])
        return _aggregate(self.way, self.reading, batches, y, s)


def explain(example: Example, observation: Observation, context: CheckContext, where: str) -> list[Explanation]:
    """Every explanation whose numbers match the subject's own value, most specific first (each a list of
    reasons: a per-batch mean of another reading is two).  On a sample or two several match; the result keeps
    the one another failing example matches too (:func:`f1check.search.diagnosis.standing`)."""
    epoch = observation.epochs[example.epoch]
    if context.subject.scores_itself:
        found = _scores_itself(example, observation, context, where)
    else:
        found = _training_counts(example, epoch, context, where) if context.mode.validates else []
        found += _sixteen_bit(example, epoch, context, where) + _fed(example, epoch, context, where)
        found = found or _labels_misread(example, epoch, context, where)
    return [e if isinstance(e, Explanation) else Explanation(e) for e in found]


def _fed(example: Example, epoch: Epoch, context: CheckContext, where: str) -> list[list[Reason]]:
    """A subject fed the loop's batches: a reading of them, whole, as a per-batch mean, or of the last batch."""
    import numpy as np

    semantics, batches = context.semantics, epoch.batches
    if not batches:
        return []
    y, s = epoch.fed()
    tie = semantics.task != "multiclass" and bool(np.any(s == np.float32(semantics.threshold)))
    found_readings = choices(semantics, tie, example.loop.form(semantics.task))
    steps = len(batches)
    plain, others = found_readings[0], found_readings[1:]
    order = [("per-batch", plain), ("last", plain)] if steps > 1 else []
    order += [("whole", r) for r in others]
    order += [(way, r) for r in others for way in ("per-batch", "last") if steps > 1]
    found = []
    for way, reading in order:
        value = _aggregate(way, reading, batches, y, s)
        if not same(example.replayed, value, SAME_VALUE) or same(example.f1_seen, value, SAME_VALUE):
            continue
        if reading.code == "threshold-tie" and not _right_below_the_threshold(context, epoch, example.loop):
            continue
        told = checked_advice(reading, way, lambda changed: reference.reference(y, s, changed, weights_of(batches)),
                              example.replayed, context)
        found.append(Explanation(_reasons(way, told, value, steps, len(batches[-1][0]), context, where), way,
                                 reading))
    return found


def checked_advice(reading: Reading, way: str, under, logged: float, context: CheckContext) -> Reading:
    """``reading`` with its advice kept only where it holds: a fix that changes the target's settings (its
    ``average``, ``zero_division``, score, ``weighted``) is stated only if this example passes under it, sklearn
    under the changed settings (``under(semantics)``) giving what the subject logged."""
    from dataclasses import replace

    if reading.setting is None:
        return reading
    changed = replace(context.semantics, **reading.setting)
    value = under(changed) if way == "whole" else math.nan
    if abs(value - logged) <= context.settings.tolerance:
        return reading
    setting = ", ".join(f"{k} = {v!r}" for k, v in reading.setting.items() if v is not None)
    shown = "" if math.isnan(value) else f" (sklearn gives {value:.6f} under it)"
    then = ("fix the computation instead" if way == "whole" else
            f"accumulate counts over the epoch first; then, if that is what you mean, set the target's {setting}")
    return replace(reading, fix=f"setting the target's {setting} alone would not make this example pass{shown}: "
                                f"{then}")


def _aggregate(way: str, reading: Reading, batches, y, s) -> float:
    if way == "whole":
        return reading.batched(batches) if reading.batched is not None else reading.value(y, s, weights_of(batches))
    if way == "last":
        return reading.of_batches(batches[-1:])
    values = [reading.of_batches([b]) for b in batches]
    return sum(values) / len(values)


def choices(semantics, tie: bool, form=None) -> list[Reading]:
    """Every reading that applies: the target's own first, the nearby ones, then what users mix up (and how labels
    fed in ``form`` are misread)."""
    return readings(semantics, tie, form) + mixups(semantics)


def _reasons(way: str, reading: Reading, value: float, steps: int, last: int, context: CheckContext,
             where: str) -> list[Reason]:
    name = context.semantics.score_name
    plain = reading.code is None
    what = f"sklearn's {name}" if plain else "that"
    found = []
    if way == "per-batch":
        found.append(Reason(
            "per-batch-mean",
            f"the subject averages per-batch {name}{'' if plain else ' (of another reading, below)'}: the mean of "
            f"{what} over the {steps} fed batches{where} is {value:.6f}, which is what was logged. {name} does not "
            "decompose over batches; accumulate counts in a stateful metric instead.",
        ))
    elif way == "last":
        found.append(Reason(
            "last-batch-only",
            f"the subject logs the last batch's {name} only{'' if plain else ' (of another reading, below)'}: "
            f"{what} on the last fed batch ({last} samples){where} is {value:.6f}, which is what was logged. Keras "
            "reads result() after the last batch: accumulate counts over the epoch in update_state().",
        ))
    if not plain:
        whole = (f": sklearn's value of that over what was fed{where} is {value:.6f}, which is what was logged"
                 if way == "whole" else "")
        found.append(Reason(reading.code, f"the subject {reading.says}{whole}. {reading.fix[0].upper()}{reading.fix[1:]}."))
    return found


def _right_below_the_threshold(context: CheckContext, epoch: Epoch, loop) -> bool:
    """Whether a metric agrees with sklearn once its tied scores sit just below the threshold.

    A ``>=`` bug does; a subject with another cut (``> 0`` on probabilities, say) does not, and is not a tie bug.
    Callbacks are not replayed for this: their reading stands on the numbers alone.
    """
    import numpy as np

    direct, semantics = context.subject.direct, context.semantics
    if direct is None:
        return True
    tie = np.float32(semantics.threshold)

    def lowered(s):
        return np.where(s == tie, np.nextafter(tie, np.float32(-1)), s)

    try:
        value = direct.replay(fed_as([(y, lowered(s)) for y, s in epoch.batches], loop, semantics.task))
    except SubjectError:
        return False
    y, s = epoch.fed()
    return abs(value - reference.reference(y, lowered(s), semantics)) <= SAME_VALUE


def _labels_misread(example: Example, epoch: Epoch, context: CheckContext, where: str) -> list[list[Reason]]:
    """A metric right on labels in the form the data is held in and wrong on the form the loop fed: fed the same
    batches with ``(n, 1)``/one-hot float32 labels it gives sklearn's value (no reading above says how it misreads
    them)."""
    from dataclasses import replace

    direct, loop, task = context.subject.direct, example.loop, context.semantics.task
    if direct is None or not epoch.batches or not context.clean or loop.held_labels:
        return []
    held = replace(loop, labels=None, label_dtype="float32")
    try:
        value = direct.replay_epochs([fed_as(epoch.batches, held, task)])[0]
    except SubjectError:
        return []
    if not same(value, example.f1_seen, SAME_VALUE) or same(example.replayed, example.f1_seen, SAME_VALUE):
        return []
    fed = loop.labels_said()
    return [[Reason("labels-misread", f"the subject misreads {fed}{where}: fed the same batches with "
                    f"{LabelForm.held_for(task).describe()} it gives {value:.6f}, sklearn's value, while fed {fed} "
                    f"it logs {example.reported:.6f}. Make it read the labels your loop feeds (reshape or cast "
                    "y_true to the predictions' shape and dtype first), or name the forms it takes (labels = "
                    "[...], label_dtypes = [...]) for this target.")]]


def _sixteen_bit(example: Example, epoch: Epoch, context: CheckContext, where: str) -> list[list[Reason]]:
    """A metric that computes in 16 bits: under a 16-bit policy, right when fed the same predictions in float32;
    under any policy, its value is that of counts summed batch by batch in float16 or bfloat16."""
    direct, policy = context.subject.direct, example.loop.dtype_policy
    if not epoch.batches or not context.clean:
        return []
    fix = ("float16 counts in ones only up to 2,048, bfloat16 up to 256). Keep the counts in float32 (variables "
           "made with dtype=\"float32\", y_pred cast to float32 before summing), as keras.metrics.F1Score does.")
    if example.loop.sixteen_bit and direct is not None and not same(example.replayed, example.f1_seen, SAME_VALUE):
        try:
            # built under float32, fed the same values as float32 (the labels as the loop fed them)
            value = direct.replay_epochs([fed_as(epoch.batches, example.loop, context.semantics.task, "float32")])[0]
        except SubjectError:
            value = math.nan
        if same(value, example.f1_seen, SAME_VALUE):
            return [[Reason("counts-in-16-bit", f"the subject computes in 16 bits under {policy}{where}: fed the same "
                            f"predictions as float32 it gives {value:.6f}, sklearn's value, while under {policy} it "
                            f"logs {example.reported:.6f} ({example.n} samples; {fix}")]]
    for dtype in ("float16", "bfloat16"):
        value = counted_in(epoch.batches, context.semantics, dtype)
        if same(value, example.reported, SAME_VALUE) and not same(value, example.f1_seen, SAME_VALUE):
            return [[Reason("counts-in-16-bit", f"the subject keeps its counts in {dtype}{where}: true positives, "
                            f"false positives and false negatives summed batch by batch in {dtype} give {value:.6f}, "
                            f"what it logged, where sklearn says {example.f1_seen:.6f} ({example.n} samples; {fix}")]]
    return []


def _training_counts(example: Example, epoch: Epoch, context: CheckContext, where: str) -> list[list[Reason]]:
    """A validation value computed from the training pass: sklearn over the training batches is what was logged."""
    import numpy as np

    if not epoch.preceding or not epoch.preceding[0]:
        return []
    training = epoch.preceding[0]
    y = np.concatenate([b[0] for b in training])
    s = np.concatenate([b[1] for b in training])
    value = reference.reference(y, s, context.semantics)
    if not same(example.replayed, value, SAME_VALUE) or same(example.f1_seen, value, SAME_VALUE):
        return []
    return [[Reason(
        "training-counts-as-validation",
        f"the subject's validation value{where} is computed from the training pass: sklearn's "
        f"{context.semantics.score_name} over the {len(y)} samples the training epoch fed is {value:.6f}, which is "
        "what was logged as validation. Read the companions' val_ logs (val_true_positives, not true_positives) in "
        "the validation keys.",
    )]]


def _scores_itself(example: Example, observation: Observation, context: CheckContext, where: str) -> list[list[Reason]]:
    """A callback that scores its data itself: the data's first samples, the model before the epoch, a reading."""
    epoch = observation.epochs[example.epoch]
    y, end = example.y_true, epoch.end_scores
    w = observation.callback_weights  # what the callback's data weighs in the judged pass (None: unweighted)
    semantics, name = context.semantics, context.semantics.score_name
    if context.mode.trains:
        start = example.scores if example.epoch == 0 else observation.epochs[example.epoch - 1].end_scores
        before = reference.reference(y, start, semantics, w)
        if same(example.reported, before, SAME_VALUE) and not same(example.f1_all, before, SAME_VALUE):
            return [[Reason(
                "stale-model",
                f"the callback scores the model as it was before the epoch trained: sklearn's {name} of the "
                f"predictions at the start of epoch {example.epoch + 1} is {before:.6f}, which is what was logged, "
                f"while the model at the epoch's end gives {example.f1_all:.6f}. Predict in on_epoch_end, not in "
                "on_epoch_begin (or keep the predictions of this epoch's model).",
            )]]
    prefixes = prefix_values(y, end, semantics, w)
    ks = [k for k, v in enumerate(prefixes[:-1], 1) if same(example.reported, v, SAME_VALUE)]
    if ks and not same(example.f1_all, example.reported, SAME_VALUE):
        which = f"the first {ks[0]}" if len(ks) == 1 else f"the first k, for any k from {ks[0]} to {ks[-1]},"
        return [[Reason(
            "scores-a-prefix",
            f"the callback scores only the first samples of its {len(y)}{where}: sklearn's {name} of {which} is "
            f"{example.reported:.6f}, which is what was logged. Predict all of the data (model.predict(x) over every "
            "batch, not next(iter(dataset)) or x[:k]).",
        )]]
    import numpy as np

    tie = semantics.task != "multiclass" and bool(np.any(end == np.float32(semantics.threshold)))
    found = []
    for reading in choices(semantics, tie)[1:]:
        if reading.code in PER_BATCH_WEIGHTINGS:  # the data scored at once is one batch: these are another reading
            continue
        value = reading.value(y, end, w)
        if same(example.reported, value, SAME_VALUE) and not same(example.f1_all, value, SAME_VALUE):
            told = checked_advice(reading, "whole", lambda changed: reference.reference(y, end, changed, w),
                                  example.reported, context)
            found.append(Explanation(_reasons("whole", told, value, 1, len(y), context, where), "whole", reading))
    return found
