"""Plain words for why an example's logged value is off, most specific first, each with a stable code.

Each reason is checked against numbers, not guessed: "the subject averages
per-batch F1" is said only when sklearn's mean over the fed batches is what
was logged; "a phantom step" only when the replayed value times steps/(steps+1)
is; "state carried" only when the same batches on a fresh metric give sklearn's
value.  What the subject computes instead, when the error is its own, is
:mod:`f1check.judging.explain`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.settings import Semantics
from ..judging import reference
from ..judging.explain import SAME_VALUE, explain
from ..judging.results import Example
from ..loops.drivers import Epoch, Observation, fed_as
from ..reasons import Reason
from ..subjects.carried import CarriedState
from ..subjects.context import CheckContext
from . import discriminate

DEGENERATE = 2  # a counterexample of at most this many samples confirms no reason on its own


@dataclass(frozen=True)
class Carried:
    """For a subject whose state survives ``reset_state()``: the worst epoch on a fresh metric, and the probe."""

    fresh: float
    state: CarriedState | None


def batch_counts(y, s, semantics: Semantics) -> str:
    """``3 samples, 0 positive, 0 predicted positive`` (the samples only for multiclass)."""
    import numpy as np

    if semantics.task == "multiclass":
        return f"{len(y)} samples"
    positives = int(np.sum(reference.true_labels(y, semantics) > 0))
    predicted = int(np.sum(reference.predicted_labels(s, semantics) > 0))
    return f"{len(y)} samples, {positives} positive, {predicted} predicted positive"


def describe_batches(batches, semantics: Semantics, limit: int = 4) -> str:
    """``batch 0: 3 samples, 0 positive, 0 predicted positive; ...``."""
    parts = [f"batch {k}: {batch_counts(y, s, semantics)}" for k, (y, s) in enumerate(batches[:limit])]
    more = f" (and {len(batches) - limit} more)" if len(batches) > limit else ""
    return "; ".join(parts) + more + "."


def diagnose(example: Example, observation: Observation, context: CheckContext,
             carried: Carried | None = None) -> list[Reason]:
    """Reasons for ``example``'s error (an empty list when it passed and nothing is odd)."""
    reasons = []
    subject, semantics, tolerance = context.subject, context.semantics, context.settings.tolerance
    epoch = observation.epochs[example.epoch]
    if tuple(example.partition.batch_sizes) != example.fed_batch_sizes and not example.mode.drops_remainder:
        reasons.append(Reason("other-batches", f"the loop fed batches of {list(example.fed_batch_sizes)}, not the "
                                               f"partition's {example.batch_sizes}."))
    if example.passed:
        return reasons
    where = f" in epoch {example.epoch + 1} of {example.epochs}" if example.epochs > 1 else ""
    if not math.isfinite(example.reported):
        return reasons + [_not_finite(example, epoch, context, where)]
    if abs(example.error.loop) > tolerance:
        reasons.append(_loop_reason(example, epoch, semantics, where))
    reasons += _carried_reasons(example, carried, subject, tolerance, where)
    if example.blame == "aggregation" and not any(r.code != "other-batches" for r in reasons):
        example.explanations = tuple(explain(example, observation, context, where))
        reasons += example.explanations[0] if example.explanations else []
    reasons += _coverage_and_drift(example, epoch, semantics, tolerance, where)
    if not any(r.code != "other-batches" for r in reasons):
        reasons.append(_unexplained(example, context, where))
    return reasons


BATCH_CODES = ("per-batch-mean", "last-batch-only")  # aggregations: they cannot show on a single batch


def standing(counterexample: Example | None, worst: Example | None, failing: list[Example],
             context: CheckContext) -> tuple[Reason, ...]:
    """A result's reasons: those whose numbers match on more than one failing example.

    The reasons come from the worst example (the counterexample when the worst is a sample or two); each must
    match another failing example too (the counterexample, then the others the loop ran), so that no reason
    rests on one degenerate sample, where several readings give the same number.  A per-batch or last-batch
    reason also stands on an example of one batch that matches the same reading.  None standing, the numbers
    are said as they are (``unexplained``).
    """
    if counterexample is None:
        return ()
    candidates = [e for e in [worst, counterexample, *failing] if e is not None and not e.passed]
    # one piece of evidence per fed partition and its numbers: the same batches fed again (in another label form,
    # say) and logging the same value back nothing new
    candidates = list({_evidence_key(e): e for e in reversed(candidates)}.values())[::-1]
    informative = [e for e in candidates if e.n > DEGENERATE]
    best, support, source = None, 0, None
    for example in informative:  # the explanation most other failing examples show too
        for explanation in example.explanations:
            backers = [other for other in candidates if other is not example and _matches(explanation, other)]
            if len(backers) > support and not _coincidence(explanation, example, backers, informative):
                best, support, source = explanation, len(backers), example
    if best is not None:
        return _discriminated(best, source, candidates, context, (counterexample, worst))
    primary = informative[0] if informative else counterexample
    probed = _probe(primary, context)
    if probed is not None:
        return probed
    others = [e for e in candidates if e is not primary]
    if not others and primary.n > DEGENERATE:
        return tuple(r for r in primary.diagnosis if r.code != "other-batches")
    seen = {r.code for other in others for r in other.diagnosis}
    kept = tuple(r for r in primary.diagnosis if r.code in seen and r.code not in ("other-batches", "unexplained"))
    if kept and not primary.explanations:
        return kept
    where = f" in epoch {primary.epoch + 1} of {primary.epochs}" if primary.epochs > 1 else ""
    return (_unexplained(primary, context, where),)


def _evidence_key(example: Example) -> tuple:
    return (example.partition, example.n, example.epoch, round(example.reported, 9), round(example.f1_seen, 9))


def _discriminated(best, example: Example, failing: list[Example], context: CheckContext,
                   shown: tuple) -> tuple[Reason, ...]:
    """``best`` if no example shows another of ``example``'s explanations instead (the constructed examples
    too: :mod:`f1check.search.discriminate`), with the evidence that told them apart; else those left, named
    together.  The last reason says whose numbers they are."""
    alive, evidence = discriminate.tell_apart(example, best, failing, context)
    if len(alive) > 1:
        return _naming(discriminate.either(alive, example), example, shown)
    order = [x for x in shown if x is not None and x.n > DEGENERATE] + [x for x in shown if x is not None]
    on_shown = [(e, x) for x in order for e in x.explanations if _same_reading(e, alive[0])]
    kept, example = on_shown[0] if on_shown else (alive[0], example)  # quote an example the failure shows
    reasons = list(_naming(tuple(kept), example, shown))
    told = "".join(discriminate.evidence_sentence(kept, step) for step in evidence)
    if told:
        reasons[-1] = Reason(reasons[-1].code, reasons[-1].text + told)
    return tuple(reasons)


def _same_reading(a, b) -> bool:
    """The same codes, aggregation and reading (readings are made afresh for each example: compared by words)."""
    words = [(e.way, None if e.reading is None else e.reading.says, [r.code for r in e]) for e in (a, b)]
    return words[0] == words[1]


def _naming(reasons: tuple[Reason, ...], example: Example, shown: tuple) -> tuple[Reason, ...]:
    """The reasons, the first saying which example its numbers are of (the counterexample, the worst, or another
    failing example by its batches), so that no number quoted is read against another example's."""
    counterexample, worst = shown
    if example is counterexample:
        whose = "the counterexample's"
    elif example is worst:
        whose = "the worst example's"
    else:
        whose = f"those of the failing example fed batches of {list(example.fed_batch_sizes)}"
    first = reasons[0]
    return (Reason(first.code, f"{first.text} (These numbers are {whose}.)"), *reasons[1:])


def _coincidence(explanation: tuple[Reason, ...], example: Example, backers: list[Example],
                 informative: list[Example]) -> bool:
    """Backed only by examples of a sample or two, where several readings give the same number, while another
    example of more samples shows an explanation of its own: the numbers met by chance (a subject that logs 0.5
    whatever it counted matches the macro F1 of a one-sample last batch), not a reason."""
    if any(backer.n > DEGENERATE for backer in backers):
        return False
    return any(other is not example and other.explanations and not _matches(explanation, other)
               for other in informative)


def _probe(example: Example, context: CheckContext) -> tuple[Reason, ...] | None:
    """On a sample or two several readings give the logged number: the subject fed the constructed examples
    directly (:func:`f1check.search.discriminate.probe`, the fixed examples' data first) tells them apart; the one
    reading that still matches stands."""
    if context.subject.direct is None or example.n > DEGENERATE or len(example.explanations) < 2:
        return None
    left = discriminate.probe(example.explanations, context, example.loop)
    return left[0] if len(left) == 1 else None


def _matches(explanation: tuple[Reason, ...], other: Example) -> bool:
    """Whether ``other`` shows the same explanation (one batch: the same reading, whatever the aggregation)."""
    codes = {r.code for r in explanation}
    single = len(other.fed_batch_sizes) <= 1
    for candidate in other.explanations:
        found = {r.code for r in candidate}
        if found == codes or (single and found == codes - set(BATCH_CODES) and found):
            return True
    return False


def _coverage_and_drift(example: Example, epoch: Epoch, semantics: Semantics, tolerance: float, where: str) -> list:
    name, term = semantics.score_name, example.blame
    if term == "coverage" and abs(example.error.coverage) > tolerance:
        code, unfed = unfed_note(epoch.fed_indices, len(epoch.end_scores), example.dropped, where, example.loop)
        return [Reason(code, f"{unfed}; sklearn's {name} on all samples differs by {example.error.coverage:+.6f}. "
                             "The subject is right about what it saw.")]
    if term == "drift" and abs(example.error.drift) > tolerance:
        return [Reason(
            "drift",
            f"the weights moved during the epoch: the logged {name} is of training-time predictions, sklearn on the "
            f"end-of-epoch model's predictions of the same samples differs by {-example.error.drift:+.6f}.",
        )]
    return []


def _unexplained(example: Example, context: CheckContext, where: str) -> Reason:
    """No known reason: say which terms and numbers are off."""
    name = context.semantics.score_name
    terms = ", ".join(f"{t} {getattr(example.error, t):+.6f}" for t in example.error.TERMS
                      if abs(getattr(example.error, t)) > context.settings.tolerance)
    if context.subject.scores_itself:
        what = f"the callback's {name}{where} differs from sklearn's on the data it was given"
    else:
        what = f"the subject itself computes a different {name}{where} from sklearn's on the samples it was fed"
    return Reason("unexplained", f"{what}: it logged {example.reported:.6f}, sklearn says {example.f1_seen:.6f} "
                                 f"on what was fed and {example.f1_all:.6f} on all samples ({terms}); none of the "
                                 "known mistakes gives these numbers.")


def _not_finite(example: Example, epoch: Epoch, context: CheckContext, where: str) -> Reason:
    """NaN or infinity logged where sklearn gives a number: the batch that made it, when the subject made it."""
    logged = f"{example.reported}".lower()
    if math.isfinite(example.replayed):
        return Reason("nan-logged", f"the Keras loop logged {logged}{where} although the subject, fed the same "
                                    f"batches directly, gives {example.replayed:.6f}; sklearn says {example.f1_seen:.6f}.")
    culprit = _first_not_finite_batch(epoch, context, example.loop)
    return Reason(
        "nan-logged",
        f"the subject logged {logged}{where} where sklearn says {example.f1_seen:.6f}{culprit}. A 0/0 (a batch "
        "without positives) or a division by zero is the usual cause: guard divisions with keras.config.epsilon() "
        "(K.epsilon() in tf.keras), or return the target's zero_division there.",
    )


def _first_not_finite_batch(epoch: Epoch, context: CheckContext, loop) -> str:
    """``; fed alone, batch k (3 samples, 0 positive, ...) gives nan``: the first batch whose value is not finite."""
    direct = context.subject.direct
    if direct is None:
        return ""
    for k, (y, s) in enumerate(epoch.batches):
        try:
            value = direct.replay(fed_as([(y, s)], loop, context.semantics.task, "float32"))
        except Exception:  # the subject's own error shows where f1check runs it for real
            return ""
        if not math.isfinite(value):
            return f"; fed alone, batch {k} ({batch_counts(y, s, context.semantics)}) gives {value}"
    return ""


def unfed_note(fed, total: int, dropped: int, where: str, loop) -> tuple[str, str]:
    """Which of ``total`` samples a pass left out, given the indices it ``fed`` in order: ``(code, sentence)``.

    A dropped remainder when exactly those were missed; otherwise the windows
    that were fed (a generator run on across epochs, or a loop re-feeding what
    it prefetched, feeds some samples twice and others never).
    """
    fed = [int(i) for i in fed]
    distinct = len(set(fed))
    never, again = total - distinct, len(fed) - distinct
    if again == 0 and never == dropped:
        return "dropped-remainder", f"{never} samples were never fed (a dropped remainder)"
    return "unfed-samples", (
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


def _loop_reason(example: Example, epoch: Epoch, semantics: Semantics, where: str) -> Reason:
    steps = len(epoch.batches)
    phantom = example.replayed * steps / (steps + 1)
    if steps and abs(example.reported - phantom) <= SAME_VALUE:
        return Reason("phantom-step",
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
        return Reason("replica-split",
            f"loop error: under {r} replicas the Keras loop logged {example.reported:.6f}{where}, but the subject fed "
            f"the same whole batches directly gives {example.replayed:.6f}: {how}. A stateful metric whose variables "
            "are sums of counts survives the merge across replicas; a per-batch value does not."
        )
    return Reason("loop-misreport",
        f"loop error: the Keras loop logged a different value{where} from what the subject computes when fed the same "
        f"batches directly ({example.reported:.6f} vs {example.replayed:.6f}), fed {example.loop.describe()}."
    )


def _carried_reasons(example: Example, carried: Carried | None, subject, tolerance: float, where: str) -> list:
    """State kept across ``reset_state()`` (or, by a callback, across epochs): the same batches on a fresh metric
    (the same epoch on a fresh callback) give sklearn's value."""
    if carried is None or math.isnan(carried.fresh) or abs(carried.fresh - example.f1_seen) > tolerance:
        return []
    if subject.direct is None:  # a callback: its own state across epochs
        if abs(carried.fresh - example.reported) <= tolerance:
            return []
        return [Reason("callback-state",
            f"the callback keeps state across epochs: a fresh callback given epoch {example.epoch + 1} alone writes "
            f"{carried.fresh:.6f}, as sklearn does, but after the epochs before it the callback wrote "
            f"{example.reported:.6f}. Score each epoch on its own in on_epoch_end (a list of past values, a running "
            "mean or counts that are never cleared carry over; clear them in on_epoch_begin).")
        ]
    held = carried.state.describe() if carried.state is not None else ""
    if example.mode.validates:
        before = "the training epoch just before (Keras resets the metrics before every validation pass)"
    elif example.epoch > 0:
        before = f"epoch {example.epoch} (Keras resets the metrics at the start of every epoch)"
    else:
        before = "the run before on the same compiled model (Keras resets the metrics when evaluate or fit begins)"
    return [Reason("carried-state",
        f"state carried across reset_state(): fed alone to a fresh metric, these batches{where} give "
        f"{carried.fresh:.6f}, as sklearn does, but the metric still held counts from {before} and logged "
        f"{example.reported:.6f}{held}. reset_state() must zero every accumulator: an overridden reset_state() "
        "must assign 0 to each count (Keras's own zeroes every variable made with self.add_variable / add_weight), "
        "and counts kept in variables Keras does not track are never reset.")
    ]
