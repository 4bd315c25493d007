"""Candidates: examples judged without the loop, so the search can look at thousands.

A candidate is data, a partition and a feed.  The subject's own code is fed
the candidate's batches directly: a metric's ``update_state``/``result`` (many
candidates per compiled call on TensorFlow), a callback's companion metrics
the same way and then the callback's ``on_epoch_end`` on the logs they make,
or a callback that scores its data itself called with a model that outputs
the candidate's scores.  The reference comes from confusion counts and the
judge is :func:`f1check.verdict.judge`, the same rule as for examples run
through the loop.  Nothing here is a verdict: the search runs what it finds
through the real loop.
"""

from __future__ import annotations

import contextlib
import functools
import math
import tempfile
from dataclasses import dataclass
from typing import Any

from . import adversarial, backend, feeds, strategies, verdict
from .diagnosis import nan_error
from .drivers import FIT_EPOCHS, Driver
from .errors import F1CheckError
from .partitions import Partition
from .reference import Confusion
from .replay import CompiledReplay, eager_replay
from .settings import CheckSettings
from .subjects import CallbackSubject, CarriedState, MetricSubject, log_key

DEFAULT_CLASSES = 3  # columns of fuzzed multiclass/multilabel data when classes is not given


@dataclass
class Candidate:
    """Data, a partition and a feed: one example to judge."""

    y: Any
    scores: Any
    partition: Partition
    feed: str


@dataclass
class Judged:
    """A candidate judged without the loop."""

    candidate: Candidate
    replayed: float
    f1_seen: float
    f1_all: float
    verdict: verdict.Verdict

    @property
    def partition(self) -> Partition:
        return self.candidate.partition

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    def badness(self) -> float:
        return self.verdict.badness


def sample_batch(settings: CheckSettings, fixed):
    """A small ``(y_true, y_pred)`` batch to build metrics with before tracing."""
    import numpy as np

    if fixed is not None:
        return fixed[0][:2], fixed[1][:2]
    sem = settings.semantics
    columns = 1 if sem.task == "binary" else sem.classes or DEFAULT_CLASSES
    y = np.eye(columns, dtype=np.float32)[[0, -1]] if columns > 1 else np.asarray([[1.0], [0.0]], np.float32)
    return y, np.clip(y * 0.8 + 0.1, 0, 1).astype(np.float32)


class Replayer:
    """Judges candidates of one subject in one mode by replay; ``None`` from :meth:`build` where it cannot."""

    def __init__(self, subject, mode: str, settings: CheckSettings, columns: int, carried: CarriedState | None):
        self.subject, self.mode, self.settings, self.columns = subject, mode, settings, columns
        self.metrics = [subject] if isinstance(subject, MetricSubject) else list(subject.metrics)
        self.clean = carried is None
        self.compiled: CompiledReplay | None = None
        self.model_driver: Driver | None = None  # a fixed-score model, for callbacks (made or borrowed when needed)
        self._fixed_confusion = None

    @classmethod
    def build(cls, subject, mode: str, settings: CheckSettings, columns: int, carried, sample,
              loop_driver: Driver | None = None) -> Replayer | None:
        """``loop_driver`` is the real loop's, whose fixed-score model (evaluate mode) callbacks may borrow."""
        if settings.replicas > 1:
            return None  # each replica computes on its share of a batch: whole-batch replay is not what runs
        replayer = cls(subject, mode, settings, columns, carried)
        if replayer.metrics and replayer.clean:
            replayer.compiled = CompiledReplay.shared(replayer.metrics, sample)
        if isinstance(subject, CallbackSubject):
            borrow = mode == "evaluate" and loop_driver is not None
            replayer.model_driver = loop_driver if borrow else Driver(subject, "evaluate", settings.semantics, columns)
        return replayer

    @property
    def costly(self) -> bool:
        """Each candidate costs a model call (a callback that predicts) or eager updates: shrink on a small budget."""
        scores_itself = isinstance(self.subject, CallbackSubject) and self.subject.scores_itself
        return scores_itself or (bool(self.metrics) and self.compiled is None)

    @property
    def epochs(self) -> int:
        """Epochs to replay: one for a clean metric (Keras resets it), as many as the loop runs otherwise."""
        if self.clean and isinstance(self.subject, MetricSubject):
            return 1
        if self.mode == "evaluate":
            return 1
        return 2 * FIT_EPOCHS if self.mode.startswith("validation") else FIT_EPOCHS

    # -- judging ----------------------------------------------------------------------------------------------

    def judge(self, candidates: list[Candidate], fixed=None) -> list[Judged]:
        fed = []
        for c in candidates:
            p = c.partition
            index = p.indices()[: p.fed] if p.shuffled_order or p.dropped else slice(0, p.fed)
            fed.append((c.y[index], c.scores[index], p.batch_sizes))
        values = self._metric_values(fed)
        if isinstance(self.subject, MetricSubject):
            replayed = [[float(v)] for v in values[:, 0]]
        else:
            replayed = [self._callback_values(c, values[k] if values is not None else ()) for k, c in enumerate(candidates)]
        return [self._judged(c, v, fixed) for c, v in zip(candidates, replayed)]

    def _metric_values(self, fed):
        if not self.metrics:
            return None
        if self.compiled is not None:
            return self.compiled(fed)
        return eager_replay(self.metrics, fed, self.epochs)

    def _callback_values(self, candidate: Candidate, companion_values) -> list[float]:
        """The callback's value for each epoch the loop would run, on the logs its companions make."""
        subject: CallbackSubject = self.subject
        y, scores = candidate.y, candidate.scores
        harness = self.model_driver.model_for(len(y), candidate.partition.steps)
        inputs = harness.load(scores)
        harness.tap.switch(False)
        prefix = "val_" if self.mode.startswith("validation") else ""
        logs = {"loss": 0.0, **({"val_loss": 0.0} if prefix else {})}  # what a real loop's logs hold besides
        for metric, value in zip(subject.metrics, companion_values):
            logs[prefix + log_key(metric.fresh())] = float(value)
        epochs = 1 if self.mode == "evaluate" else FIT_EPOCHS
        with backend.quiet():
            values = subject.replay_epochs([logs] * epochs, harness.model, inputs, y)
        if any(math.isnan(v) for v in values):
            raise NoReplay(f"replayed outside the loop, {subject.label} wrote no logs[{subject.key!r}]")
        return values

    def _judged(self, candidate: Candidate, replayed: list[float], fixed) -> Judged:
        """The worst of the candidate's replayed epochs, judged on counts."""
        p = candidate.partition
        if isinstance(self.subject, MetricSubject) and any(math.isnan(v) for v in replayed):
            raise nan_error(self.subject.label, p, [(candidate.y[b], candidate.scores[b]) for b in p.batches()],
                            self.settings.semantics)
        confusion = self._confusion(candidate, fixed)
        f1_all = confusion.all
        scores_itself = isinstance(self.subject, CallbackSubject) and self.subject.scores_itself
        f1_seen = f1_all if scores_itself else confusion.fed(p.indices(), p.fed)
        rule = self.settings
        judged = [verdict.judge(v, f1_seen, f1_all, rule.judge, rule.tolerance) for v in replayed]
        worst = max(range(len(judged)), key=lambda e: judged[e].badness)
        return Judged(candidate, replayed[worst], f1_seen, f1_all, judged[worst])

    def _confusion(self, candidate: Candidate, fixed) -> Confusion:
        """Confusion indicators of the data; computed once when the data is fixed."""
        if fixed is not None and candidate.y is fixed[0]:
            if self._fixed_confusion is None:
                self._fixed_confusion = Confusion(fixed[0], fixed[1], self.settings.semantics)
            return self._fixed_confusion
        return Confusion(candidate.y, candidate.scores, self.settings.semantics)


class NoReplay(F1CheckError):
    """The subject cannot be judged outside the loop (the loop itself will be used)."""


# -- drawing candidates ----------------------------------------------------------------------------------


def cases(settings: CheckSettings, mode: str, kinds: tuple[str, ...], fixed=None, explicit=None, *,
          max_batches: int, max_size: int | None = None):
    """A strategy of :class:`Candidate`: one example of a check, to judge.

    The feed (how data reaches the loop) is drawn first, and the partition to
    suit it: feeds that cut equal batches get uniform partitions; dropped
    modes get the floor-steps form, the remainder never fed.  Under replicas
    every batch is a multiple of the replica count.  Built from strategies
    made once per size (drawing is the search's main cost).
    """
    from hypothesis import strategies as st

    replicas = settings.replicas
    drop = True if mode.endswith("-dropped") else (False if adversarial.feeds_everything(settings, mode) else None)
    data = _data_strategy(settings, max_size or strategies.LARGEST)
    feed = st.sampled_from(kinds)

    def partition_of(draw, n, kind):
        return draw(_partitions_for(n // replicas, kind in feeds.UNIFORM_FEEDS, drop, max_batches)).scaled(replicas)

    @st.composite
    def fuzzed(draw):
        y, s = draw(data)
        if replicas > 1:  # whole multiples of the replicas: batches split evenly
            keep = max(replicas, len(y) - len(y) % replicas)
            y, s = y[:keep], s[:keep]
        kind = draw(feed)
        return Candidate(y, s, partition_of(draw, len(y), kind), kind)

    @st.composite
    def over_fixed(draw):
        kind = draw(feed)
        return Candidate(fixed[0], fixed[1], partition_of(draw, len(fixed[0]), kind), kind)

    @st.composite
    def over_explicit(draw):
        p = draw(st.sampled_from(explicit))
        kind = draw(st.sampled_from([k for k in kinds if feeds.fits(k, p)] or ["pydataset"]))
        y, s = draw(_data_strategy(settings, p.n, p.n))
        return Candidate(y, s, p, kind)

    if fixed is not None:
        return over_fixed()
    if explicit is not None:
        return over_explicit()
    return fuzzed()


@functools.lru_cache(maxsize=4096)
def _partitions_for(n: int, uniform: bool, drop: bool | None, max_batches: int):
    if uniform:
        return strategies.uniform_partitions(n, drop=bool(drop), max_batches=max_batches)
    return strategies.partitions(n, max_batches=max_batches, drop=drop)


def _data_strategy(settings: CheckSettings, max_size: int, min_size: int = 1):
    replicas = settings.replicas
    return _data_cached(settings.semantics, settings.multiclass_scores, max(min_size, replicas), max(max_size, replicas))


@functools.lru_cache(maxsize=256)
def _data_cached(semantics, multiclass_scores: str, min_size: int, max_size: int):
    return strategies.data_for(CheckSettings(semantics=semantics, multiclass_scores=multiclass_scores), min_size=min_size,
                    max_size=max_size)


@contextlib.contextmanager
def private_storage():
    """Point hypothesis's storage directory at a temporary one while f1check searches.

    f1check keeps no example database, but hypothesis may still write caches
    under ``./.hypothesis``; in the user's repository that would be litter.
    The user's own setting comes back afterwards.
    """
    from hypothesis import configuration

    name = "__hypothesis_home_directory"
    before = getattr(configuration, name, None)
    with tempfile.TemporaryDirectory(prefix="f1check-hypothesis-") as directory:
        configuration.set_hypothesis_home_dir(directory)
        try:
            yield
        finally:
            setattr(configuration, name, before)
