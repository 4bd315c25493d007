"""The hypothesis search over candidates: what to judge a candidate with, a memo of verdicts, the tally, the runs.

- :class:`Assessor` judges candidates by replay while replay works and through
  the real loop otherwise (a replay that fails where the loop runs is given
  up for good, after the loop confirmed it runs);
- :class:`Memo` remembers verdicts by candidate, so hypothesis replaying an
  input (to shrink, or to report) costs nothing;
- :class:`Tally` counts what the exploration judged, keeps the worst and a
  regular sample, and reports progress;
- :class:`Explorer` runs hypothesis: explore in chunks on replay, shrink one
  candidate at a time, or search through the loop with small data first.
"""

from __future__ import annotations

import hashlib
import math
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core import backend, timeouts, verdict
from ..core.errors import F1CheckError, Refused, SubjectError
from ..subjects.context import CheckContext
from .candidates import Candidate, NoReplay, Replayer, cases, private_storage
from .runner import Runner

CHUNK = 32  # candidates per hypothesis call while exploring on replay
MIN_SHRINK_SEARCH = 200  # calls the shrinking run may take to find the failure again
MAX_BATCHES = 64  # the search's partitions feed at most this many batches
# Keras on JAX compiles its step once per new batch shape (~0.1-0.3 s each): fewer batches there bound the
# batch-size variety of an example.
MAX_BATCHES_JAX = 8
SAMPLE = 1  # candidates of the regular sample confirmed through the loop (the fixed examples ran there too)
LOOP_SHRINK_CALLS = 30  # shrinking steps through the real loop (each runs a model)
COSTLY_SHRINK_CALLS = 15  # shrinking steps where each replay calls a model (a callback that predicts)
REPLAY_SHRINK_CALLS = 2000  # shrinking steps on replay
SMALL_FIRST = 64  # through the loop, a third of the budget goes to data of at most this many samples first


def order_key(found) -> tuple:
    """The smallest-counterexample order, for loop examples and replayed candidates alike."""
    preceded = len(getattr(found, "preceded_by", ()))
    return (preceded, *verdict.smallest_key(found.partition))


def fingerprint(candidate: Candidate, data_only: bool = False) -> bytes:
    """A candidate's identity, so that hypothesis replaying an input gets the same verdict without a rerun.

    ``data_only`` for a subject whose replay does not depend on the partition (a callback that scores its
    data itself): candidates with the same data are the same candidate.
    """
    digest = _data_digest(candidate.y, candidate.scores).copy()
    digest.update(candidate.weights.digest())
    if not data_only:
        p = candidate.partition
        order = p.order if p.order_seed is None else None
        digest.update(repr((p.batch_sizes, p.dropped, p.order_seed, order, candidate.loop)).encode())
    return digest.digest()


_DIGESTS: dict[tuple[int, int], tuple] = {}  # the data's digest by the arrays' identity (kept, so ids stay theirs)


def _data_digest(y, scores):
    """The blake2b state after ``y`` and ``scores``: hashed once for data every candidate shares (the fixed data of
    a check: 80 kB at N = 10,000, hashed for each of ~4 draws an example)."""
    key = (id(y), id(scores))
    found = _DIGESTS.get(key)
    if found is None:
        digest = hashlib.blake2b(y.tobytes(), digest_size=16)
        digest.update(scores.tobytes())
        if len(_DIGESTS) >= 8:
            _DIGESTS.pop(next(iter(_DIGESTS)))
        found = _DIGESTS[key] = (y, scores, digest)
    return found[2]


class Assessor:
    """Judges candidates: by replay while it works, through the real loop otherwise."""

    def __init__(self, runner: Runner, replayer: Replayer | None):
        self.runner, self.replayer = runner, replayer

    @property
    def replaying(self) -> bool:
        return self.replayer is not None

    def assess(self, drawn: list[Candidate]) -> list | None:
        """Verdicts of ``drawn``; None when replay just turned out unusable (the loop runs where it did not)."""
        if self.replayer is None:
            return [self.runner.run(c.y, c.scores, c.run()) for c in drawn]
        try:
            with timeouts.call(f"the subject replayed on {len(drawn)} candidate(s)"):
                return self.replayer.assess(drawn)
        except (NoReplay, SubjectError):
            # Confirm through the loop, once for each form of labels drawn: its own error stands, a form it refuses
            # is recorded (Refused); if every one runs, replay is what cannot.
            firsts = {c.loop.label_pair: c for c in reversed(drawn)}
            refused = None
            for first in firsts.values():
                try:
                    self.runner.run(first.y, first.scores, first.run())
                except Refused as exc:
                    refused = exc
            if refused is not None:
                raise refused from None
            self.replayer = None
            return None


class Memo:
    """Verdicts by candidate (:func:`fingerprint`)."""

    def __init__(self, data_only: bool):
        self.data_only = data_only
        self.verdicts: dict[bytes, object] = {}

    def key(self, candidate: Candidate) -> bytes:
        return fingerprint(candidate, self.data_only)

    def knows(self, drawn: list[Candidate]) -> bool:
        return all(self.key(c) in self.verdicts for c in drawn)


@dataclass
class Tally:
    """What the exploration judged: how many, the worst, a regular sample; progress as it goes."""

    total: int
    progress: Callable[[int, int, float], None] | None = None
    done_before: int = 0  # fixed examples run before the search
    evaluated: int = 0
    worst: object = None
    worst_error: float = 0.0
    sampled: list = field(default_factory=list)

    def note(self, done: int, worst: float) -> None:
        """Progress: ``done`` examples so far, and the worst error so far (it only grows)."""
        self.worst_error = max(self.worst_error, worst)
        timeouts.note_done(done, self.total)
        if self.progress is not None:
            self.progress(done, self.total, self.worst_error)

    def explored(self, judged: list, stride: int) -> None:
        for k, found in enumerate(judged):
            if (self.evaluated + k) % stride == 0 and len(self.sampled) < SAMPLE:
                self.sampled.append(found)
            if self.worst is None or found.badness() > self.worst.badness():
                self.worst = found
        self.evaluated += len(judged)
        self.note(self.done_before + self.evaluated, self.worst.badness())


class _Falsified(Exception):
    """Raised inside the hypothesis test for a failing example; carries it out."""

    def __init__(self, found):
        super().__init__("falsified")
        self.found = found


class _Stop(BaseException):
    """Raised inside the hypothesis test to end the run: the budget is spent, or replay became unusable.

    Not an ``Exception``: hypothesis lets it through at once instead of replaying it as a failure.
    """


class _Interrupted(BaseException):
    """pytest's ``Failed`` raised while the test ran (pytest-timeout's signal method): carried past hypothesis,
    which would take it for a falsifying example and shrink it, running the slow subject again and again."""

    def __init__(self, original: BaseException):
        super().__init__("interrupted")
        self.original = original


def _pytest_outcome(exc: BaseException) -> bool:
    """pytest's own outcome exceptions (``Failed``, ``Skipped``, ``Exit``), told without importing pytest."""
    outcomes = sys.modules.get("_pytest.outcomes")
    return outcomes is not None and isinstance(exc, outcomes.OutcomeException)


@dataclass
class _RunState:
    """One hypothesis run's state: whether a failure was found, the smallest so far, new inputs judged since."""

    smallest: object = None
    new_after_failure: int = 0


class Explorer:
    """Hypothesis runs over candidates of one check, judged by an :class:`Assessor`, remembered in a :class:`Memo`."""

    def __init__(self, context: CheckContext, assessor: Assessor, tally: Tally):
        self.context, self.assessor, self.tally = context, assessor, tally
        self.memo = Memo(context.subject.scores_itself and assessor.replaying)
        self.failed = False  # a failure was found: exploration budgets no longer apply

    def search(self, budget: int):
        """Explore ``budget`` candidates and shrink a failure; the smallest failing one (Judged or Example) or None.

        On replay the search explores in chunks of up to ``CHUNK`` candidates
        per hypothesis call (one compiled call each), which is fast but shrinks
        slowly; once a chunk fails, a second run draws one candidate per call and
        lets hypothesis shrink what it finds.  Through the loop every call is one
        example and hypothesis shrinks directly, small data first.
        """
        if self.assessor.replaying:
            # more calls than the budget needs: hypothesis repeats some inputs, which are not judged again; no
            # more candidates a call than the budget (drawing is the search's main cost on a small budget)
            chunk = min(CHUNK, budget)
            found = self._run(budget, chunk, 20 * math.ceil(budget / chunk), shrink=False, explore=True)
            if self.assessor.replaying:
                if found is None:
                    return None
                again = budget if self.assessor.replayer.costly else max(budget, MIN_SHRINK_SEARCH)
                shrunk = self._run(budget, 1, again, shrink=True, explore=False)
                if self.assessor.replaying:
                    return min((f for f in (shrunk, found) if f is not None), key=order_key)
            budget = max(1, budget - self.tally.evaluated)  # replay gave up: the rest of the budget, in the loop
            self.memo.data_only = False
        return self.loop_search(budget)

    def loop_search(self, budget: int):
        """Search through the real loop: every new candidate is a loop run (repeated ones are remembered)."""
        if self.context.data is None and self.context.partitions is None and budget >= 3:
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
        from hypothesis import strategies as st

        max_batches = MAX_BATCHES_JAX if backend.backend_name() == "jax" else MAX_BATCHES
        case = cases(self.context, max_batches=max_batches, max_size=max_size)
        chunks = st.lists(case, min_size=chunk, max_size=chunk) if chunk > 1 else case.map(lambda c: [c])
        state = _RunState()
        test = self._test(budget, explore, state, stride=max(1, budget // SAMPLE))
        return self._hypothesis(test, chunks, calls, shrink, state)

    def _shrink_limit(self) -> int:
        replayer = self.assessor.replayer
        return LOOP_SHRINK_CALLS if replayer is None else COSTLY_SHRINK_CALLS if replayer.costly else REPLAY_SHRINK_CALLS

    def _test(self, budget: int, explore: bool, state: _RunState, stride: int):
        import hypothesis

        limit, tally, memo = self._shrink_limit(), self.tally, self.memo
        replaying, refusals = self.assessor.replaying, self.context.refusals

        def test(drawn):
            try:
                return body(drawn)
            except BaseException as exc:
                if _pytest_outcome(exc):
                    raise _Interrupted(exc) from None
                raise

        def body(drawn):
            timeouts.check()
            if explore and not self.failed:
                if tally.evaluated >= budget:  # nothing failed within the budget: end the run
                    raise _Stop()
                drawn = drawn[: budget - tally.evaluated]
            drawn = [c for c in drawn if refusals.accepts(c.loop.label_pair)]  # drawn before a refusal
            if not drawn:
                hypothesis.reject()
            if state.smallest is not None and not memo.knows(drawn):
                state.new_after_failure += 1
                if state.new_after_failure > limit:
                    return
            try:
                judged, new = self._judge(drawn)
            except Refused:  # labels the subject refuses: recorded, and not drawn again
                hypothesis.reject()
            if judged is None or self.assessor.replaying != replaying:
                raise _Stop()
            if explore and not self.failed and new:
                tally.explored(new, stride)
            hypothesis.target(min(max(j.badness() for j in judged), 1e9), label="judged error")
            failing = [j for j in judged if not j.passed]
            if failing:
                self.failed = True
                smallest = min(failing, key=order_key)
                if state.smallest is None or order_key(smallest) < order_key(state.smallest):
                    state.smallest = smallest
                raise _Falsified(smallest)

        return test

    def _judge(self, drawn: list[Candidate]) -> tuple[list | None, list]:
        """Verdicts of ``drawn`` (remembered ones reused), and the newly judged ones; None if replay gave up."""
        keys = [self.memo.key(c) for c in drawn]
        new = {k: c for k, c in zip(keys, drawn) if k not in self.memo.verdicts}
        if new:
            judged = self.assessor.assess(list(new.values()))
            if judged is None:
                return None, []
            self.memo.verdicts.update(zip(new, judged))
        return [self.memo.verdicts[k] for k in keys], [self.memo.verdicts[k] for k in new]

    def _hypothesis(self, test, chunks, calls: int, shrink: bool, state: _RunState):
        import hypothesis
        from hypothesis import HealthCheck, Phase, Verbosity, settings

        phases = (Phase.explicit, Phase.generate) + ((Phase.target, Phase.shrink) if shrink else ())
        rules = settings(max_examples=max(1, calls), deadline=None, database=None, derandomize=False, phases=phases,
                         suppress_health_check=list(HealthCheck), report_multiple_bugs=False, print_blob=False,
                         verbosity=Verbosity.quiet)
        run = hypothesis.seed(self.context.settings.seed)(rules(hypothesis.given(chunks)(test)))
        try:
            with warnings.catch_warnings(), private_storage():
                # hypothesis would repr the drawn data for a report we do not print
                warnings.simplefilter("ignore", hypothesis.errors.HypothesisWarning)
                run()
        except _Falsified as falsified:
            return min((f for f in (falsified.found, state.smallest) if f is not None), key=order_key)
        except _Stop:
            return None
        except _Interrupted as interrupted:
            raise interrupted.original from None
        except F1CheckError as exc:
            exc.__notes__ = []  # hypothesis's notes name our internal test function
            raise
        except hypothesis.errors.FlakyFailure:
            return state.smallest  # memoised verdicts make this unreachable; the smallest failure still stands
        return None
