"""Examples -> verdicts -> a Report: the core API, usable without pytest."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import backend, drivers, options, reference
from .data import validate
from .errors import ConfigError, F1CheckFailure, PartitionError, SubjectError
from .partitions import Partition
from .reference import Attribution
from .subjects import CallbackSubject, MetricSubject, resolve

__all__ = ["Example", "Report", "Result", "assert_f1", "check"]

# A per-batch-mean F1 computed by Keras in float32 with an epsilon differs from
# sklearn's float64 by ~1e-7; 1e-5 recognises it without false matches.
SAME_VALUE = 1e-5


@dataclass
class Example:
    """One run of the subject over one partition, and its verdict."""

    reported: float
    replayed: float
    f1_seen: float
    f1_all: float
    error: Attribution
    partition: Partition
    judged_error: float
    passed: bool
    mode: str = "evaluate"
    judge: str = "seen"
    epoch: int = 0  # the worst epoch (0-based); fit modes judge every epoch
    epochs: int = 1
    feed: str = "pydataset"  # how the data reached the loop (f1check.feeds)
    replicas: int = 1  # replicas of the data-parallel loop (tf.distribute.MirroredStrategy when > 1)
    fed_batch_sizes: tuple[int, ...] = ()
    diagnosis: tuple[str, ...] = ()
    y_true: Any = field(default=None, repr=False)
    scores: Any = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return self.partition.n

    @property
    def batch_sizes(self) -> list[int]:
        return list(self.partition.batch_sizes)

    @property
    def dropped(self) -> int:
        return self.partition.dropped

    @property
    def order_seed(self) -> int | None:
        return self.partition.order_seed

    @property
    def blame(self) -> str:
        """The error term that dominates what the judge bounds."""
        return self.error.dominant(self.judge)

    def badness(self) -> float:
        """How wrong the example is, NaN counted as worst."""
        return math.inf if math.isnan(self.judged_error) else abs(self.judged_error)

    def to_json(self) -> dict:
        from .reference import _json_float

        return {
            "reported": _json_float(self.reported),
            "replayed": _json_float(self.replayed),
            "f1_seen": _json_float(self.f1_seen),
            "f1_all": _json_float(self.f1_all),
            "n": self.n,
            "batch_sizes": self.batch_sizes,
            "dropped": self.dropped,
            "order_seed": self.order_seed,
            "epoch": self.epoch + 1,
            "feed": self.feed,
            **({"replicas": self.replicas} if self.replicas > 1 else {}),
            "error": self.error.to_json(),
        }


@dataclass
class Result:
    """All examples of one subject in one mode."""

    target: str
    mode: str
    passed: bool
    examples: int
    tolerance: float
    judge: str
    worst: Example | None
    counterexample: Example | None
    runs: list[Example] = field(default_factory=list, repr=False)  # every example run through the real loop

    @property
    def max_abs_error(self) -> float:
        return self.worst.badness() if self.worst is not None else 0.0

    def to_json(self) -> dict:
        from .reference import _json_float

        return {
            "target": self.target,
            "mode": self.mode,
            "passed": self.passed,
            "examples": self.examples,
            "tolerance": self.tolerance,
            "max_abs_error": _json_float(self.max_abs_error),
            "worst": self.worst.to_json() if self.worst else None,
            "counterexample": self.counterexample.to_json() if self.counterexample else None,
        }


@dataclass
class Report:
    """What :func:`check` found: one :class:`Result` per mode."""

    results: list[Result]
    environment: backend.Environment
    call_args: list[str] = field(default_factory=list)  # assert_f1 arguments that repeat the check
    explicit_data: bool = False
    explicit_partitions: bool = False

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def __str__(self) -> str:
        from .report import render_report

        return render_report(self)

    def to_json(self) -> dict:
        return {
            "version": 1,
            "environment": self.environment.to_json(),
            "results": [r.to_json() for r in self.results],
        }


def check(
    subject: Any,
    *,
    modes: Sequence[str] = ("evaluate",),
    tolerance: float = options.DEFAULT_TOLERANCE,
    judge: str = "seen",
    task: str = "binary",
    classes: int | None = None,
    average: str | None = None,
    threshold: float = options.DEFAULT_THRESHOLD,
    zero_division: float | str = 0,
    data: tuple[Any, Any] | None = None,
    partitions: Iterable[Partition] | None = None,
    examples: int = options.DEFAULT_EXAMPLES,
    seed: int | None = None,
    callback_key: str | None = None,
    callback_metrics: Sequence[Any] = (),
    feeds: Sequence[str] | None = None,
    replicas: int = 1,
) -> Report:
    """Check that ``subject`` logs the F1 sklearn gives, through real Keras loops.

    Returns a :class:`Report`; raises an :class:`~f1check.F1CheckError` for
    bad input (arguments, data, partitions, or a subject that raises, returns
    NaN or never reports).  ``feeds`` picks how data reaches the loop (see
    :mod:`f1check.feeds`); by default the search draws every feed the mode
    can use, and explicit partitions go through a ``PyDataset``.  ``replicas``
    > 1 runs the loops under a ``tf.distribute.MirroredStrategy`` over that
    many devices (GPUs, or logical CPUs), TensorFlow backend only; every batch
    size must then be a multiple of ``replicas``.
    """
    from . import feeds as feed_kinds

    settings = _Settings(
        modes=options.modes(modes),
        tolerance=options.tolerance(tolerance),
        judge=options.judge(judge),
        semantics=options.semantics(
            task_name=task,
            class_count=classes,
            average_name=average,
            threshold_value=threshold,
            zero_division_value=zero_division,
        ),
        examples=options.positive_int("examples", examples, "the examples= argument"),
        seed=options.seed(seed),
        feeds=feed_kinds.validate(feeds),
        replicas=options.positive_int("replicas", replicas, "the replicas= argument"),
    )
    fixed = None
    if data is not None:
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ConfigError("data must be a pair (y_true, scores) of arrays.")
        y, s, columns = validate(data[0], data[1], settings.semantics)
        fixed = (y, s)
        settings.semantics = _with_classes(settings.semantics, columns)
    explicit = _partitions(partitions, fixed)
    if fixed is not None and len(fixed[0]) % settings.replicas:
        raise ConfigError(
            f"replicas={settings.replicas}: the data has {len(fixed[0])} samples, not a multiple of "
            f"{settings.replicas}, so some batch could not split evenly over the replicas (Keras fails there): "
            "give a multiple, or replicas=1."
        )
    if explicit is not None and settings.replicas > 1:
        for p in explicit:
            drivers.check_replicable(p, settings.replicas)
    target = resolve(subject, callback_key=callback_key, callback_metrics=callback_metrics)
    if settings.replicas > 1:
        backend.replica_strategy(settings.replicas)  # before anything starts TensorFlow's devices
    backend.seed_everything(settings.seed)
    environment = backend.environment(settings.seed)
    results = [_run_mode(target, mode, settings, fixed, explicit) for mode in settings.modes]
    return Report(
        results=results,
        environment=environment,
        call_args=_call_args(target, settings),
        explicit_data=fixed is not None,
        explicit_partitions=explicit is not None,
    )


def assert_f1(subject: Any, **kwargs) -> Report:
    """:func:`check`, raising :class:`F1CheckFailure` with the full diagnosis if it fails."""
    __tracebackhide__ = True
    report = check(subject, **kwargs)
    if not report.passed:
        from .report import failure_message

        raise F1CheckFailure(failure_message(report), report=report)
    return report


@dataclass
class _Settings:
    modes: tuple[str, ...]
    tolerance: float
    judge: str
    semantics: options.Semantics
    examples: int
    seed: int
    feeds: tuple[str, ...] | None = None
    replicas: int = 1


def _with_classes(semantics: options.Semantics, columns: int) -> options.Semantics:
    from dataclasses import replace

    return replace(semantics, classes=columns)


def _partitions(partitions, fixed) -> list[Partition] | None:
    if partitions is None:
        return None
    if isinstance(partitions, Partition):
        partitions = [partitions]
    out = list(partitions)
    if not out:
        raise PartitionError("partitions is empty: give at least one f1check.Partition, or None to draw them.")
    for p in out:
        if not isinstance(p, Partition):
            raise PartitionError(
                f"partitions must hold f1check.Partition values, got {type(p).__name__}: "
                "write f1check.Partition(batch_sizes=[...])."
            )
        if fixed is not None:
            p.check_fits(len(fixed[0]))
    return out


def _run_mode(target, mode: str, settings: _Settings, fixed, explicit) -> Result:
    if fixed is not None and explicit is not None:
        return _run_explicit(target, mode, settings, fixed, explicit)
    from functools import partial

    from .search import Search

    return Search(target, mode, settings, fixed, explicit, partial(run_example, replicas=settings.replicas)).run()


def _run_explicit(target, mode: str, settings: _Settings, fixed, explicit) -> Result:
    """Given data and partitions: every example (each feed that fits) through the real loop, nothing drawn."""
    from . import feeds

    y, s = fixed
    kinds = settings.feeds or ("pydataset",)
    found = [
        run_example(target, y, s, partition, settings.semantics, mode, settings.judge, settings.tolerance, kind,
                    replicas=settings.replicas)
        for partition in explicit
        for kind in kinds
        if feeds.fits(kind, partition) and kind in feeds.feeds_for(mode, backend.keras().backend.backend())
    ]
    if not found:
        raise ConfigError(
            f"none of feeds={list(kinds)} can feed these partitions in mode {mode!r}: uniform feeds (numpy, "
            "tf.data) need equal batches and a smaller last one; generator-no-steps is evaluate-only."
        )
    failures = [e for e in found if not e.passed]
    return Result(
        target=target.label,
        mode=mode,
        passed=not failures,
        examples=len(found),
        tolerance=settings.tolerance,
        judge=settings.judge,
        worst=max(found, key=Example.badness),
        counterexample=min(failures, key=lambda e: (e.n, e.partition.steps, e.dropped), default=None),
        runs=found,
    )


def run_example(target, y, scores, partition: Partition, semantics, mode: str, judge: str, tolerance: float,
                feed: str = "pydataset", replicas: int = 1) -> Example:
    """Drive one partition through the real loop, replay it, and judge every epoch against sklearn.

    The example is its worst epoch (the first, in evaluate mode); it passes
    only if every epoch does.
    """
    partition.check_fits(len(y))
    observation = drivers.observe(target, y, scores, partition, semantics, mode, feed, replicas)
    epochs = observation.epochs
    batches = [e.batches for e in epochs]
    if isinstance(target, CallbackSubject):
        weights = [e.weights for e in epochs]
        replayed = target.replay_epochs(batches, observation.model, observation.inputs, y, weights)
    else:
        replayed = target.replay_epochs(batches)
    for e, value in enumerate(replayed):
        if math.isnan(value):
            raise SubjectError(
                f"{target.label} returned NaN when fed {partition.short()} directly. "
                f"{describe_batches(epochs[e].batches, semantics)} A 0/0 on a batch without positives is the usual "
                "cause: guard divisions with keras.config.epsilon() (K.epsilon() in tf.keras), or return 0 there."
            )
    judged_epochs = [
        _judge_epoch(target, y, epoch, value, semantics, judge, tolerance) for epoch, value in zip(epochs, replayed)
    ]
    worst = max(range(len(epochs)), key=lambda e: _badness(judged_epochs[e][4]))
    f1_seen, f1_all, f1_fed_end, error, judged = judged_epochs[worst]
    epoch = epochs[worst]
    example = Example(
        reported=epoch.reported,
        replayed=replayed[worst],
        f1_seen=f1_seen,
        f1_all=f1_all,
        error=error,
        partition=partition,
        judged_error=judged,
        passed=all(not math.isnan(j[4]) and abs(j[4]) <= tolerance + 1e-12 for j in judged_epochs),
        mode=mode,
        judge=judge,
        epoch=worst,
        epochs=len(epochs),
        feed=feed,
        replicas=replicas,
        fed_batch_sizes=tuple(epoch.batch_sizes),
        y_true=y,
        scores=scores,
    )
    example.diagnosis = tuple(diagnose(example, observation, target, semantics, tolerance, judged_epochs))
    return example


def _badness(judged: float) -> float:
    return math.inf if math.isnan(judged) else abs(judged)


def _judge_epoch(target, y, epoch, replayed: float, semantics, judge: str, tolerance: float):
    """``(f1_seen, f1_all, f1_fed_end, attribution, judged error)`` of one epoch."""
    import numpy as np

    f1_all = reference.f1(y, epoch.end_scores, semantics)
    if isinstance(target, CallbackSubject) and target.scores_itself:
        f1_seen = f1_fed_end = f1_all
    else:
        fed_y = np.concatenate([b[0] for b in epoch.batches])
        fed_scores = np.concatenate([b[1] for b in epoch.batches])
        f1_seen = reference.f1(fed_y, fed_scores, semantics)
        index = epoch.fed_indices
        f1_fed_end = reference.f1(y[index], epoch.end_scores[index], semantics)
    error = reference.attribute(epoch.reported, replayed, f1_seen, f1_fed_end, f1_all)
    judged = epoch.reported - f1_seen
    if judge == "total" and not abs(epoch.reported - f1_all) <= abs(judged):
        judged = epoch.reported - f1_all
    return f1_seen, f1_all, f1_fed_end, error, judged


def diagnose(example: Example, observation, target, semantics, tolerance: float, judged_epochs=()) -> list[str]:
    """Plain-words reasons for an example's error, most specific first."""
    from . import feeds

    notes = []
    epoch = observation.epochs[example.epoch]
    if tuple(example.partition.batch_sizes) != example.fed_batch_sizes:
        notes.append(
            f"the loop fed batches of {list(example.fed_batch_sizes)}, not the partition's "
            f"{example.batch_sizes}."
        )
    if example.passed:
        return notes
    where = f" in epoch {example.epoch + 1} of {example.epochs}" if example.epochs > 1 else ""
    if math.isnan(example.reported):
        notes.append(f"the Keras loop logged NaN{where} although the subject, fed the same batches directly, did not.")
        return notes
    term = example.blame
    steps = len(epoch.batches)
    if abs(example.error.loop) > tolerance:
        phantom = example.replayed * steps / (steps + 1)
        if steps and abs(example.reported - phantom) <= SAME_VALUE:
            notes.append(
                f"loop error: the Keras loop averaged over {steps + 1} steps but fed {steps}{where}, a phantom step. "
                f"Fed {feeds.describe(example.feed)}, Keras (TensorFlow backend) counts one step more than it "
                "runs for every mean-reduced metric; pass steps= (steps_per_epoch= in fit), or use a stateful "
                "metric, which is not affected."
            )
        elif example.replicas > 1:
            r = example.replicas
            shards = [(y[k * len(y) // r:(k + 1) * len(y) // r], s[k * len(s) // r:(k + 1) * len(s) // r])
                      for y, s in epoch.batches for k in range(r)]
            per_shard = reference.batch_mean_f1(shards, semantics)
            how = (f"the mean of sklearn's F1 over each replica's share of every batch ({len(shards)} shares) is "
                   f"{per_shard:.6f}, which is what was logged" if abs(example.reported - per_shard) <= SAME_VALUE
                   else "each replica updates its own copy of the metric on its share of every batch, and the "
                   "copies are merged across replicas")
            notes.append(
                f"loop error: under {r} replicas the Keras loop logged {example.reported:.6f}{where}, but the subject "
                f"fed the same whole batches directly gives {example.replayed:.6f}: {how}. A stateful metric whose "
                "variables are sums of counts survives the merge across replicas; a per-batch value does not."
            )
        else:
            notes.append(
                f"loop error: the Keras loop logged a different value{where} from what the subject computes when fed the same "
                f"batches directly ({example.reported:.6f} vs {example.replayed:.6f}), fed {feeds.describe(example.feed)}."
            )
    if isinstance(target, MetricSubject) or (isinstance(target, CallbackSubject) and not target.scores_itself):
        per_batch = reference.batch_mean_f1(epoch.batches, semantics)
        if steps > 1 and abs(example.replayed - per_batch) <= SAME_VALUE and term == "aggregation":
            notes.append(
                f"the subject averages per-batch F1: the mean of sklearn's F1 over the {steps} fed batches{where} is "
                f"{per_batch:.6f}, which is what was logged. F1 does not decompose over batches; accumulate counts in "
                "a stateful metric instead."
            )
    if isinstance(target, MetricSubject) and example.epoch > 0 and term == "aggregation":
        fresh = target.replay(epoch.batches)
        if abs(fresh - example.f1_seen) <= tolerance:
            notes.append(
                f"the metric does not reset between epochs: epoch {example.epoch + 1} replayed on a fresh instance "
                f"gives {fresh:.6f}, as sklearn does, but after reset_state() following epoch {example.epoch} it "
                "gives what was logged. reset_state must zero every accumulator."
            )
    if term == "coverage" and abs(example.error.coverage) > tolerance:
        notes.append(
            f"{example.dropped} samples were never fed (a dropped remainder); sklearn on all samples differs by "
            f"{example.error.coverage:+.6f}. The subject is right about what it saw."
        )
    elif term == "drift" and abs(example.error.drift) > tolerance:
        notes.append(
            f"the weights moved during the epoch: the logged F1 is of training-time predictions, sklearn on the "
            f"end-of-epoch model's predictions of the same samples differs by {-example.error.drift:+.6f}."
        )
    elif term == "aggregation" and not notes:
        if isinstance(target, CallbackSubject) and target.scores_itself:
            notes.append(f"the callback's F1{where} differs from sklearn's on the data it was given.")
        else:
            notes.append(f"the subject itself computes a different F1{where} from sklearn's on the samples it was fed.")
    return notes


def describe_batches(batches, semantics, limit: int = 4) -> str:
    import numpy as np

    parts = []
    for k, (y, s) in enumerate(batches[:limit]):
        positives = int(np.sum(reference.true_labels(y, semantics) > 0)) if semantics.task != "multiclass" else None
        predicted = int(np.sum(reference.predicted_labels(s, semantics) > 0)) if semantics.task != "multiclass" else None
        if positives is None:
            parts.append(f"batch {k}: {len(y)} samples")
        else:
            parts.append(f"batch {k}: {len(y)} samples, {positives} positive, {predicted} predicted positive")
    more = f" (and {len(batches) - limit} more)" if len(batches) > limit else ""
    return "; ".join(parts) + more + "."


def _call_args(target, settings: _Settings) -> list[str]:
    """The arguments of an ``assert_f1`` call that repeats this check, or [] if the subject has no name."""
    if ":" not in target.label or "<" in target.label:
        return []
    args = [repr(target.label), f"modes={list(settings.modes)!r}", f"seed={settings.seed}"]
    if settings.tolerance != options.DEFAULT_TOLERANCE:
        args.append(f"tolerance={settings.tolerance!r}")
    if settings.judge != "seen":
        args.append(f"judge={settings.judge!r}")
    if settings.replicas > 1:
        args.append(f"replicas={settings.replicas}")
    sem, default = settings.semantics, options.semantics(task_name=settings.semantics.task)
    if sem.task != "binary":
        args.append(f"task={sem.task!r}")
    for name in ("average", "threshold", "zero_division"):
        if getattr(sem, name) != getattr(default, name):
            args.append(f"{name}={getattr(sem, name)!r}")
    if isinstance(target, CallbackSubject):
        args.append(f"callback_key={target.key!r}")
        if target.metrics:
            args.append(f"callback_metrics={[m.label for m in target.metrics]!r}")
    return args
