"""The search: fixed examples, then hypothesis over data and partitions, then the real loop.

Every fuzzed check starts with the fixed examples of :mod:`f1check.search.adversarial`,
run through the real loop one after another on one compiled model.  The random
search (:mod:`f1check.search.explore`) then judges candidates by replay (many per
compiled call), pushes the judged error up with ``hypothesis.target`` and
shrinks a failure to the smallest example.  :mod:`f1check.search.confirm` runs the
counterexample, the worst candidate and a regular sample through the real
loop, and those runs are what the result reports.  Subjects that cannot be
replayed faithfully are searched through the loop itself.
"""

from __future__ import annotations

from ..core import timeouts
from ..core.errors import ConfigError
from ..judging.results import Example, Result
from ..loops import LoopSettings, Run
from ..loops.drivers import Driver, fed_as
from ..reasons import Reason
from ..subjects.config import ConfigLoss, probe_config
from ..subjects.context import CheckContext
from . import adversarial, diagnosis, labels
from .candidates import replayer_for
from .confirm import Confirmation
from .explore import Assessor, Explorer, Tally, order_key
from .runner import Runner

CONFIG_PROBE_EXAMPLES = 8  # the config probe feeds at most this many examples' batches (two eager replays each)


class Search:
    """One subject, one mode: fixed examples, search, shrink, confirm, reproduce; the :class:`Result`.

    The driver (the real loop) is the search's own; the runner judges loop runs with it, the replayer borrows
    its fixed-score model where a callback needs one.
    """

    def __init__(self, context: CheckContext, progress=None):
        self.context, self.progress = context, progress
        self.driver = Driver(context)
        self.runner = Runner(context, self.driver)
        self.confirmation = Confirmation(context, self.runner)

    def run(self) -> Result:
        context = self.context
        if context.data is not None and context.partitions is not None:
            labels.probe(context, self.runner)
            return self._result(self._explicit(), counted=None, replaying=False)
        labels.probe(context, self.runner)
        replayer = replayer_for(context, self.driver)
        fixed = self._fixed_runs()
        tally = Tally(context.settings.examples, self.progress, done_before=len(fixed))
        if fixed:
            tally.note(len(fixed), max(e.badness() for e in fixed))
        budget = context.settings.examples - len(fixed)
        shrunk, replaying = None, replayer is not None
        if budget > 0 and not (replayer is None and any(not e.passed for e in fixed)):
            explorer = Explorer(context, Assessor(self.runner, replayer), tally)
            shrunk = explorer.search(budget)
            replaying = explorer.assessor.replaying
        examples = fixed + self.confirmation.confirm(shrunk, tally)
        return self._result(examples, counted=len(fixed) + tally.evaluated, replaying=replaying)

    def _config_loss(self, examples: list[Example]) -> ConfigLoss | None:
        """The config probe: what ``load_model`` would give back of the subject's metrics, fed the batches of the
        first examples as the loop fed them (the fixed ones: a threshold tie, nothing positive, ...), where it logs
        something else than the metric as built on one of them."""
        task = self.context.semantics.task
        batch_sets = [fed_as(list(e.fed_batches), e.loop, task) for e in examples if e.fed_batches]
        with timeouts.call("the subject's metrics rebuilt from their config and fed the fixed examples"):
            return probe_config(self.context.subject, batch_sets[:CONFIG_PROBE_EXAMPLES])

    def _explicit(self) -> list[Example]:
        """Given data and partitions: for each feed, the partitions it can give, one after another on one model."""
        context = self.context
        y, s = context.data
        kinds = context.settings.feeds or (LoopSettings().feed,)
        compile_settings = context.settings.fixed_compile()
        found = []
        for feed in kinds:
            for weights in self._explicit_weights():
                loop = adversarial.labelled(LoopSettings(feed=feed, weights=weights.kind, **compile_settings),
                                            context.refusals.accepted())
                runs = [Run(p, loop, weights) for p in context.partitions
                        if feed.fits(p) and feed in context.feeds_for(weights.kind)]
                if runs:
                    found += self.runner.sequence(y, s, runs)
        if not found:
            raise ConfigError(
                f"none of feeds={[str(f) for f in kinds]} can feed these partitions in mode {context.mode.value!r}: "
                "uniform feeds (numpy, tf.data) need equal batches and a smaller last one; generator-no-steps is "
                "evaluate-only; Keras refuses class weights for Python generators."
            )
        return found

    def _explicit_weights(self) -> list:
        """The weights the given data runs with: one per kind the check draws (the given ones where they are of
        that kind, else the fixed examples' weights)."""
        context = self.context
        return [adversarial.fixed_weights((kind,), len(context.data[0]), context.columns, context.inputs.weights)
                for kind in context.weight_kinds]

    def _fixed_runs(self) -> list[Example]:
        context = self.context
        settings, mode = context.settings, context.mode
        runs = None
        if context.partitions is None:
            runs = adversarial.fixed_runs(settings, mode, context.feeds, context.data, context.weight_kinds,
                                          context.inputs.weights, context.refusals.accepted())
        found = self.runner.sequence(runs.y, runs.scores, list(runs.runs)) if runs else []
        if context.subject.scores_itself and context.data is None and context.partitions is None \
                and settings.examples > len(found):
            large = adversarial.large_run(settings, mode, context.feeds, context.weight_kinds,
                                          context.refusals.accepted())
            if large is not None:
                found.append(self.runner.run(*large))
        if context.data is None and context.partitions is None and settings.examples > len(found):
            for large in adversarial.sixteen_bit_runs(settings, mode, context.feeds, context.weight_kinds,
                                                      context.refusals.accepted()):
                found.append(self.runner.run(*large))
        return found

    def _result(self, examples: list[Example], counted: int | None, replaying: bool) -> Result:
        context = self.context
        failing = [e for e in examples if not e.passed]
        counterexample = min(failing, key=order_key, default=None)
        if counterexample is not None and counterexample.blame == "loop" and replaying:
            counterexample = self.confirmation.shrink_in_loop() or counterexample
        if counterexample is not None:
            self.confirmation.reproduce(counterexample)
        settings = context.settings
        worst = max(examples, key=Example.badness, default=None)
        why = diagnosis.standing(counterexample, worst, failing, context)
        loss = self._config_loss(examples)
        notes = (Reason("config-loses-arguments", loss.text()),) if loss is not None else ()
        if notes and failing and context.mode.reloads:  # the round trip is the failure's reason
            why = notes + tuple(w for w in why if w.code not in ("unexplained", "one-of-readings"))
        return Result(
            target=context.label, mode=context.mode, passed=not failing,
            examples=len(examples) if counted is None else counted, tolerance=settings.tolerance,
            judge=settings.judge, worst=worst, counterexample=counterexample, score=settings.semantics.score,
            runs=examples, why=why, refused=tuple(context.refusals.json()), notes=notes,
        )

