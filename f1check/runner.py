"""One example through the real loop: observe, replay, reference, attribute, judge, diagnose.

This is where an :class:`~f1check.results.Example` comes from: the driver runs
the partition through the real Keras loop (every epoch observed), the subject
is replayed on exactly the batches the loop fed (what it computes when fed
directly), sklearn gives the reference on what was fed and on all samples,
and :mod:`f1check.verdict` judges every epoch; the example is its worst epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import diagnosis, reference, verdict
from .diagnosis import nan_error
from .drivers import Driver, Epoch, Observation
from .errors import SubjectError
from .partitions import Partition
from .results import Example
from .settings import CheckSettings
from .subjects import CallbackSubject, CarriedState, MetricSubject, log_key


@dataclass(frozen=True)
class EpochJudgement:
    """One epoch's references, attribution and verdict."""

    replayed: float
    f1_seen: float
    f1_all: float
    error: reference.Attribution
    verdict: verdict.Verdict


class Runner:
    """Runs examples of one subject in one mode through the real loop and judges them."""

    def __init__(self, subject, mode: str, settings: CheckSettings, columns: int, carried: CarriedState | None = None):
        self.subject, self.mode, self.settings = subject, mode, settings
        self.semantics = settings.semantics
        self.carried = carried  # what the subject's metric keeps across reset_state(), if anything
        clean = self.clean = carried is None
        self.driver = Driver(subject, mode, self.semantics, columns, settings.replicas, clean)
        self.history: list = []  # batches the current model's metrics were fed, per epoch (for carried state)
        self.harness = None

    # -- running ------------------------------------------------------------------------------------------

    def run(self, y, scores, partition: Partition, feed: str, preceded_by: tuple[Partition, ...] = (),
            continuing: bool = False) -> Example:
        """One example; ``continuing`` runs it on the current model, after ``preceded_by`` (a sequence)."""
        observation = self.driver.run(y, scores, partition, feed, in_sequence=continuing)
        if self.driver.harness is not self.harness:
            self.harness, self.history = self.driver.harness, []
        replayed, replay_note = self._replay(observation, y, partition)
        judged = [self._judge(y, epoch, value) for epoch, value in zip(observation.epochs, replayed)]
        self.history += [b for epoch in observation.epochs for b in (*epoch.preceding, epoch.batches)]
        worst = max(range(len(judged)), key=lambda e: judged[e].verdict.badness)
        epoch, chosen = observation.epochs[worst], judged[worst]
        example = Example(
            reported=epoch.reported,
            replayed=chosen.replayed,
            f1_seen=chosen.f1_seen,
            f1_all=chosen.f1_all,
            error=chosen.error,
            partition=partition,
            judged_error=chosen.verdict.judged_error,
            passed=all(j.verdict.passed for j in judged),
            mode=self.mode,
            judge=self.settings.judge,
            epoch=worst,
            epochs=len(judged),
            feed=feed,
            replicas=self.settings.replicas,
            fed_batch_sizes=tuple(epoch.batch_sizes),
            preceded_by=tuple(preceded_by),
            y_true=y,
            scores=scores,
        )
        if isinstance(self.subject, CallbackSubject):
            alone = worst > 0 and not example.passed  # replayed for the diagnosis of a failure only
            carried = diagnosis.Carried(self._callback_alone(observation, worst, y), None) if alone else None
        else:
            carried = None if self.clean else diagnosis.Carried(self._fresh_replay(observation, worst), self.carried)
        notes = diagnosis.diagnose(example, observation, self.subject, self.semantics, self.settings.tolerance, carried)
        example.diagnosis = tuple(([replay_note] if replay_note else []) + notes)
        return example

    def sequence(self, y, scores, runs) -> list[Example]:
        """``runs`` (partition, feed) of the same data one after another on one fresh model."""
        self.driver.begin_sequence(len(y), max(p.steps for p, _ in runs))
        found, before = [], []
        for partition, feed in runs:
            found.append(self.run(y, scores, partition, feed, preceded_by=tuple(before), continuing=True))
            before.append(partition)
        return found

    # -- replay and judging -------------------------------------------------------------------------------

    def _replay(self, observation: Observation, y, partition: Partition) -> tuple[list[float], str | None]:
        """What the subject computes fed each epoch's batches directly; a note if that could not be done."""
        epochs = observation.epochs
        if isinstance(self.subject, MetricSubject):
            values = self._replay_metric(self.subject, epochs)
            for e, value in enumerate(values):
                if math.isnan(value):
                    raise nan_error(self.subject.label, partition, epochs[e].batches, self.semantics)
            return values, None
        return self._replay_callback(observation, y)

    def _replay_metric(self, subject: MetricSubject, epochs: list[Epoch]) -> list[float]:
        """One metric fed each epoch's batches directly; for a metric that carries state, after everything the
        loop's instance was fed before them (earlier runs on the same model, the training pass before a
        validation pass), each with ``reset_state()`` between, as Keras resets."""
        if self.clean:
            return subject.replay_epochs([e.batches for e in epochs])
        sequence, judged = list(self.history), []
        for epoch in epochs:
            sequence += epoch.preceding
            judged.append(len(sequence))
            sequence.append(epoch.batches)
        values = subject.replay_epochs(sequence)
        return [values[k] for k in judged]

    def _replay_callback(self, observation: Observation, y) -> tuple[list[float], str | None]:
        subject: CallbackSubject = self.subject
        epochs = observation.epochs
        logs = [dict(e.logs_in) for e in epochs]
        try:
            keys = [log_key(obj) for obj in self.driver.harness.compiled]
            for companion, key in zip(subject.metrics, keys):
                key = f"val_{key}" if self.mode.startswith("validation") else key
                for e, value in enumerate(self._replay_metric(companion, epochs)):
                    logs[e][key] = value
            weights = [e.weights for e in epochs]
            values = subject.replay_epochs(logs, observation.model, observation.inputs, y, weights)
        except SubjectError as exc:
            first = str(exc).splitlines()[0]
            return [e.reported for e in epochs], f"replayed outside the loop, the callback failed ({first}); judged on the loop's values alone."
        if any(math.isnan(v) for v in values):
            return [e.reported for e in epochs], (
                f"replayed outside the loop with the logs the loop gave it, the callback wrote no "
                f"logs[{subject.key!r}]; judged on the loop's values alone."
            )
        return values, None

    def _judge(self, y, epoch: Epoch, replayed: float) -> EpochJudgement:
        sem = self.semantics
        f1_all = reference.reference(y, epoch.end_scores, sem)
        if isinstance(self.subject, CallbackSubject) and self.subject.scores_itself:
            f1_seen = f1_fed_end = f1_all
        elif epoch.batches:
            f1_seen = reference.reference(*epoch.fed(), sem)
            index = epoch.fed_indices
            f1_fed_end = reference.reference(y[index], epoch.end_scores[index], sem)
        else:
            f1_seen = f1_fed_end = math.nan
        error = reference.attribute(epoch.reported, replayed, f1_seen, f1_fed_end, f1_all)
        judged = verdict.judge(epoch.reported, f1_seen, f1_all, self.settings.judge, self.settings.tolerance)
        return EpochJudgement(replayed, f1_seen, f1_all, error, judged)

    def _callback_alone(self, observation: Observation, epoch: int, y) -> float:
        """The epoch's value from a fresh callback given that epoch alone (for the kept-across-epochs diagnosis)."""
        alone = observation.epochs[epoch]
        try:
            return self.subject.replay_epochs([dict(alone.logs_in)], observation.model, observation.inputs, y,
                                              [alone.weights])[0]
        except SubjectError:
            return math.nan

    def _fresh_replay(self, observation: Observation, epoch: int) -> float:
        """The worst epoch replayed on fresh metrics with nothing before it (for the carried-state diagnosis)."""
        batches = observation.epochs[epoch].batches
        if isinstance(self.subject, MetricSubject):
            return self.subject.replay(batches)
        return math.nan
