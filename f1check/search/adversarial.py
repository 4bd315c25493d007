"""The fixed examples every fuzzed check starts from, before the random search.

A gate must have its power from the first examples, not from luck: these are
the partitions and data on which the usual mistakes show at once, whatever
the seed.  One small dataset (fuzzed checks) or the user's own data (checks
with given data) is fed several times, one partition after another, to the
same compiled model, as a script that calls ``evaluate`` twice does, so a
metric whose state survives ``reset_state`` shows too:

- uneven batches where the first has no positive label and no positive
  prediction, and a one-sample last batch (a per-batch mean is off);
- scores exactly at the threshold, with positive and negative labels
  (``>=`` instead of ``>``), in the first batch of a run where the loop trains
  (after the first update no score sits on the threshold any more);
- an all-negative batch; a dropped remainder (``steps = n // batch_size``);
- for multiclass softmax data, a row whose top class is below 0.5 (a metric
  that thresholds each class at 0.5 predicts nothing there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.feeds import Feed
from ..core.modes import Mode
from ..core.partitions import Partition
from ..core.settings import CheckSettings
from ..core.weights import NONE, Batch, Weights, WeightsKind
from ..data import synthetic
from ..loops import LoopSettings, Run

# The binary dataset: (label, score) with "T" for a score of exactly the threshold.  Samples 0-2 are true
# negatives (an all-negative batch), 6 and 10 sit on the threshold with labels 1 and 0.
BINARY = (
    (0, 0.1), (0, 0.2), (0, 0.0), (1, 0.9), (0, 0.7), (1, 0.3),
    (1, "T"), (1, 0.8), (0, 0.4), (1, 1.0), (0, "T"), (1, 0.6),
)
# Partitions of the 12 samples, most telling first: every mode takes those its feeds can give.
# Consecutive runs feed different samples (a remainder dropped in between), so that counts a metric carries
# from one run into the next change the value: the same data fed twice would double every count and keep F1.
FULL = (
    Partition([3, 8, 1]),                          # all-negative first batch, one-sample last batch
    Partition.floor_steps(12, 5),                  # 5 + 5 fed, 2 never fed
    Partition([3, 3, 3, 3]),                       # the all-negative first batch again, equal batches (numpy, tf.data)
    Partition.shuffled([7, 5], order_seed=1),      # shuffled, uneven
)
DROPPED = (  # the floor-steps form only: steps = n // batch_size, the rest never fed
    Partition([3, 3, 3], dropped=3),
    Partition.floor_steps(12, 5),
    Partition.shuffled([4, 4], order_seed=3, dropped=4),
)
# Where the judged pass trains, a score exactly at the threshold exists only before the first update: every run starts
# from the model's first weights (the harness loads them), so a run whose first batch holds the two tied samples
# (6: label 1, 10: label 0) and a positive below the threshold (5) puts the tie where a training loop still has it.
TIES_FIRST = (6, 10, 5, 0, 1, 2, 3, 4, 7, 8, 9, 11)
TIES_FIRST_RUNS = (Partition([3, 9], order=TIES_FIRST), Partition([3, 3, 3], order=TIES_FIRST, dropped=3))
COUNT = 2  # fixed examples per mode (fewer when examples= is smaller): two runs on one model show carried state
# Per-sample weights of the small dataset: integers above 1, zeros (sample 7 is a zero-weight positive), fractions.
# Searched so that on the first two fixed partitions a metric that ignores them, squares them, uses them as a 0/1
# mask or weighs its true positives only logs a value no other reading of the data gives (by 0.0148 at least).
SAMPLE_WEIGHTS = (0.0, 1.0, 0.0, 0.5, 3.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.5, 0.0)
CLASS_WEIGHT = {0: 1.0, 1: 2.5}  # binary; multiclass classes get 1.0, 2.5, 0.5, ... in turn


@dataclass(frozen=True)
class FixedRuns:
    """Data and the runs (each partition with the loop settings that give it) to feed one after another."""

    y: Any
    scores: Any
    runs: tuple[Run, ...]


def fixed_weights(kinds: tuple[WeightsKind, ...], n: int, columns: int, given: Weights | None = None) -> Weights:
    """The weights of the fixed examples: per-sample ones if the check draws them, else class weights, else none."""
    import numpy as np

    for kind in (WeightsKind.SAMPLE, WeightsKind.CLASS):
        if kind not in kinds:
            continue
        if given is not None and given.kind is kind:
            return given
        if kind.per_sample:
            return Weights(sample=np.resize(np.asarray(SAMPLE_WEIGHTS, np.float32), n))
        values = (1.0, 2.5, 0.5, 3.0, 2.0)
        return Weights(class_weight=CLASS_WEIGHT if columns <= 1 else
                       {c: values[c % len(values)] for c in range(columns)})
    return NONE


def feeds_everything(settings: CheckSettings, mode: Mode) -> bool:
    """Judged on all samples (judge 'total') outside the dropped modes: every partition feeds every sample, as
    the user's own loop does there (a sample never fed would be f1check's doing, not the subject's)."""
    return settings.judge == "total" and not mode.drops_remainder


def fixed_runs(settings: CheckSettings, mode: Mode, feeds: tuple[Feed, ...], data=None,
               kinds: tuple[WeightsKind, ...] = (WeightsKind.NONE,), given: Weights | None = None,
               pairs: tuple = ()) -> FixedRuns | None:
    """The fixed runs of ``mode``: over ``data`` if given, else over this module's small dataset.

    ``feeds`` are those the mode can use.  The runs share one feed (the first
    that can give the most of the partitions exactly), so that the sequence is
    what ``check(data=..., partitions=[...], feeds=[feed])`` runs: its
    reproduction.  ``pairs`` are the labels' ``(form, dtype)`` the subject takes: the first runs feed the first,
    then every other form is fed once (int64 where taken, as numpy and pandas give labels) on the first partition,
    so that a metric that misreads a form fails at the fixed examples.  None when nothing fits
    (data of one sample).
    """
    import numpy as np

    replicas = settings.replicas
    if data is None:
        y, scores = _dataset(settings)
        y, scores = np.repeat(y, replicas, axis=0), np.repeat(scores, replicas, axis=0)
        candidates = DROPPED if mode.drops_remainder else FULL
    else:
        y, scores = data
        candidates = _partitions_of(y, settings, mode)
    partitions = [unit.scaled(replicas) if data is None else unit for unit in candidates]
    partitions = [p for p in partitions if p.n == len(y) and (p.dropped == 0 or not feeds_everything(settings, mode))]
    count = min(COUNT, settings.examples)

    def fitting(feed):
        return [p for p in partitions if feed.fits(p)][:count]

    weights = fixed_weights(kinds, len(y), settings.semantics.columns, given)
    feeds = carrying(feeds, weights)
    feed = max(feeds, key=lambda f: (len(fitting(f)), -feeds.index(f)), default=None)
    if feed is None:
        return None
    loop = labelled(LoopSettings(feed=feed, weights=weights.kind, **settings.fixed_compile()), pairs)
    runs = [Run(p, loop, weights) for p in fitting(feed)]
    if data is None and mode.judges_training and replicas == 1 and settings.semantics.task != "multiclass":
        ties = TIES_FIRST_RUNS[1] if mode.drops_remainder else TIES_FIRST_RUNS[0]
        if feed.fits(ties) and settings.examples > len(runs) and not (ties.dropped and feeds_everything(settings, mode)):
            runs.append(Run(ties, loop, weights))
    # every other form once, on the most telling partition (where broadcast counts differ from the true ones), as
    # far as the examples asked for go
    for pair in other_forms(pairs)[:max(0, settings.examples - len(runs))]:
        runs.append(Run(runs[0].partition, labelled(loop, (pair,)), weights))
    return FixedRuns(y, scores, tuple(runs)) if runs else None


def labelled(loop: LoopSettings, pairs: tuple) -> LoopSettings:
    """``loop`` fed labels as the first of ``pairs`` (``(form, dtype)``) says; as it is without any."""
    from dataclasses import replace

    return replace(loop, labels=pairs[0][0], label_dtype=pairs[0][1]) if pairs else loop


def other_forms(pairs: tuple) -> list:
    """One pair for each form of ``pairs`` but the first pair's: int64 where taken (what numpy and pandas give)."""
    found: dict = {}
    for form, dtype in pairs[1:]:
        if form is not pairs[0][0] and (form not in found or dtype == "int64"):
            found[form] = (form, dtype)
    return list(found.values())


LARGE = 1000  # samples of the fixed example for subjects that score their data themselves


def large_run(settings: CheckSettings, mode: Mode, feeds: tuple[Feed, ...],
              kinds: tuple[WeightsKind, ...] = (WeightsKind.NONE,), pairs: tuple = ()):
    """One larger fixed example, ``(y, scores, run)``, for a callback that scores its data itself.

    What such a callback gets wrong depends on the data, not the batches: it
    scores part of it (the first samples, one batch), or it carries values
    from one epoch into the next.  Here the positives are all in the last
    fifth, so anything that looks at the first samples only sees none; in the
    fit modes the scores start far from the labels, so the epochs differ.
    """
    import numpy as np

    semantics = settings.semantics
    n = LARGE * settings.replicas
    rng = np.random.default_rng(0)
    y, scores = synthetic(n, semantics, rng, positive_rate=0.2)
    if semantics.task != "multiclass":
        order = np.argsort(y.max(axis=1), kind="stable")  # negatives first, positives last
        y, scores = y[order], scores[order]
    if mode.judges_training:
        # The model starts far from the labels, so training moves its predictions from one epoch to the next:
        # a callback that carries anything across epochs (a list of past values, a running mean) shows it.
        scores = scores[:, ::-1].copy() if semantics.task == "multiclass" else (1 - scores).astype(scores.dtype)
    r = settings.replicas
    candidates = [Partition.floor_steps(LARGE, 300).scaled(r)] if mode.drops_remainder else [
        Partition([500, 499, 1]).scaled(r), Partition([250] * 4).scaled(r)]
    weights = fixed_weights(kinds, len(y), semantics.columns)
    for partition in candidates:
        feed = next((f for f in carrying(feeds, weights) if f.fits(partition)), None)
        if feed is not None:
            loop = labelled(LoopSettings(feed=feed, weights=weights.kind, **settings.fixed_compile()), pairs)
            return y, scores, Run(partition, loop, weights)
    return None


SIXTEEN_BIT = 20000  # samples of the fixed examples under 16-bit policies, fed in batches of SIXTEEN_BIT_BATCH
SIXTEEN_BIT_BATCH = 128
SIXTEEN_BIT_FULL = 17  # leading batches of true positives only: 2,176 of them, past 2,048 where float16 stops
# counting in ones (bfloat16 at 256); every later batch adds one true positive, which a float16 count then loses
SIXTEEN_BIT_WRONG = 3  # false positives (score 0.7) and false negatives (score 0.3) in each later batch


def sixteen_bit_runs(settings: CheckSettings, mode: Mode, feeds: tuple[Feed, ...],
                     kinds: tuple[WeightsKind, ...] = (WeightsKind.NONE,), pairs: tuple = ()):
    """``(y, scores, run)`` of ``SIXTEEN_BIT`` samples under each 16-bit policy allowed, so that a metric that counts
    in 16 bits fails from the first examples; none without one, or under replicas."""
    import numpy as np

    policies = [p for p in settings.dtype_policies if p != "float32"]
    if not policies or settings.replicas > 1:
        return []
    if settings.semantics.task == "multiclass":
        y, scores = synthetic(SIXTEEN_BIT, settings.semantics, np.random.default_rng(1), positive_rate=0.4)
    else:
        y, scores = counting_past_16_bits(settings.semantics.columns)
    partition = Partition.floor_steps(SIXTEEN_BIT, SIXTEEN_BIT_BATCH)
    if not mode.drops_remainder:
        partition = Partition([*partition.batch_sizes, SIXTEEN_BIT % SIXTEEN_BIT_BATCH])
    weights = fixed_weights(kinds, len(y), settings.semantics.columns)
    feed = next((f for f in carrying(feeds, weights) if f.fits(partition)), None)
    if feed is None:
        return []
    compile_settings = settings.fixed_compile()
    return [(y, scores, Run(partition, labelled(LoopSettings(feed=feed, weights=weights.kind,
                                                             **{**compile_settings, "dtype_policy": p}), pairs),
                            weights))
            for p in policies]


def carrying(feeds: tuple[Feed, ...], weights: Weights) -> tuple[Feed, ...]:
    """The feeds that can carry ``weights`` (Keras refuses class_weight for a Python generator)."""
    return tuple(f for f in feeds if weights.kind.carried_by(f))


def counting_past_16_bits(columns: int):
    """Binary (or multilabel, the same in each column) labels and scores, in batches of ``SIXTEEN_BIT_BATCH``:
    ``SIXTEEN_BIT_FULL`` batches of confident true positives (0.98), then batches of one true positive,
    ``SIXTEEN_BIT_WRONG`` false positives and as many false negatives, and confident true negatives (0.02).
    A float16 true-positive count stops at 2,176 while the true one grows by one a batch (F1 off by ~8e-3);
    no score lies near the threshold, so training and the 16-bit cast change no side."""
    import numpy as np

    batch, wrong = SIXTEEN_BIT_BATCH, SIXTEEN_BIT_WRONG
    later = np.zeros(batch, np.float32), np.full(batch, 0.02, np.float32)
    later[0][:1 + wrong], later[1][:1 + 2 * wrong] = 1.0, [0.98] + [0.3] * wrong + [0.7] * wrong
    blocks = [(np.ones(batch, np.float32), np.full(batch, 0.98, np.float32))] * SIXTEEN_BIT_FULL
    blocks += [later] * (-(-SIXTEEN_BIT // batch) - SIXTEEN_BIT_FULL)
    y, scores = (np.concatenate(parts)[:SIXTEEN_BIT] for parts in zip(*blocks))
    return np.repeat(y[:, None], columns, axis=1), np.repeat(scores[:, None], columns, axis=1)


def probe_batches(settings: CheckSettings) -> list[Batch]:
    """The small dataset in the first fixed partition's batches (3 + 8 + 1, the first with no positive), with its
    per-sample weights: data on which the usual wrong readings of a score (and of its weights) all differ."""
    import numpy as np

    y, scores = _dataset(settings)
    weights = np.asarray(SAMPLE_WEIGHTS, np.float32)
    return [Batch(y[index], scores[index], weights[index]) for index in FULL[0].batches()]


def _dataset(settings: CheckSettings):
    """The small adversarial dataset of the task, as (N, C) float32 arrays."""
    import numpy as np

    sem = settings.semantics
    threshold = sem.threshold
    labels = np.asarray([label for label, _ in BINARY], np.float32)
    scores = np.asarray([threshold if s == "T" else s for _, s in BINARY], np.float32)
    if sem.task == "binary":
        return labels[:, None], scores[:, None]
    columns = sem.columns
    if sem.task == "multilabel":  # column j is the binary column turned by 3j samples (column 0 keeps the negative batch)
        return (np.stack([np.roll(labels, 3 * j) for j in range(columns)], axis=1),
                np.stack([np.roll(scores, 3 * j) for j in range(columns)], axis=1))
    return _multiclass(columns, settings.multiclass_scores)


def _multiclass(columns: int, kind: str):
    """12 one-hot rows over ``columns`` classes and softmax-like scores.

    Samples 0-2 are class 0, predicted confidently (a batch where the other
    classes are absent); one row's top class is right but below 0.5 (three or
    more classes); some rows are wrong.  ``softmax-ties`` adds an exact tie
    between the top two classes; ``independent`` scores each class apart
    (rows do not sum to 1).
    """
    import numpy as np

    truth = [0, 0, 0, 1, 2 % columns, 1, 0, 2 % columns, 1, 0, 1, 2 % columns]
    # (predicted class, its probability): confident right, right but unsure, or wrong.
    top = [(0, 0.8), (0, 0.7), (0, 0.9), (1, 0.8), (2 % columns, 0.6), (1, 0.45 if columns > 2 else 0.55),
           (1, 0.7), (2 % columns, 0.85), (0, 0.6), (0, 0.75), (1, 0.9), (1, 0.65)]
    scores = np.zeros((12, columns), np.float64)
    for row, (cls, p) in enumerate(top):
        rest = (1 - p) / (columns - 1)
        # the other classes share the rest unevenly (no exact tie among them either)
        weights = np.arange(columns - 1, 0, -1, dtype=np.float64)
        shares = rest * (columns - 1) * weights / weights.sum()
        others = [c for c in range(columns) if c != cls]
        scores[row, cls] = p
        scores[row, others] = shares
        if scores[row, others].max() >= p:  # keep the top class on top
            scores[row, others] = (1 - p) / (columns - 1)
    if kind == "softmax-ties":
        scores[8] = 0.0
        scores[8, [0, 1]] = 0.5  # row 8 (class 1): classes 0 and 1 tie; the first argmax, class 0, wins
    elif kind == "independent":
        scores = np.clip(scores * 1.3 + 0.05, 0, 1)  # per-class scores in [0, 1] that do not sum to 1
    y = np.eye(columns, dtype=np.float32)[truth]
    return y, scores.astype(np.float32)


def _partitions_of(y, settings: CheckSettings, mode: Mode) -> tuple[Partition, ...]:
    """Telling partitions of the user's data: a first batch of true negatives, a one-sample last batch, a remainder."""
    import numpy as np

    r = settings.replicas
    units = len(y) // r
    if units < 2:
        return ()
    if mode.drops_remainder:
        size = max(1, units // 3) if units >= 4 else 1
        if units % size == 0 and size > 1:
            size -= 1
        return tuple(p.scaled(r) for p in (Partition.floor_steps(units, size), Partition.floor_steps(units, max(1, units // 2))))
    if r == 1 and settings.semantics.task != "multiclass":
        negative = np.flatnonzero(y.reshape(len(y), -1).max(axis=1) == 0)
        if 1 <= len(negative) < units - 1:
            first = min(len(negative), max(1, units // 4))
            order = np.concatenate([negative, np.setdiff1d(np.arange(units), negative)])
            uneven = Partition([first, units - first - 1, 1], order=order.tolist()) if units - first > 1 else None
        else:
            uneven = Partition([units - 1, 1])
    else:
        uneven = Partition([units - 1, 1]).scaled(r)
    size = max(1, units // 3)
    candidates = [uneven, Partition.floor_steps(units, size).scaled(r) if units % size else None,
                  Partition.shuffled([units // 2, units - units // 2], order_seed=1).scaled(r)]
    return tuple(p for p in candidates if p is not None)
