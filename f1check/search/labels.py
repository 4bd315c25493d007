"""Which label forms the subject takes: a cheap probe before the fixed examples, confirmed by the real loop.

A subject that raises on a form or dtype of labels (``keras.metrics.F1Score`` on ``(n,)`` labels: "FBetaScore
expects 2D inputs") has *refused* it: the form is recorded in the result, never drawn, and the verdict comes from
the forms it takes.  Each allowed ``(form, dtype)`` is fed to the subject's metrics directly, on the fixed
examples' batches; a pair that raises there is run once through the real loop, and refused only if the loop
raises too and some other pair is taken.  A subject that raises on every pair allowed is not refusing forms: its
error (which the fixed examples then meet in the loop, quoting its message and the labels fed) is its own.  Callbacks that score
their data themselves are not probed here: the runner records a refusal when their loop raises on a form
(:meth:`f1check.search.runner.Runner.refused`).
"""

from __future__ import annotations

from dataclasses import replace

from ..core import backend
from ..core.errors import Refused, SubjectError
from ..loops import LoopSettings
from ..loops.drivers import fed_as
from ..subjects.context import CheckContext
from . import adversarial


def probe(context: CheckContext, runner) -> None:
    """Record in ``context.refusals`` the label pairs the subject refuses (raises on while it takes another)."""
    refusals, metrics = context.refusals, context.subject.metrics
    if not metrics:
        return
    task = context.semantics.task
    batches = adversarial.probe_batches(context.settings)
    raising: dict = {}
    for pair in refusals.allowed:
        fed = fed_as(batches, LoopSettings(labels=pair[0], label_dtype=pair[1]), task)
        for metric in metrics:
            try:
                with backend.held_back(backend.ABORTED_STEP):
                    metric.replay(fed)
            except SubjectError as exc:
                raising[pair] = exc
                break
    if not raising or len(raising) == len(refusals.allowed):
        return  # it takes every form, or raises on every one: then its error is its own, and the loop says it
    by_message: dict = {}  # the pairs that raise the same error are confirmed once (int64 on every form, say)
    for pair, exc in raising.items():
        by_message.setdefault(str(exc).splitlines()[0][:500], []).append(pair)
    for message, pairs in by_message.items():
        if _raises_in_loop(context, runner, pairs[0]):
            for pair in pairs:
                refusals.refuse(pair, message)


def _raises_in_loop(context: CheckContext, runner, pair) -> bool:
    """Whether the real loop raises on the fixed examples' first run fed labels as ``pair``."""
    runs = adversarial.fixed_runs(context.settings, context.mode, context.feeds, context.data, context.weight_kinds,
                                  context.inputs.weights)
    if runs is None:
        return True  # nothing to run: the direct feed's error stands
    run = runs.runs[0]
    run = replace(run, loop=replace(run.loop, labels=pair[0], label_dtype=pair[1]))
    try:
        with backend.held_back(backend.ABORTED_STEP):
            runner.run(runs.y, runs.scores, run)
    except (SubjectError, Refused):
        runner.driver.discard()  # its compiled functions may be half made
        return True
    return False
