"""The search: fixed examples, then hypothesis over data and partitions, then the real loop.

Every fuzzed check starts with the fixed examples of :mod:`f1check.adversarial`,
run through the real loop one after another on one compiled model.  The random
search then judges candidates by replay (:mod:`f1check.candidates`; many per
compiled call), pushes the judged error up with ``hypothesis.target`` and
shrinks a failure to the smallest example.  The counterexample, the worst
candidate and a regular sample then run through the real loop, and those runs
are what the result reports.  Subjects that cannot be replayed faithfully are
searched through the loop itself.  A failing result's counterexample is run
once more on a fresh model, so that what is reported reproduces.
"""

from __future__ import annotations

import hashlib
import math
import warnings

from . import adversarial, backend, feeds, verdict
from .candidates import Candidate, NoReplay, Replayer, cases, private_storage, sample_batch
from .candidates import DEFAULT_CLASSES
from .errors import ConfigError, F1CheckError, PartitionError, SubjectError
from .partitions import Partition
from .results import Example, Result
from .runner import Runner
from .settings import CheckSettings
from .subjects import CallbackSubject, MetricSubject, carried_state

CHUNK = 32  # candidates per hypothesis call while exploring on replay
MIN_SHRINK_SEARCH = 200  # calls the shrinking run may take to find the failure again
MAX_BATCHES = 64  # the search's partitions feed at most this many batches
# Keras on JAX compiles its step once per new batch shape (~0.1-0.3 s each): fewer batches there bound the
# batch-size variety of an example.
MAX_BATCHES_JAX = 8
SAMPLE = 1  # candidates of the regular sample confirmed through the loop (the fixed examples ran there too)
LOOP_SHRINK_EXAMPLES = 20  # budget of the loop search that shrinks a loop-only failure
LOOP_SHRINK_CALLS = 30  # shrinking steps through the real loop (each runs a model)
COSTLY_SHRINK_CALLS = 15  # shrinking steps where each replay calls a model (a callback that predicts)
REPLAY_SHRINK_CALLS = 2000  # shrinking steps on replay
SMALL_FIRST = 64  # through the loop, a third of the budget goes to data of at most this many samples first


class _Falsified(Exception):
    """Raised inside the hypothesis test for a failing example; carries it out."""

    def __init__(self, found):
        super().__init__("falsified")
        self.found = found


class _BudgetSpent(Exception):
    """Raised inside the hypothesis test once the exploration has judged its budget of new candidates."""


class _ReplayUnusable(Exception):
    """Replay failed where the real loop runs fine: search through the loop instead."""


def order_key(found) -> tuple:
    """The smallest-counterexample order, for loop examples and replayed candidates alike."""
    preceded = len(getattr(found, "preceded_by", ()))
    return (preceded, *verdict.smallest_key(found.partition))


def fingerprint(candidate: Candidate, data_only: bool = False) -> bytes:
    """A candidate's identity, so that hypothesis replaying an input gets the same verdict without a rerun.

    ``data_only`` for a subject whose replay does not depend on the partition (a callback that scores its
    data itself): candidates with the same data are the same candidate.
    """
    digest = hashlib.blake2b(candidate.y.tobytes(), digest_size=16)
    digest.update(candidate.scores.tobytes())
    if not data_only:
        p = candidate.partition
        order = p.order if p.order_seed is None else None
        digest.update(repr((p.batch_sizes, p.dropped, p.order_seed, order, candidate.feed)).encode())
    return digest.digest()


def columns_of(settings: CheckSettings, fixed) -> int:
    if fixed is not None:
        return fixed[0].shape[1]
    sem = settings.semantics
    return 1 if sem.task == "binary" else sem.classes or DEFAULT_CLASSES


def usable_feeds(settings: CheckSettings, mode: str) -> tuple[str, ...]:
    """The feeds this mode can use on this backend, among those the settings allow."""
    possible = feeds.feeds_for(mode, backend.backend_name())
    if settings.feeds is None:
        return possible
    chosen = tuple(f for f in settings.feeds if f in possible)
    if not chosen:
        raise ConfigError(
            f"none of feeds={list(settings.feeds)} can feed mode {mode!r} on this backend (it takes {list(possible)}): "
            "generator-no-steps is evaluate-only, numpy cannot drop a remainder, tf.data needs TensorFlow."
        )
    return chosen


class Search:
    """One subject, one mode: fixed examples, search, shrink, confirm, reproduce."""

    def __init__(self, subject, mode: str, settings: CheckSettings, fixed=None, explicit=None, progress=None):
        self.subject, self.mode, self.settings = subject, mode, settings
        self.fixed, self.explicit = fixed, explicit
        self.progress = progress
        self.columns = columns_of(settings, fixed)
        self.feeds = usable_feeds(settings, mode)
        metrics = [subject] if isinstance(subject, MetricSubject) else list(subject.metrics)
        task = settings.semantics.task
        self.carried = next((c for c in (carried_state(m, self.columns, task) for m in metrics) if c), None)
        self.runner = Runner(subject, mode, settings, self.columns, self.carried)
        self.replayer = None
        if settings.replicas == 1 and not (fixed is not None and explicit is not None):
            self.replayer = Replayer.build(subject, mode, settings, self.columns, self.carried,
                                           sample_batch(settings, fixed), self.runner.driver)
        self.memo: dict[bytes, object] = {}
        self.data_only = isinstance(subject, CallbackSubject) and subject.scores_itself
        self._fixed: list[Example] = []
        self.evaluated = 0
        self.failed = False
        self.worst = None
        self.sampled: list = []
        self.total = settings.examples

    # -- the whole check ---------------------------------------------------------------------------------

    def run(self) -> Result:
        if self.fixed is not None and self.explicit is not None:
            return self._result(self._explicit(), counted=None)
        examples = self._fixed_runs()
        budget = self.settings.examples - len(examples)
        shrunk = None
        loop_only = self.replayer is None
        if budget > 0 and not (loop_only and any(not e.passed for e in examples)):
            shrunk = self._search(budget)
        examples += self._confirm(shrunk)
        return self._result(examples, counted=len(self._fixed) + self.evaluated)

    def _explicit(self) -> list[Example]:
        """Given data and partitions: for each feed, the partitions it can give, one after another on one model."""
        y, s = self.fixed
        kinds = self.settings.feeds or ("pydataset",)
        found = []
        for feed in kinds:
            runs = [(p, feed) for p in self.explicit if feeds.fits(feed, p) and feed in self.feeds]
            if runs:
                found += self.runner.sequence(y, s, runs)
        if not found:
            raise ConfigError(
                f"none of feeds={list(kinds)} can feed these partitions in mode {self.mode!r}: uniform feeds (numpy, "
                "tf.data) need equal batches and a smaller last one; generator-no-steps is evaluate-only."
            )
        return found

    def _fixed_runs(self) -> list[Example]:
        runs = None
        if self.explicit is None:
            runs = adversarial.fixed_runs(self.settings, self.mode, self.feeds, self.fixed)
        self._fixed = self.runner.sequence(runs.y, runs.scores, list(runs.runs)) if runs else []
        large = None
        if self.data_only and self.fixed is None and self.explicit is None and self.settings.examples > len(self._fixed):
            large = adversarial.large_run(self.settings, self.mode, self.feeds)
        if large is not None:
            self._fixed.append(self.runner.run(*large))
        if self._fixed:
            self._note_progress(len(self._fixed), max(e.badness() for e in self._fixed))
        return list(self._fixed)

    def _result(self, examples: list[Example], counted: int | None) -> Result:
        failing = [e for e in examples if not e.passed]
        counterexample = min(failing, key=order_key, default=None)
        if counterexample is not None and counterexample.blame == "loop" and self.replayer is not None:
            counterexample = self._shrink_in_loop() or counterexample
        if counterexample is not None:
            self._reproduces(counterexample)
        return Result(
            target=self.subject.label,
            mode=self.mode,
            passed=not failing,
            examples=len(examples) if counted is None else counted,
            tolerance=self.settings.tolerance,
            judge=self.settings.judge,
            worst=max(examples, key=Example.badness, default=None),
            counterexample=counterexample,
            score=self.settings.semantics.score,
            runs=examples,
        )

    # -- judging candidates --------------------------------------------------------------------------------

    def judge(self, drawn: list[Candidate]) -> list:
        """Judge candidates by replay when possible, else (or when replay cannot) through the loop."""
        if self.replayer is not None:
            try:
                return self.replayer.judge(drawn, self.fixed)
            except (NoReplay, SubjectError):
                # Confirm through the loop: its own error stands; if it runs, replay is what cannot.
                self.runner.run(drawn[0].y, drawn[0].scores, drawn[0].partition, drawn[0].feed)
                self.replayer = None
                raise _ReplayUnusable() from None
        return [self.runner.run(c.y, c.scores, c.partition, c.feed) for c in drawn]

    def _judge_memo(self, drawn: list[Candidate]) -> tuple[list, list]:
        """Verdicts of ``drawn`` (remembered ones reused), and the newly judged ones."""
        keys = [self._key(c) for c in drawn]
        new = {k: c for k, c in zip(keys, drawn) if k not in self.memo}
        if new:
            self.memo.update(zip(new, self.judge(list(new.values()))))
        return [self.memo[k] for k in keys], [self.memo[k] for k in new]

    def _key(self, candidate: Candidate) -> bytes:
        return fingerprint(candidate, self.data_only and self.replayer is not None)

    def _note_progress(self, done: int, worst: float) -> None:
        if self.progress is not None:
            self.progress(done, self.total, worst)

    # -- the hypothesis search -----------------------------------------------------------------------------

    def _search(self, budget: int):
        """Explore ``budget`` candidates and shrink a failure; the smallest failing one (Judged or Example) or None.

        On replay the search explores in chunks of up to ``CHUNK`` candidates
        per hypothesis call (one compiled call each), which is fast but shrinks
        slowly; once a chunk fails, a second run draws one candidate per call and
        lets hypothesis shrink what it finds.  Through the loop every call is one
        example and hypothesis shrinks directly, small data first.
        """
        try:
            if self.replayer is not None:
                chunk = CHUNK  # hypothesis repeats most of a chunk in the next; 32 a call still draws fastest
                # more calls than the budget needs: hypothesis repeats some inputs, which are not judged again
                found = self._run(budget, chunk, 20 * math.ceil(budget / chunk), shrink=False, explore=True)
                if found is None:
                    return None
                again = budget if self.replayer.costly else max(budget, MIN_SHRINK_SEARCH)
                shrunk = self._run(budget, 1, again, shrink=True, explore=False)
                return min((f for f in (shrunk, found) if f is not None), key=order_key)
        except _ReplayUnusable:
            budget = max(1, budget - self.evaluated)
        return self._loop_search(budget)

    def _loop_search(self, budget: int):
        """Search through the real loop: every new candidate is a loop run (repeated ones are remembered)."""
        if self.fixed is None and self.explicit is None and budget >= 3:
            # Through the loop every shrinking step costs a model run, so look at small data first.
            found = self._run(budget // 3, 1, 4 * budget, shrink=True, explore=True, max_size=SMALL_FIRST)
            if found is not None:
                return found
        return self._run(budget, 1, 4 * budget, shrink=True, explore=True)

    def _run(self, budget: int, chunk: int, calls: int, shrink: bool, explore: bool, max_size: int | None = None):
        """One hypothesis run of ``calls`` calls of ``chunk`` candidates; the smallest failure found, or None.

        Verdicts are memoised by candidate, so hypothesis replaying an input
        (to shrink, or to report) gets the same answer without another run.
        Shrinking judges at most a fixed number of new inputs; past that, new
        inputs pass unjudged and hypothesis settles on the smallest failure.
        """
        import hypothesis
        from hypothesis import strategies as st

        case = cases(self.settings, self.mode, self.feeds, self.fixed, self.explicit,
                     max_batches=MAX_BATCHES_JAX if _on_jax() else MAX_BATCHES, max_size=max_size)
        chunks = st.lists(case, min_size=chunk, max_size=chunk) if chunk > 1 else case.map(lambda c: [c])
        limit = (LOOP_SHRINK_CALLS if self.replayer is None
                 else COSTLY_SHRINK_CALLS if self.replayer.costly else REPLAY_SHRINK_CALLS)
        state = {"new_after_failure": 0, "smallest": None}
        stride = max(1, budget // SAMPLE)

        def test(drawn):
            if explore and not self.failed:
                if self.evaluated >= budget:  # stop; a run that shrinks would shrink the stop: let it run out
                    if shrink:
                        return
                    raise _BudgetSpent()
                drawn = drawn[: budget - self.evaluated]
            if state["smallest"] is not None and not all(self._key(c) in self.memo for c in drawn):
                state["new_after_failure"] += 1
                if state["new_after_failure"] > limit:
                    return
            judged, new = self._judge_memo(drawn)
            if explore and not self.failed and new:
                self._explored(new, stride)
            hypothesis.target(min(max(j.badness() for j in judged), 1e9), label="judged error")
            failing = [j for j in judged if not j.passed]
            if failing:
                self.failed = True
                smallest = min(failing, key=order_key)
                if state["smallest"] is None or order_key(smallest) < order_key(state["smallest"]):
                    state["smallest"] = smallest
                raise _Falsified(smallest)

        return self._hypothesis(test, chunks, calls, shrink, state)

    def _explored(self, judged: list, stride: int) -> None:
        for k, found in enumerate(judged):
            if (self.evaluated + k) % stride == 0 and len(self.sampled) < SAMPLE:
                self.sampled.append(found)
            if self.worst is None or found.badness() > self.worst.badness():
                self.worst = found
        self.evaluated += len(judged)
        self._note_progress(len(self._fixed) + self.evaluated, self.worst.badness())

    def _hypothesis(self, test, chunks, calls: int, shrink: bool, state: dict):
        import hypothesis
        from hypothesis import HealthCheck, Phase, Verbosity, settings

        phases = (Phase.explicit, Phase.generate) + ((Phase.target, Phase.shrink) if shrink else ())
        rules = settings(max_examples=max(1, calls), deadline=None, database=None, derandomize=False, phases=phases,
                         suppress_health_check=list(HealthCheck), report_multiple_bugs=False, print_blob=False,
                         verbosity=Verbosity.quiet)
        run = hypothesis.seed(self.settings.seed)(rules(hypothesis.given(chunks)(test)))
        try:
            with warnings.catch_warnings(), private_storage():
                # hypothesis would repr the drawn data for a report we do not print
                warnings.simplefilter("ignore", hypothesis.errors.HypothesisWarning)
                run()
        except _Falsified as falsified:
            return min((f for f in (falsified.found, state["smallest"]) if f is not None), key=order_key)
        except _BudgetSpent:
            return None
        except F1CheckError as exc:
            exc.__notes__ = []  # hypothesis's notes name our internal test function
            raise
        except hypothesis.errors.FlakyFailure:
            return state["smallest"]  # memoised verdicts make this unreachable; the smallest failure still stands
        return None

    # -- through the real loop -----------------------------------------------------------------------------

    def _confirm(self, shrunk) -> list[Example]:
        """The shrunk failure, the worst candidate and the regular sample, each once, through the real loop."""
        chosen = []
        for found in (shrunk, self.worst, *self.sampled):
            if found is not None and all(found is not other for other in chosen):
                chosen.append(found)
        return [self._as_example(found) for found in chosen]

    def _as_example(self, found) -> Example:
        if isinstance(found, Example):
            return found
        c = found.candidate
        return self.runner.run(c.y, c.scores, c.partition, c.feed)

    def _shrink_in_loop(self) -> Example | None:
        """Replay and loop disagree: search and shrink through the loop itself, on a small budget."""
        self.replayer, self.failed = None, False
        found = self._loop_search(min(self.settings.examples, LOOP_SHRINK_EXAMPLES))
        return self._as_example(found) if found is not None and not found.passed else None

    def _reproduces(self, example: Example) -> None:
        """Run the counterexample again on a fresh model; a different verdict is an error naming both values."""
        runner = Runner(self.subject, self.mode, self.settings, self.columns, self.carried)
        runs = [(p, example.feed) for p in (*example.preceded_by, example.partition)]
        again = runner.sequence(example.y_true, example.scores, runs)[-1]
        if again.passed != example.passed:
            raise SubjectError(
                f"{self.subject.label} [{self.mode}] is not deterministic: the same example "
                f"({example.partition.short()}, n={example.n}, fed {feeds.describe(example.feed)}) logged "
                f"{example.reported:.6f} ({'pass' if example.passed else 'fail'}) and then {again.reported:.6f} "
                f"({'pass' if again.passed else 'fail'}) on a fresh model; sklearn says {example.f1_seen:.6f}. Does the "
                "subject draw random numbers, or keep state outside its variables (module globals, the model)?"
            )


def _on_jax() -> bool:
    return backend.backend_name() == "jax"


def explicit_partitions(partitions, fixed) -> list[Partition] | None:
    """``partitions`` as a checked list (None stays None)."""
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

