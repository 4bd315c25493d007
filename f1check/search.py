"""The search: hypothesis over data and partitions, then confirmation through the real loop.

Metric subjects are searched in replay (many examples per compiled call, the
reference from confusion counts); hypothesis pushes the judged error up with
``target`` and shrinks a failure to the smallest example.  The counterexample,
the worst example and a regular sample of the rest then run through the real
Keras loop, and those runs are what the result reports.  Callbacks, and
subjects that cannot be replayed faithfully, are searched through the loop
itself.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .errors import F1CheckError, SubjectError
from .partitions import Partition
from .reference import Confusion
from .replay import CompiledReplay, slow_replay
from .subjects import MetricSubject

CHUNK = 32  # examples per hypothesis call while exploring on the compiled replay path
MIN_SHRINK_SEARCH = 200  # calls the shrinking run may take to find the failure again
MAX_BATCHES = 64  # the search's partitions feed at most this many batches
# Keras on JAX compiles its step once per new batch shape (~0.1-0.3 s each): fewer batches there bound the
# batch-size variety of an example (one or two sizes more per example than uniform batches).
MAX_BATCHES_JAX = 8
SAMPLE = 4  # examples of the regular sample confirmed through the loop
LOOP_SHRINK_EXAMPLES = 20  # budget of the loop search that shrinks a loop-only failure
LOOP_SHRINK_CALLS = 30  # shrinking steps through the real loop (each builds and runs a model)
REPLAY_SHRINK_CALLS = 2000  # shrinking steps on the replay path
SMALL_FIRST = 64  # through the loop, a third of the budget goes to data of at most this many samples first
DEFAULT_CLASSES = 3  # columns of fuzzed multiclass/multilabel data when classes is not given


@dataclass
class Judged:
    """An example judged by replay, not yet run through the loop."""

    y: Any
    scores: Any
    partition: Partition
    feed: str
    replayed: float
    f1_seen: float
    f1_all: float
    judged_error: float
    passed: bool

    def badness(self) -> float:
        return math.inf if math.isnan(self.judged_error) else abs(self.judged_error)


def _same_cases(a, b) -> bool:
    """Whether two drawn chunks are the same examples (hypothesis replaying an input)."""
    if len(a) != len(b):
        return False
    for ((y1, s1), p1, k1), ((y2, s2), p2, k2) in zip(a, b):
        if p1 != p2 or k1 != k2 or not (np.array_equal(y1, y2) and np.array_equal(s1, s2)):
            return False
    return True


class _Falsified(Exception):
    """Raised inside the hypothesis test for a failing example; carries it out."""

    def __init__(self, found):
        super().__init__("falsified")
        self.found = found


def case_strategy(settings, fixed, explicit, mode: str = "evaluate", max_size: int | None = None):
    """Hypothesis strategy of ``((y, scores), partition, feed)`` for one example.

    The feed (how data reaches the loop) is drawn first, and the partition to
    suit it: feeds that cut equal batches get uniform partitions;
    ``fit-dropped`` gets the floor-steps form, the remainder never fed.
    """
    from hypothesis import strategies as st

    from . import backend, feeds, strategies

    sem = settings.semantics
    name = backend.keras().backend.backend()
    kinds = settings.feeds or feeds.feeds_for(mode, name)
    drop = True if mode == "fit-dropped" else None
    most = MAX_BATCHES_JAX if name == "jax" else MAX_BATCHES

    replicas = getattr(settings, "replicas", 1)

    def data(min_size=1, max_size=max_size or strategies.LARGEST):
        drawn = strategies.data_for(
            sem.task,
            classes=sem.classes or DEFAULT_CLASSES,
            threshold=sem.threshold,
            min_size=max(min_size, replicas),
            max_size=max(max_size, replicas),
        )
        if replicas > 1 and min_size != max_size:  # whole multiples of the replicas: batches split evenly
            drawn = drawn.map(lambda d: _whole_groups(d, replicas))
        return drawn

    def partitions(n, kind):
        if replicas > 1:  # a partition of groups of `replicas` samples, so that every batch splits evenly
            return unit_partitions(n // replicas, kind).map(lambda p: _scaled(p, replicas))
        return unit_partitions(n, kind)

    def unit_partitions(n, kind):
        if kind in feeds.UNIFORM:
            return strategies.uniform_partitions(n, drop=bool(drop), max_batches=most)
        return strategies.partitions(n, max_batches=most, drop=drop)

    def with_partition(d, kind):
        return partitions(len(d[0]), kind).map(lambda p: (d, p, kind))

    if fixed is not None:
        return st.sampled_from(kinds).flatmap(lambda kind: with_partition(fixed, kind))
    if explicit is not None:

        def fitting(p):
            usable = [k for k in kinds if feeds.fits(k, p)] or ["pydataset"]
            return st.sampled_from(usable).flatmap(lambda kind: data(p.n, p.n).map(lambda d: (d, p, kind)))

        return st.sampled_from(explicit).flatmap(fitting)
    return data().flatmap(lambda d: st.sampled_from(kinds).flatmap(lambda kind: with_partition(d, kind)))


class Search:
    """One subject, one mode: search, shrink, confirm."""

    def __init__(self, target, mode: str, settings, fixed, explicit, run_example, force_loop: bool = False):
        self.target = target
        self.mode = mode
        self.settings = settings
        self.fixed = fixed
        self.explicit = explicit
        self.run_example = run_example  # check.run_example: one example through the real loop
        self.replay = None
        self.slow = False
        # Under replicas each replica runs the subject on its share of a batch: replay of whole batches is not
        # what the loop computes there, so the search runs through the loop.
        replicated = getattr(settings, "replicas", 1) > 1
        if not force_loop and not replicated and mode == "evaluate" and isinstance(target, MetricSubject):
            self.replay = CompiledReplay.build(target, self._sample(), settings.semantics.task)
            self.slow = self.replay is None
        self.evaluated = 0
        self.failed = False
        self.worst = None
        self.sampled: list = []
        self._fixed_confusion = None

    @property
    def loop_only(self) -> bool:
        return self.replay is None and not self.slow

    def _sample(self):
        if self.fixed is not None:
            y, s = self.fixed
            return y[:2], s[:2]
        columns = 1 if self.settings.semantics.task == "binary" else self.settings.semantics.classes or DEFAULT_CLASSES
        y = np.eye(columns, dtype=np.float32)[[0, -1]] if columns > 1 else np.asarray([[1.0], [0.0]], np.float32)
        return y, np.clip(y * 0.8 + 0.1, 0, 1).astype(np.float32)

    # -- judging -------------------------------------------------------------

    def _confusion(self, y, s) -> Confusion:
        """Confusion indicators of the data; computed once when the data is fixed."""
        if self.fixed is not None and y is self.fixed[0]:
            if self._fixed_confusion is None:
                self._fixed_confusion = Confusion(y, s, self.settings.semantics)
            return self._fixed_confusion
        return Confusion(y, s, self.settings.semantics)

    def judge(self, cases) -> list:
        """Judge a chunk of examples: replay and counts, or the loop itself."""
        settings = self.settings
        if self.loop_only:
            return [
                self.run_example(self.target, y, s, p, settings.semantics, self.mode, settings.judge, settings.tolerance, kind)
                for (y, s), p, kind in cases
            ]
        orders, chunk = [], []
        for (y, s), p, _ in cases:
            order = p.indices()
            orders.append(order)
            index = order[: p.fed] if p.shuffled_order or p.dropped else slice(0, p.fed)
            chunk.append((y[index], s[index], p.batch_sizes))
        values = slow_replay(self.target, chunk) if self.slow else self.replay(chunk)
        judged = []
        for ((y, s), p, kind), order, replayed in zip(cases, orders, values):
            if math.isnan(replayed):
                from .check import describe_batches

                batches = [(y[b], s[b]) for b in p.batches()]
                raise SubjectError(
                    f"{self.target.label} returned NaN when fed {p.short()} directly. "
                    f"{describe_batches(batches, settings.semantics)} A 0/0 on a batch without positives is the "
                    "usual cause: guard divisions with keras.config.epsilon() (or return 0 there)."
                )
            confusion = self._confusion(y, s)
            f1_seen, f1_all = confusion.f1_fed(order, p.fed), confusion.f1_all
            error = replayed - f1_seen
            if settings.judge == "total" and not abs(replayed - f1_all) <= abs(error):
                error = replayed - f1_all
            passed = not math.isnan(error) and abs(error) <= settings.tolerance + 1e-12
            judged.append(Judged(y, s, p, kind, float(replayed), f1_seen, f1_all, error, passed))
        return judged

    # -- the hypothesis search -----------------------------------------------

    def _hypothesis_settings(self, examples: int, shrink: bool):
        from hypothesis import HealthCheck, Phase, Verbosity, settings

        phases = (Phase.explicit, Phase.generate, Phase.target) + ((Phase.shrink,) if shrink else ())
        return settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
            verbosity=Verbosity.quiet,
        )

    def search(self):
        """Run hypothesis; return the shrunk failing example (Judged or Example) or None.

        On the compiled replay path the search explores in chunks of up to
        ``CHUNK`` examples per hypothesis call (one compiled call each), which
        is fast but shrinks slowly; once a chunk fails, a second run draws one
        example per call and lets hypothesis shrink what it finds (almost
        always the same bug, found again within a few calls).  Should it find
        nothing, the failing example of the first run stands, unshrunk.
        Through the loop, or replaying eagerly, every call is one example and
        hypothesis shrinks directly.
        """
        budget = self.settings.examples
        if self.replay is None:
            if self.fixed is None and self.explicit is None and budget >= 3:
                # Through the loop every shrinking step costs a model run, so look at small data first:
                # a failure found there is small already.
                found = self._run(chunk=1, calls=budget // 3, shrink=True, explore=True, max_size=SMALL_FIRST)
                if found is not None:
                    return found
            return self._run(chunk=1, calls=budget - self.evaluated, shrink=True, explore=True)
        # Enough calls that hypothesis's first, simplest draws are a small part of the budget.
        chunk = max(1, min(CHUNK, budget // 8))
        found = self._run(chunk, math.ceil(budget / chunk), shrink=False, explore=True)
        if found is None:
            return None
        shrunk = self._run(chunk=1, calls=max(budget, MIN_SHRINK_SEARCH), shrink=True, explore=False)
        return shrunk if shrunk is not None else found

    def _run(self, chunk: int, calls: int, shrink: bool, explore: bool, max_size: int | None = None):
        """One hypothesis run of ``calls`` calls of ``chunk`` examples; the failing example or None.

        ``explore`` runs judge at most the budget (the last call is cut short)
        and keep the worst example and the regular sample; the shrinking run
        only looks for the smallest failure.  Shrinking judges at most
        ``shrink_budget`` more calls; past that, every input but the smallest
        failing one passes unjudged, so hypothesis stops with that one.
        """
        import hypothesis
        from hypothesis import strategies as st

        budget = self.settings.examples
        stride = max(1, budget // SAMPLE)
        case = case_strategy(self.settings, self.fixed, self.explicit, self.mode, max_size)
        cases = st.lists(case, min_size=chunk, max_size=chunk) if chunk > 1 else case.map(lambda c: [c])
        shrink_budget = LOOP_SHRINK_CALLS if self.loop_only else REPLAY_SHRINK_CALLS
        state = {"after_failure": 0, "smallest": None}

        def test(drawn):
            if explore and not self.failed:
                drawn = drawn[: max(1, budget - self.evaluated)]
            if state["smallest"] is not None:
                state["after_failure"] += 1
                if state["after_failure"] > shrink_budget:
                    smallest_drawn, smallest = state["smallest"]
                    if _same_cases(drawn, smallest_drawn):
                        raise _Falsified(smallest)
                    return
            judged = self.judge(drawn)
            if explore and not self.failed:
                for k, found in enumerate(judged):
                    if (self.evaluated + k) % stride == 0 and len(self.sampled) < SAMPLE:
                        self.sampled.append(found)
                    if self.worst is None or found.badness() > self.worst.badness():
                        self.worst = found
                self.evaluated += len(judged)
            hypothesis.target(min(max(j.badness() for j in judged), 1e9), label="judged error")
            failing = [j for j in judged if not j.passed]
            if failing:
                self.failed = True
                smallest = min(failing, key=lambda j: (j.partition.n, j.partition.steps))
                state["smallest"] = (drawn, smallest)  # hypothesis only tries inputs simpler than its best
                raise _Falsified(smallest)

        run = hypothesis.seed(self.settings.seed)(self._hypothesis_settings(calls, shrink)(hypothesis.given(cases)(test)))
        try:
            with warnings.catch_warnings():
                # hypothesis would repr the drawn data for a report we do not print
                warnings.simplefilter("ignore", hypothesis.errors.HypothesisWarning)
                run()
        except _Falsified as falsified:
            return falsified.found
        except F1CheckError as exc:
            exc.__notes__ = []  # hypothesis's notes name our internal test function
            raise
        except hypothesis.errors.FlakyFailure:
            raise SubjectError(
                f"{self.target.label} gave different verdicts for the same input: the subject is not "
                "deterministic (does it keep state between instances, or draw random numbers?)."
            ) from None
        return None

    # -- confirmation ----------------------------------------------------------

    def confirm(self, found):
        """Run a replay-judged example through the real loop (a loop Example passes through)."""
        if not isinstance(found, Judged):
            return found
        s = self.settings
        return self.run_example(
            self.target, found.y, found.scores, found.partition, s.semantics, self.mode, s.judge, s.tolerance, found.feed
        )

    def run(self):
        from .check import Result

        shrunk = self.search()
        to_confirm = []  # the counterexample, the worst and the regular sample, each once
        for found in (shrunk, self.worst, *self.sampled):
            if found is not None and all(found is not other for other in to_confirm):
                to_confirm.append(found)
        confirmed = [self.confirm(found) for found in to_confirm]
        counterexample = confirmed[0] if shrunk is not None else None
        failing = [e for e in confirmed if not e.passed]
        if counterexample is None or counterexample.passed:
            counterexample = min(failing, key=lambda e: (e.n, e.partition.steps), default=None)
            if counterexample is not None and not self.loop_only and counterexample.blame == "loop":
                counterexample = self._shrink_in_loop() or counterexample
        worst = max(confirmed, key=lambda e: e.badness(), default=None)
        return Result(
            target=self.target.label,
            mode=self.mode,
            passed=not failing,
            examples=self.evaluated,
            tolerance=self.settings.tolerance,
            judge=self.settings.judge,
            worst=worst,
            counterexample=counterexample,
            runs=confirmed,
        )

    def _shrink_in_loop(self):
        """Replay and loop disagree: search and shrink through the loop itself, on a small budget."""
        settings = replace(self.settings, examples=min(self.settings.examples, LOOP_SHRINK_EXAMPLES))
        search = Search(self.target, self.mode, settings, self.fixed, self.explicit, self.run_example, force_loop=True)
        return search.search()


def _whole_groups(data, replicas: int):
    """``(y, scores)`` cut to a whole multiple of ``replicas`` samples."""
    y, scores = data
    keep = len(y) - len(y) % replicas
    return y[:keep], scores[:keep]


def _scaled(partition: Partition, replicas: int) -> Partition:
    """``partition`` of groups of ``replicas`` samples, as a partition of samples."""
    sizes = [b * replicas for b in partition.batch_sizes]
    dropped = partition.dropped * replicas
    if partition.order_seed is not None:
        return Partition.shuffled(sizes, partition.order_seed, dropped)
    if partition.order is not None:
        order = [g * replicas + j for g in partition.order for j in range(replicas)]
        return Partition(sizes, order=order, dropped=dropped)
    return Partition(sizes, dropped=dropped)
