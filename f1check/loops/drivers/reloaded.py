"""Mode ``reloaded``: a checkpoint's round trip, then the loops a resumed run calls.

The harness's model trains one epoch (its optimizer and metric variables
exist, as in a repository that trained before it checkpointed), is saved with
``model.save`` to a ``.keras`` file in a temporary folder, and loaded back
with ``keras.models.load_model(path, custom_objects=...)`` naming the
subject's classes and functions as a user names them.  Keras rebuilds every
compiled metric from its ``get_config()``.  On the model it gave back,
``evaluate`` over the partition and one more ``fit`` epoch run, each
observed; the callbacks are made again for the loaded model (Keras saves
none).  tf-keras saves and loads the same ``.keras`` format.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Any

from ...core import backend
from ...core.causes import cause
from ...core.errors import F1CheckError, SubjectError
from ...core.modes import Mode
from ...subjects import log_key
from ...subjects.config import fix, saved_objects
from .observing import Epoch, judged_head

SAVED_AS = "f1check_reloaded.keras"


@dataclass
class Loaded:
    """The model ``load_model`` gave back, and what f1check reads off it."""

    model: Any
    tap: Any
    recorder: Any
    metric_keys: tuple[str, ...]
    metrics: list = field(default_factory=list)  # the subject's compiled metrics as load_model rebuilt them
    initial: Any = None  # its weights as loaded (before the judged passes)


def reloaded_epochs(run) -> tuple[list[Epoch], Loaded]:
    """One epoch of ``fit``, the round trip, then ``evaluate`` and one more ``fit`` epoch on the loaded model:
    the two judged passes, and the loaded model."""
    harness = run.harness
    before = _train_before_saving(run)
    saved = [backend.values(getattr(obj, "variables", [])) for obj in harness.metric_objects]
    loaded = save_and_load(harness)
    loaded.recorder.decode = harness.recorder.decode
    came_back = all(_same(a, backend.values(getattr(obj, "variables", []))) for a, obj in zip(saved, loaded.metrics))
    first = _evaluate(run, loaded)
    # what the metrics were fed before saving, where their variables came back with the model (Keras 3.15 loads
    # none: a metric that never resets starts again from zero)
    first.preceding = [before] if came_back and any(saved) else []
    second = _fit(run, loaded)
    return [first, second], loaded


def _callbacks(run, model, tap, recorder):
    """The observer, the subject's callbacks made for ``model``, the log capture and the tap switch."""
    harness = run.harness
    observer = harness.parts.observer(tap, recorder, run.inputs, None, True, harness.context.replicas)
    observer.head = harness.heads.output if harness.heads else None
    capture = harness.parts.capture()
    made = harness.subject.callbacks(model, run.inputs, harness.callback_labels(run.y, run.loop), run.callback_weights)
    return observer, capture, [observer, *made, capture, harness.parts.tap_on(tap)]


def _one_epoch(run, model, tap, recorder):
    """One ``fit`` epoch of ``model`` over the partition: its snapshot and logs."""
    harness = run.harness
    observer, capture, callbacks = _callbacks(run, model, tap, recorder)
    given = run.given(run.partition, Mode.FIT.steps_key)
    harness.loop_method(run.loop.feed, training=True, model=model)(
        *given.args, epochs=1, shuffle=False, verbose=0, callbacks=callbacks, **given.kwargs)
    if len(observer.epochs) != 1 or len(capture.epochs) != 1:
        raise F1CheckError(f"internal: one fit epoch ended {len(capture.epochs)} times ({len(observer.epochs)} "
                           "observed) in mode 'reloaded'.")
    return observer.epochs[0], capture.epochs[0]


def _train_before_saving(run) -> list:
    """The epoch a repository trains before it checkpoints: the batches its metrics were fed."""
    harness = run.harness
    snapshot, _ = _one_epoch(run, harness.model, harness.tap, harness.recorder)
    return snapshot.batches


def save_and_load(harness) -> Loaded:
    """``model.save`` to a temporary ``.keras`` file, then ``keras.models.load_model`` with the subject's classes
    and functions as ``custom_objects``; an error that names the subject and the fix where Keras cannot."""
    keras, label = harness.parts.keras, harness.subject.label
    objects = {**harness.parts.custom_objects, **saved_objects(harness.subject)}
    # Keras's own warnings while saving and loading (numpy's copy keyword, variables it skips) are not the user's
    with tempfile.TemporaryDirectory(prefix="f1check-") as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = os.path.join(folder, SAVED_AS)
        try:
            harness.model.save(path)
        except Exception as exc:
            raise _error(label, "model.save", exc) from None
        try:
            model = keras.models.load_model(path, custom_objects=objects)
        except Exception as exc:
            raise _error(label, "keras.models.load_model", exc) from None
    plain, weighted = _compiled(model, label)
    recorders = [m for m in plain + weighted if isinstance(m, harness.parts.recorder)]
    plain = [m for m in plain if not isinstance(m, harness.parts.recorder)]
    weighted = [m for m in weighted if not isinstance(m, harness.parts.recorder)]
    if len(recorders) != 1 or len(plain) + len(weighted) != len(harness.subject.metrics):
        raise F1CheckError(f"internal: the model load_model gave back compiles {len(plain) + len(weighted)} metrics "
                           f"and {len(recorders)} recorders, where {label} and f1check compiled "
                           f"{len(harness.subject.metrics)} and 1 (mode 'reloaded'). Please report it.")
    subject_metrics = [(weighted if m.weighted else plain).pop(0) for m in harness.subject.metrics]
    keys = tuple(harness.context.log_prefix + log_key(obj) for obj in subject_metrics)
    tap = model.get_layer("f1check_sample_tap")
    return Loaded(model, tap, recorders[0], keys, subject_metrics, backend.values(model.weights))


def _same(before: list, after: list) -> bool:
    import numpy as np

    return len(before) == len(after) and all(np.shape(a) == np.shape(b) and np.array_equal(a, b)
                                             for a, b in zip(before, after))


def _compiled(model, label: str) -> tuple[list, list]:
    """The loaded model's compiled metrics, as given to ``compile``: plain and weighted, in order."""
    holder = getattr(model, "_compile_metrics", None) or getattr(model, "compiled_metrics", None)
    if holder is None or getattr(model, "optimizer", None) is None:
        raise SubjectError(f"{label}: keras.models.load_model gave back a model that is not compiled (Keras could "
                           "not rebuild its compile() arguments from the saved file). Give the metric's class a "
                           f"get_config() that returns every constructor argument, {fix('threshold')}")
    return _flat(getattr(holder, "_user_metrics", None)), _flat(getattr(holder, "_user_weighted_metrics", None))


def _flat(metrics) -> list:
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        return [m for value in metrics.values() for m in _flat(value)]
    if isinstance(metrics, (list, tuple)):
        return [m for value in metrics for m in _flat(value)]
    return [metrics]


def _error(label: str, where: str, exc: Exception) -> SubjectError:
    error = SubjectError(
        f"{label}: {where} raised {type(exc).__name__}: {cause(exc).splitlines()[0][:400]}\n(mode 'reloaded': the "
        "model compiled with the subject, trained one epoch, saved to a .keras file and loaded back with "
        "custom_objects naming the subject's classes and functions). Give the metric's class a get_config() that "
        f"returns every constructor argument, {fix('threshold')}")
    error.code = "config-loses-arguments"
    return error


def _evaluate(run, loaded: Loaded) -> Epoch:
    """``evaluate`` over the partition on the loaded model (a callback, which reports at an epoch's end, gets one
    ``fit`` epoch at learning rate 0 instead, as in mode ``evaluate``)."""
    harness = run.harness
    if harness.subject.needs_epoch_end:
        rate = loaded.model.optimizer.learning_rate
        kept = backend.to_numpy(rate)
        rate.assign(0.0)
        try:
            snapshot, logs = _one_epoch(run, loaded.model, loaded.tap, loaded.recorder)
        finally:
            rate.assign(kept)
        return _as_epoch(run, loaded, snapshot, logs)
    loaded.tap.reset()
    loaded.tap.switch(True)
    given = run.given(run.partition, Mode.EVALUATE.steps_key)
    logs = harness.evaluate_logs(harness.loop_method(run.loop.feed, training=False, model=loaded.model), given)
    loaded.tap.switch(False)
    fed, batches = loaded.tap.recorded(), loaded.recorder.recorded()
    end = backend.to_numpy(judged_head(loaded.model(run.inputs, training=False),
                                       harness.heads.output if harness.heads else None)).astype("float32")
    reported = harness.subject.reported(logs, loaded.metric_keys)
    return Epoch(reported, batches, fed, end, logs, dict(logs), loaded.initial)


def _fit(run, loaded: Loaded) -> Epoch:
    """One more ``fit`` epoch on the loaded model, its callbacks made again for it."""
    return _as_epoch(run, loaded, *_one_epoch(run, loaded.model, loaded.tap, loaded.recorder))


def _as_epoch(run, loaded: Loaded, snapshot, logs: dict) -> Epoch:
    """A ``fit`` epoch of the loaded model as the runner judges it: the value its logs hold, what it fed."""
    return Epoch(run.harness.subject.reported(logs, loaded.metric_keys), snapshot.batches, snapshot.fed_indices,
                 snapshot.end_scores, logs, snapshot.logs, snapshot.model_weights)
