"""One example through the real loop: observe, replay, reference, attribute, judge, diagnose.

This is where an :class:`~f1check.judging.results.Example` comes from: the driver runs
the partition through the real Keras loop (every epoch observed), the subject
is replayed on exactly the batches the loop fed (what it computes when fed
directly), sklearn gives the reference on what was fed and on all samples,
and :mod:`f1check.core.verdict` decides every epoch; the example is its worst epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core import backend, timeouts, verdict
from ..core.errors import Refused, SubjectError
from ..core.partitions import Partition
from ..core.weights import weights_of
from ..judging import reference
from ..judging.results import Example
from ..loops import Run
from ..loops.drivers import Driver, Epoch, Observation, dtype_policy, fed_as
from ..subjects import MetricSubject, ReplayScene
from ..subjects.context import CheckContext
from . import diagnosis


@dataclass(frozen=True)
class EpochJudgement:
    """One epoch's references, attribution and verdict."""

    replayed: float
    f1_seen: float
    f1_all: float
    error: reference.Attribution
    verdict: verdict.Verdict


class Runner:
    """Runs examples of one subject in one mode through the real loop (its ``driver``) and judges them."""

    def __init__(self, context: CheckContext, driver: Driver):
        self.context, self.driver = context, driver
        self.subject, self.mode, self.settings = context.subject, context.mode, context.settings
        self.semantics = context.semantics
        self.history: list = []  # batches the current model's metrics were fed, per epoch (for carried state)
        self.harness = None

    # -- running ------------------------------------------------------------------------------------------

    def run(self, y, scores, run: Run, preceded_by: tuple[Partition, ...] = (), continuing: bool = False) -> Example:
        """One example; ``continuing`` runs it on the current model, after ``preceded_by`` (a sequence)."""
        with timeouts.call(f"the {self.mode.value} loop over n={len(y)}, batches {run.partition.short()}"):
            try:
                observation = self.driver.run(y, scores, run.partition, run.loop, run.weights, in_sequence=continuing)
            except SubjectError as exc:
                refused = self.refused(run.loop, exc)
                if refused is None:
                    raise
                self.driver.discard()
                raise refused from None
        if self.driver.harness is not self.harness:
            self.harness, self.history = self.driver.harness, []
        replayed, replay_note = self._replay(observation, y)
        carried = run.weights.per_sample(y, self.semantics.task, self.mode)
        judged = [self._judge(y, epoch, value, carried) for epoch, value in zip(observation.epochs, replayed)]
        self.history += [self._fed(b, run.loop) for epoch in observation.epochs for b in (*epoch.preceding, epoch.batches)]
        worst = max(range(len(judged)), key=lambda e: judged[e].verdict.badness)
        epoch, chosen = observation.epochs[worst], judged[worst]
        example = Example(
            reported=epoch.reported, replayed=chosen.replayed, f1_seen=chosen.f1_seen, f1_all=chosen.f1_all,
            error=chosen.error, partition=run.partition, judged_error=chosen.verdict.judged_error,
            passed=all(j.verdict.passed for j in judged), mode=self.mode, judge=self.settings.judge, epoch=worst,
            epochs=len(judged), loop=run.loop, replicas=self.settings.replicas,
            fed_batch_sizes=tuple(epoch.batch_sizes), preceded_by=tuple(preceded_by), y_true=y, scores=scores,
            weights=run.weights, fed_batches=tuple(epoch.batches),
        )
        example.diagnosis = tuple(diagnosis.diagnose(example, observation, self.context,
                                                     self._carried(example, observation, y)))
        example.notes = tuple(n for n in (replay_note, self._cast_note(y, scores, run, observation)) if n)
        return example

    def _cast_note(self, y, scores, run: Run, observation: Observation) -> str | None:
        """Under a 16-bit policy (fixed scores): the samples whose score the cast moved across the threshold."""
        import numpy as np

        if not run.loop.sixteen_bit or self.mode.trains or self.semantics.task != "binary":
            return None
        threshold = self.semantics.threshold
        cast = observation.epochs[0].end_scores
        moved = np.flatnonzero((scores[:, 0] > threshold) != (cast[:, 0] > threshold))
        if not len(moved):
            return None
        shown = ", ".join(f"{scores[k, 0]:.6g} -> {cast[k, 0]:.6g}" for k in moved[:3])
        return (f"under {run.loop.dtype_policy} the model fed 16-bit predictions: {len(moved)} of {len(y)} samples "
                f"changed side of the threshold {threshold:g} in the cast ({shown}{', ...' if len(moved) > 3 else ''}); "
                "sklearn judges the predictions as fed.")

    def refused(self, loop, exc: SubjectError) -> Refused | None:
        """The subject's error on ``loop``'s labels as a refusal of their form and dtype (recorded, never drawn
        again), where another form comes first that it takes; None where the error is the subject's own."""
        refusals, pair = self.context.refusals, loop.label_pair
        if not refusals.refusable(pair):
            return None
        refusals.refuse(pair, str(exc).splitlines()[0][:500])
        return Refused(f"{self.subject.label} refused {loop.form(self.semantics.task).describe(loop.label_dtype)}")

    def sequence(self, y, scores, runs: list[Run]) -> list[Example]:
        """``runs`` of the same data one after another on one fresh model (a run on labels the subject refuses is
        left out, and the next goes on)."""
        self.driver.begin_sequence(len(y), max(r.partition.steps for r in runs), runs[0].loop.compile_key)
        found, before = [], []
        for run in runs:
            if not self.context.refusals.accepts(run.loop.label_pair):
                continue
            try:
                found.append(self.run(y, scores, run, preceded_by=() if self.mode.reloads else tuple(before),
                                      continuing=not self.mode.reloads))
            except Refused:
                continue
            before.append(run.partition)
        return found

    # -- replay and judging -------------------------------------------------------------------------------

    def _replay(self, observation: Observation, y) -> tuple[list[float], str | None]:
        """What the subject computes fed each epoch's batches directly; a note if that could not be done."""
        epochs = observation.epochs
        scene = ReplayScene([e.logs_in for e in epochs], observation.model, observation.inputs,
                            self.driver.harness.callback_labels(y, observation.loop),
                            [e.model_weights for e in epochs], observation.starts(), observation.callback_weights)
        policy = observation.loop.dtype_policy
        with dtype_policy(backend.framework(), policy):  # metrics built as the loop built them, fed 16-bit values
            values, note = self.subject.replay_observed(
                lambda metric: self._replay_metric(metric, epochs, observation.loop),
                observation.metric_keys, scene)
        if values is None:
            return [e.reported for e in epochs], note
        return values, note

    def _fed(self, batches: list, loop) -> list:
        """Recorded batches as ``loop`` fed them (the labels' form and dtype, the predictions' dtype)."""
        return fed_as(batches, loop, self.semantics.task)

    def _replay_metric(self, metric: MetricSubject, epochs: list[Epoch], loop) -> list[float]:
        """One metric fed each epoch's batches directly, as ``loop`` fed them (the labels' form and dtype, the
        predictions in the dtype its policy computes in); for a metric that carries state, after everything the
        loop's instance was fed before them (earlier runs on the same model, the training pass before a validation
        pass), each with ``reset_state()`` between, as Keras resets."""
        if self.context.clean:
            return metric.replay_epochs([self._fed(e.batches, loop) for e in epochs])
        sequence, judged = list(self.history), []
        for epoch in epochs:
            sequence += [self._fed(b, loop) for b in epoch.preceding]
            judged.append(len(sequence))
            sequence.append(self._fed(epoch.batches, loop))
        values = metric.replay_epochs(sequence)
        return [values[k] for k in judged]

    def _judge(self, y, epoch: Epoch, replayed: float, carried) -> EpochJudgement:
        """sklearn on what was fed (weighted by what each fed sample carried) and on all samples (``carried``:
        the weight each sample carries in the judged pass, None when unweighted)."""
        sem = self.semantics
        f1_all = reference.reference(y, epoch.end_scores, sem, carried)
        if self.subject.scores_itself:
            f1_seen = f1_fed_end = f1_all
        elif epoch.batches:
            f1_seen = reference.reference(*epoch.fed(), sem, weights_of(epoch.batches))
            index = epoch.fed_indices
            f1_fed_end = reference.reference(y[index], epoch.end_scores[index], sem,
                                             None if carried is None else carried[index])
        else:
            f1_seen = f1_fed_end = math.nan
        error = reference.attribute(epoch.reported, replayed, f1_seen, f1_fed_end, f1_all)
        decided = verdict.decide(epoch.reported, f1_seen, f1_all, self.settings.judge, self.settings.tolerance)
        return EpochJudgement(replayed, f1_seen, f1_all, error, decided)

    # -- what the diagnosis of carried state needs ---------------------------------------------------------

    def _carried(self, example: Example, observation: Observation, y) -> diagnosis.Carried | None:
        """The worst epoch replayed with nothing before it: on fresh metrics (a metric that keeps state across
        ``reset_state()``), or on a fresh callback given that epoch alone (a failing callback, epoch 2 on)."""
        direct = self.subject.direct
        if direct is not None:
            if self.context.clean:
                return None
            batches = self._fed(observation.epochs[example.epoch].batches, observation.loop)
            return diagnosis.Carried(direct.replay(batches), self.context.carried)
        if example.epoch == 0 or example.passed:
            return None
        return diagnosis.Carried(self._callback_alone(observation, example.epoch, y), None)

    def _callback_alone(self, observation: Observation, epoch: int, y) -> float:
        """The epoch's value from a fresh callback given that epoch alone (for the kept-across-epochs diagnosis)."""
        alone = observation.epochs[epoch]
        scene = ReplayScene([alone.logs_in], observation.model, observation.inputs,
                            self.driver.harness.callback_labels(y, observation.loop), [alone.model_weights],
                            [observation.starts()[epoch]], observation.callback_weights)
        try:
            return self.subject.replay_epochs([dict(alone.logs_in)], scene)[0]
        except SubjectError:
            return math.nan
