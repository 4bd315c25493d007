"""Candidates: examples judged without the loop, so the search can look at thousands.

A candidate is data, a partition and the loop's settings.  The subject's own
code is fed the candidate's batches directly: a metric's
``update_state``/``result`` (many candidates per compiled call on
TensorFlow), a callback's companion metrics the same way and then the
callback's ``on_epoch_end`` on the logs they make, or a callback that scores
its data itself called with a model that outputs the candidate's scores.  The
reference comes from confusion counts and the verdict is
:func:`f1check.core.verdict.decide`, the same rule as for examples run through the
loop.  Nothing here is a verdict: the search runs what it finds through the
real loop.
"""

from __future__ import annotations

import contextlib
import functools
import math
import tempfile
from dataclasses import dataclass
from typing import Any

from .. import strategies
from ..core import backend, timeouts, verdict
from ..core.errors import F1CheckError
from ..core.partitions import Partition
from ..core.settings import CheckSettings, Semantics
from ..core.weights import NONE, Batch, Weights, WeightsKind
from ..judging.reference import Confusion
from ..loops import LoopSettings, Run
from ..loops.drivers import Driver, fed_as
from ..loops.replay import CompiledReplay, eager_replay
from ..subjects import ReplayScene, log_key
from ..subjects.context import CheckContext
from .adversarial import feeds_everything


@dataclass
class Candidate:
    """Data, a partition, the loop's settings and the weights it is given: one example to judge."""

    y: Any
    scores: Any
    partition: Partition
    loop: LoopSettings = LoopSettings()
    weights: Weights = NONE

    def run(self) -> Run:
        return Run(self.partition, self.loop, self.weights)


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


class NoReplay(F1CheckError):
    """The subject cannot be judged outside the loop (the loop itself will be used)."""


def sample_batch(context: CheckContext):
    """A small ``(y_true, y_pred)`` batch to build metrics with before tracing."""
    import numpy as np

    if context.data is not None:
        return context.data[0][:2], context.data[1][:2]
    columns = context.columns
    y = np.eye(columns, dtype=np.float32)[[0, -1]] if columns > 1 else np.asarray([[1.0], [0.0]], np.float32)
    return y, np.clip(y * 0.8 + 0.1, 0, 1).astype(np.float32)


class Replayer:
    """Judges candidates of one subject in one mode by replay.

    Args:
        context: the subject, mode and settings.
        driver: the real loop's driver, whose fixed-score model (evaluate mode) a callback that predicts borrows;
            in other modes such a callback gets a driver of its own.
    """

    def __init__(self, context: CheckContext, driver: Driver):
        self.context, self.subject = context, context.subject
        self.metrics = list(self.subject.metrics)
        self.compiled_replay: CompiledReplay | None = None
        if self.metrics and context.clean:
            with timeouts.call("the subject's compiled replay being traced"):
                self.compiled_replay = CompiledReplay.shared(self.metrics, sample_batch(context))
        self.model_driver: Driver | None = None  # a fixed-score model, for callbacks
        if self.subject.needs_epoch_end:
            self.model_driver = driver if not context.mode.trains else Driver(context.fixed_scores())
        self._fixed_confusion = None

    @property
    def costly(self) -> bool:
        """Each candidate costs a model call (a callback that predicts) or eager updates: shrink on a small budget."""
        return self.subject.scores_itself or (bool(self.metrics) and self.compiled_replay is None)

    @property
    def epochs(self) -> int:
        """Metric passes to replay: one for a clean metric (Keras resets it), as many as the loop runs otherwise."""
        if self.context.clean and self.subject.direct is not None:
            return 1
        return self.context.mode.passes

    # -- judging ----------------------------------------------------------------------------------------------

    def assess(self, candidates: list[Candidate]) -> list[Judged]:
        fed = []
        task = self.context.semantics.task
        for c in candidates:
            p = c.partition
            index = p.indices()[: p.fed] if p.shuffled_order or p.dropped else slice(0, p.fed)
            carried = self._carried(c)
            labels, s = fed_as([Batch(c.y[index], c.scores[index])], c.loop, task)[0]  # as the loop hands them on
            fed.append((labels, s, p.batch_sizes, None if carried is None else carried[index]))
        values = self._metric_values(fed)
        if self.subject.direct is not None:
            replayed = [[float(v)] for v in values[:, 0]]
        else:
            replayed = [self._callback_values(c, values[k] if values is not None else ()) for k, c in enumerate(candidates)]
        return [self._judged(c, v) for c, v in zip(candidates, replayed)]

    def _metric_values(self, fed):
        import numpy as np

        if not self.metrics:
            return None
        if self.compiled_replay is None:
            return eager_replay(self.metrics, fed, self.epochs)
        groups: dict = {}  # one compiled call per form and dtype of the labels
        for k, example in enumerate(fed):
            groups.setdefault(self.compiled_replay.signature(example[0]), []).append(k)
        values = np.empty((len(fed), len(self.metrics)), np.float64)
        for rows in groups.values():
            values[rows] = self.compiled_replay([fed[k] for k in rows])
        return values

    def _callback_values(self, candidate: Candidate, companion_values) -> list[float]:
        """The callback's value for each epoch the loop would run, on the logs its companions make."""
        subject = self.subject
        y, scores = candidate.y, candidate.scores
        harness = self.model_driver.model_for(len(y), candidate.partition.steps)
        inputs = harness.quiet_model(scores)
        prefix = self.context.log_prefix
        logs = {"loss": 0.0, **({"val_loss": 0.0} if prefix else {})}  # what a real loop's logs hold besides
        for metric, value in zip(subject.metrics, companion_values):
            logs[prefix + log_key(metric.fresh())] = float(value)
        epochs = self.context.mode.epochs
        with backend.quiet():
            scene = ReplayScene([], harness.model, inputs, harness.callback_labels(y, candidate.loop),
                                sample_weight=self.context.callback_weights(y, candidate.weights))
            values = subject.replay_epochs([logs] * epochs, scene)
        if any(math.isnan(v) for v in values):
            raise NoReplay(f"replayed outside the loop, {subject.label} wrote no logs[{subject.key!r}]")
        return values

    def _judged(self, candidate: Candidate, replayed: list[float]) -> Judged:
        """The worst of the candidate's replayed epochs, judged on counts."""
        p = candidate.partition
        confusion = self._confusion(candidate, self._carried(candidate))
        f1_all = confusion.all
        f1_seen = f1_all if self.subject.scores_itself else confusion.fed(p.indices(), p.fed)
        settings = self.context.settings
        decided = [verdict.decide(v, f1_seen, f1_all, settings.judge, settings.tolerance) for v in replayed]
        worst = max(range(len(decided)), key=lambda e: decided[e].badness)
        return Judged(candidate, replayed[worst], f1_seen, f1_all, decided[worst])

    def _carried(self, candidate: Candidate):
        """The weight each sample carries in the judged pass (class weights weigh training passes only)."""
        return candidate.weights.per_sample(candidate.y, self.context.semantics.task, self.context.mode)

    def _confusion(self, candidate: Candidate, carried) -> Confusion:
        """Confusion indicators of the data; computed once when the data (and its weights) are fixed."""
        fixed = self.context.data
        if fixed is not None and candidate.y is fixed[0] and carried is None:
            if self._fixed_confusion is None:
                self._fixed_confusion = Confusion(fixed[0], fixed[1], self.context.semantics)
            return self._fixed_confusion
        return Confusion(candidate.y, candidate.scores, self.context.semantics, carried)


def replayer_for(context: CheckContext, driver: Driver) -> Replayer | None:
    """A replayer, or None where replay cannot stand for the loop: under replicas (each replica computes on its share
    of a batch, not on the whole batch), under compile settings other than Keras's defaults (16-bit predictions, an
    XLA program, several steps per call: every example runs the loop itself), or when both the data and the
    partitions are given (nothing to search)."""
    if context.replicas > 1 or (context.data is not None and context.partitions is not None):
        return None
    if not context.settings.plain_compile:
        return None
    return Replayer(context, driver)


# -- drawing candidates ----------------------------------------------------------------------------------


def cases(context: CheckContext, *, max_batches: int, max_size: int | None = None):
    """A strategy of :class:`Candidate`: one example of a check, to judge.

    The loop's settings (the feed) are drawn first, and the partition to
    suit them: feeds that cut equal batches get uniform partitions; dropped
    modes get the floor-steps form, the remainder never fed.  Under replicas
    every batch is a multiple of the replica count.  Built from strategies
    made once per size (drawing is the search's main cost).
    """
    from hypothesis import strategies as st

    settings, mode, fixed, explicit = context.settings, context.mode, context.data, context.partitions
    replicas = settings.replicas
    drop = True if mode.drops_remainder else (False if feeds_everything(settings, mode) else None)
    data = _data_strategy(settings, max_size or strategies.LARGEST)
    loops = _loops(context, context.feeds)

    def weights_of(draw, y, loop):
        return draw(_weights(loop.weights, len(y), settings.semantics.columns, context.inputs.weights))

    def partition_of(draw, n, loop):
        return draw(_partitions_for(n // replicas, loop.feed.uniform, drop, max_batches)).scaled(replicas)

    @st.composite
    def fuzzed(draw):
        y, s = draw(data)
        if replicas > 1:  # whole multiples of the replicas: batches split evenly
            keep = max(replicas, len(y) - len(y) % replicas)
            y, s = y[:keep], s[:keep]
        loop = draw(loops)
        return Candidate(y, s, partition_of(draw, len(y), loop), loop, weights_of(draw, y, loop))

    @st.composite
    def over_fixed(draw):
        loop = draw(loops)
        return Candidate(fixed[0], fixed[1], partition_of(draw, len(fixed[0]), loop), loop,
                         weights_of(draw, fixed[0], loop))

    @st.composite
    def over_explicit(draw):
        p = draw(st.sampled_from(explicit))
        loop = draw(_loops(context, tuple(f for f in context.feeds if f.fits(p)) or (LoopSettings().feed,)))
        y, s = draw(_data_strategy(settings, p.n, p.n))
        return Candidate(y, s, p, loop, weights_of(draw, y, loop))

    if fixed is not None:
        return over_fixed()
    if explicit is not None:
        return over_explicit()
    return fuzzed()


def _loops(context: CheckContext, feeds: tuple):
    """A strategy of :class:`LoopSettings` over ``feeds``: the feed, then a weight kind it carries (Keras refuses
    class_weight for a Python generator: such a pair is never drawn), then the compile settings.  Where no feed of
    ``feeds`` carries a kind, a PyDataset (which carries every kind and gives every partition)."""
    from hypothesis import strategies as st

    kinds = context.weight_kinds
    carrying = tuple(f for f in feeds if any(k.carried_by(f) for k in kinds)) or (LoopSettings().feed,)
    refusals = context.refusals
    # the labels' form and dtype, the first accepted pair first (where hypothesis shrinks to); a pair the subject
    # refuses is never drawn once it has refused it
    pairs = st.sampled_from(refusals.allowed).filter(refusals.accepts)

    compiled = compile_strategies(context.settings)
    # one strategy per feed, built once: a flatmap that built it per draw validated a new strategy every draw
    per_feed = {feed: st.builds(_loop_with, pairs, feed=st.just(feed),
                                weights=st.sampled_from([k for k in kinds if k.carried_by(feed)]), **compiled)
                for feed in carrying}
    return st.sampled_from(carrying).flatmap(per_feed.__getitem__)


def _loop_with(pair, **fields) -> LoopSettings:
    return LoopSettings(labels=pair[0], label_dtype=pair[1], **fields)


def compile_strategies(settings) -> dict:
    """Strategies of the compile settings, by :class:`LoopSettings` field; none under Keras's defaults, which the
    fields' defaults are (a default run draws nothing more)."""
    from hypothesis import strategies as st

    if settings.plain_compile:
        return {}
    return {"steps_per_execution": st.sampled_from(settings.steps_per_execution),
            "jit_compile": st.sampled_from(settings.jit_compile),
            "dtype_policy": st.sampled_from(settings.dtype_policies),
            "outputs": st.sampled_from(settings.output_kinds)}


def _weights(kind: WeightsKind, n: int, classes: int, given: Weights | None):
    """The weights of one example: the given ones where they are of this kind, else drawn."""
    from hypothesis import strategies as st

    if not kind.given:
        return st.just(NONE)
    if given is not None and given.kind is kind:
        return st.just(given)
    if kind.per_sample:
        return strategies.sample_weights(n).map(lambda w: Weights(sample=w))
    return strategies.class_weights(max(classes, 2)).map(lambda c: Weights(class_weight=c))


@functools.lru_cache(maxsize=4096)
def _partitions_for(n: int, uniform: bool, drop: bool | None, max_batches: int):
    if uniform:
        return strategies.uniform_partitions(n, drop=bool(drop), max_batches=max_batches)
    return strategies.partitions(n, max_batches=max_batches, drop=drop)


def _data_strategy(settings: CheckSettings, max_size: int, min_size: int = 1):
    replicas = settings.replicas
    return _data_cached(settings.semantics, settings.multiclass_scores, max(min_size, replicas), max(max_size, replicas))


@functools.lru_cache(maxsize=256)
def _data_cached(semantics: Semantics, multiclass_scores: str, min_size: int, max_size: int):
    return strategies.data_for(CheckSettings(semantics=semantics, multiclass_scores=multiclass_scores),
                               min_size=min_size, max_size=max_size)


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
