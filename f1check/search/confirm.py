"""What the search found, through the real loop: confirmed, shrunk in the loop where replay cannot see it, reproduced.

Replay is never the verdict on its own.  The shrunk failure, the worst
candidate and a regular sample run through the real loop, and those runs are
what a result reports.  A counterexample whose error is the loop's (replay
and loop disagree) is searched and shrunk again through the loop itself, and
a failing counterexample is run once more on a fresh model: a different
verdict there is an error naming both values (the subject is not
deterministic), never a silent pass.
"""

from __future__ import annotations

from ..core.errors import Refused, SubjectError
from ..judging.results import Example
from ..loops import Run
from ..loops.drivers import Driver
from ..subjects.context import CheckContext
from .explore import Assessor, Explorer, Tally
from .runner import Runner

LOOP_SHRINK_EXAMPLES = 20  # budget of the loop search that shrinks a loop-only failure


class Confirmation:
    """Runs candidates of one check through the real loop (its ``runner``)."""

    def __init__(self, context: CheckContext, runner: Runner):
        self.context, self.runner = context, runner

    def confirm(self, shrunk, tally: Tally) -> list[Example]:
        """The shrunk failure, the worst candidate and the regular sample, each once, through the real loop."""
        chosen = []
        for found in (shrunk, tally.worst, *tally.sampled):
            if found is not None and all(found is not other for other in chosen):
                chosen.append(found)
        confirmed = []
        for found in chosen:
            try:
                confirmed.append(self.as_example(found))
            except Refused:  # labels the loop refuses though the replay took them: recorded, not judged
                continue
        return confirmed

    def as_example(self, found) -> Example:
        if isinstance(found, Example):
            return found
        return self.runner.run(found.candidate.y, found.candidate.scores, found.candidate.run())

    def shrink_in_loop(self) -> Example | None:
        """Replay and loop disagree: search and shrink through the loop itself, on a small budget of its own."""
        budget = min(self.context.settings.examples, LOOP_SHRINK_EXAMPLES)
        found = Explorer(self.context, Assessor(self.runner, None), Tally(budget)).loop_search(budget)
        return self.as_example(found) if found is not None and not found.passed else None

    def reproduce(self, example: Example) -> None:
        """Run the counterexample again on a fresh model; a different verdict is an error naming both values."""
        context = self.context
        runner = Runner(context, Driver(context))
        runs = [Run(p, example.loop, example.weights) for p in (*example.preceded_by, example.partition)]
        again = runner.sequence(example.y_true, example.scores, runs)[-1]
        if again.passed != example.passed:
            raise SubjectError(
                f"{context.label} [{context.mode}] is not deterministic: the same example "
                f"({example.partition.short()}, n={example.n}, fed {example.loop.describe()}) logged "
                f"{example.reported:.6f} ({'pass' if example.passed else 'fail'}) and then {again.reported:.6f} "
                f"({'pass' if again.passed else 'fail'}) on a fresh model; sklearn says {example.f1_seen:.6f}. Does the "
                "subject draw random numbers, or keep state outside its variables (module globals, the model)?"
            )
