"""A compiled model for one subject in one mode, and the real Keras loop it runs.

- ``evaluate``: a model that outputs the given scores, through
  ``model.evaluate`` (a callback gets one epoch of ``fit`` at learning rate 0,
  so that ``on_epoch_end`` runs);
- ``fit`` and ``fit-dropped``: a logistic layer trained with SGD for
  ``FIT_EPOCHS`` epochs over features whose starting predictions are the
  given scores (the kernel starts as the identity on ``logit(scores)``), so
  predictions move while the epoch runs; every epoch is observed;
- ``validation`` and ``validation-dropped``: the same model trains on the
  data for ``FIT_EPOCHS`` epochs with the partition as ``validation_data``;
  every validation pass is observed (the ``val_`` logs);
- ``reloaded``: one ``fit`` epoch, ``model.save``, ``keras.models.load_model``, then ``evaluate`` and one more
  ``fit`` epoch on the loaded model (:mod:`f1check.loops.drivers.reloaded`).

tf-keras (:mod:`f1check.loops.drivers.legacy`) overrides only what differs: its
modules, its ``*_generator`` endpoints, its logs and its messages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ...core import backend, feeds
from ...core.causes import cause
from ...core.errors import F1CheckError, LoopError, SubjectError
from ...core.labels import LabelForm
from ...core.modes import Mode
from ...core.partitions import Partition
from ...core.settings import Semantics
from ...core.weights import NONE, Weights
from ...subjects import hint, log_key
from ...subjects.context import CheckContext
from .. import CompileKey, LoopSettings
from .compiling import TwoHeads, as_computed, dtype_policy, other_scores, setting_hint
from .observing import Epoch, Snapshot
from .parts import Parts, parts
from .reloaded import reloaded_epochs

FIT_LEARNING_RATE = 0.5  # large enough that predictions move within an epoch (the drift term)
TRAINING_BATCHES = 4  # batches of the training pass in the validation modes


@dataclass
class Observation:
    """Every epoch of one run, and the model and inputs a callback replay needs."""

    epochs: list[Epoch]
    loop: LoopSettings
    metric_keys: tuple[str, ...] = ()  # the keys the compiled metrics logged under in the judged pass
    model: Any = field(repr=False, default=None)
    inputs: Any = field(repr=False, default=None)  # what the model takes for every sample
    initial: Any = field(repr=False, default=None)  # the model's weights before the loop (trained callbacks' runs)
    callback_weights: Any = field(repr=False, default=None)  # the sample_weight a callback factory got (or None)

    def starts(self) -> list:
        """The model's weights when each epoch began: the initial ones, then each epoch's end."""
        return [self.initial, *(e.model_weights for e in self.epochs[:-1])]


def starting_features(scores, semantics: Semantics):
    """Features whose identity-initialised logistic layer predicts ``scores`` exactly at the start."""
    import numpy as np

    clipped = np.clip(scores.astype(np.float64), 1e-6, 1 - 1e-6)
    if semantics.task == "multiclass":
        return np.log(clipped).astype(np.float32)  # softmax(log s) = s / sum(s)
    return np.log(clipped / (1 - clipped)).astype(np.float32)  # sigmoid(logit s) = s


def logistic(keras, output, columns: int, semantics: Semantics, trains: bool):
    """``output`` through an identity-initialised logistic layer where the mode trains; as it is otherwise."""
    if not trains:
        return output
    return keras.layers.Dense(columns, activation="softmax" if semantics.task == "multiclass" else "sigmoid",
                              kernel_initializer=keras.initializers.Identity(), bias_initializer="zeros",
                              name="f1check_logistic")(output)


def loss_for(semantics: Semantics, form: LabelForm | None) -> str:
    """The model's loss, as a repository compiles it for the labels it feeds: sparse categorical cross-entropy for
    class indices, categorical cross-entropy for one-hot labels, binary cross-entropy otherwise."""
    if form is not None and form.sparse:
        return "sparse_categorical_crossentropy"
    return "categorical_crossentropy" if semantics.task == "multiclass" else "binary_crossentropy"


def training_partition(n: int) -> Partition:
    """The training feed of the validation modes: about ``TRAINING_BATCHES`` equal batches."""
    size = max(1, math.ceil(n / TRAINING_BATCHES))
    return Partition([size] * (n // size) + ([n % size] if n % size else []))


class Harness:
    """One subject's compiled model in one mode, kept between runs while that is safe.

    Building and compiling a model costs a trace (~0.4 s); running the
    compiled loop again costs ~0.1 s.  Trained weights and the optimiser are
    put back to their start before each run; the table gets the run's data.
    """

    LEGACY = False
    ERROR_PREFIX = ""

    def __init__(self, context: CheckContext, rows: int, steps: int, compile_key: CompileKey = CompileKey()):
        self.context, self.compile_key = context, compile_key
        self.heads = TwoHeads(context.settings.output, compile_key.outputs, context.semantics) \
            if context.settings.output else None
        self.subject, self.mode, self.semantics = context.subject, context.mode, context.semantics
        self.parts: Parts = parts(self.LEGACY)
        if self.mode.validates:  # the recorder also sees the training pass's batches
            steps = max(steps, TRAINING_BATCHES + 1)
        self._build(rows, steps)

    # -- building ----------------------------------------------------------------------------------------

    def _build(self, rows: int, steps: int) -> None:
        keras, columns, replicas, key = self.parts.keras, self.context.columns, self.context.replicas, self.compile_key
        with backend.replica_scope(replicas), dtype_policy(keras, key.dtype_policy):
            self.tap = self.parts.tap(rows, replicas, name="f1check_sample_tap")
            table = self.parts.table(rows, columns, name="f1check_table")
            other = self.parts.table(rows, columns, name="f1check_other_table") if self.heads else None
            self.model = self._model(keras, table, other)
            self.table = table.table
            self.other_table = other.table if other is not None else None
            self.recorder = self.parts.recorder(rows, steps, columns, replicas, self.context.weighs)
            self.metric_objects = [m.fresh() for m in self.subject.metrics]  # the subject's metrics, as compiled
            weighted = [obj for obj, m in zip(self.metric_objects, self.subject.metrics) if m.weighted]
            plain = [obj for obj, m in zip(self.metric_objects, self.subject.metrics) if not m.weighted]
            optimizer = keras.optimizers.SGD(learning_rate=FIT_LEARNING_RATE if self.mode.trains else 0.0)
            # a recorder that weighs is a weighted metric: it records the weight each fed sample carried
            (weighted if self.recorder.weighs else plain).append(self.recorder)
            on_head = self.heads.on_head if self.heads else (lambda value, other=None: value)
            loss = loss_for(self.semantics, key.labels)
            self.model.compile(loss=on_head(loss, loss), optimizer=optimizer,
                               metrics=on_head(plain or None), weighted_metrics=on_head(weighted or None),
                               steps_per_execution=key.steps_per_execution,
                               jit_compile=backend.jit_compile(key.jit_compile))
        self.metric_keys = tuple(self.context.log_prefix + log_key(obj) for obj in self.metric_objects)
        self.start = backend.values(self.model.weights)
        self.rows, self.steps = rows, steps

    def labels(self, y, loop: LoopSettings):
        """What the loop is given as labels: held labels ``y`` in the loop's form and dtype, or on two outputs the
        judged head's and the other's together."""
        return self.heads.labels(y, loop) if self.heads else loop.encode(y, self.semantics.task)

    def callback_labels(self, y, loop: LoopSettings):
        """The labels a ``(model, x, y)`` callback factory gets: as the loop is fed them, in the model's output
        structure (its ``sample_weight``, where it takes them: ``CheckContext.callback_weights``)."""
        return self.heads.labels(y, loop)[:] if self.heads else loop.encode(y, self.semantics.task)

    def _model(self, keras, table, other=None):
        """sample index -> tap -> table row [-> identity-initialised logistic layer]; with ``other`` (a second
        table) a two-output model: the judged head (named as the check's ``output``) and another."""
        index = keras.Input(shape=(1,), dtype="int32", name="sample_index")
        tapped = self.tap(index)
        output = table(tapped)
        if other is not None:
            return self.heads.model(keras, index, logistic(keras, output, self.context.columns, self.semantics, self.mode.trains), other(tapped))
        return keras.Model(index, logistic(keras, output, self.context.columns, self.semantics, self.mode.trains),
                           name="f1check_trained" if self.mode.trains else "f1check_fixed_scores")

    def holds(self, n: int, steps: int) -> bool:
        return n <= self.rows and steps <= self.steps

    # -- one run ----------------------------------------------------------------------------------------

    def run(self, y, scores, partition: Partition, loop: LoopSettings = LoopSettings(),
            weights: Weights = NONE) -> Observation:
        """``partition`` of ``(y, scores)`` through the real loop of the mode, run as ``loop`` says, given ``weights``."""
        if not self.holds(len(y), partition.steps):
            raise F1CheckError(f"internal: a harness for {self.rows} samples was given {len(y)}.")
        inputs = self.load(scores)
        initial = backend.values(self.model.weights) if self.mode.trains and self.subject.needs_epoch_end else None
        try:
            with backend.quiet():
                given = LoopRun(self, loop, inputs, (y, scores, weights), partition)
                epochs = given.epochs()
        except F1CheckError:
            raise
        except Exception as exc:
            raise (refused_arguments(exc, loop, weights, self.endpoint(loop.feed)) or self.failure(exc, loop)) from None
        for epoch in epochs:
            if len(epoch.fed_indices) != sum(len(b[0]) for b in epoch.batches):
                raise F1CheckError(
                    f"internal: the model saw {len(epoch.fed_indices)} samples but the metrics "
                    f"{sum(len(b[0]) for b in epoch.batches)}."
                )
        if given.loaded is not None:  # reloaded: the judged passes ran on the model load_model gave back
            loaded = given.loaded
            return Observation(epochs, loop, loaded.metric_keys, loaded.model, inputs, loaded.initial,
                               given.callback_weights)
        return Observation(epochs, loop, self.metric_keys, self.model, inputs, initial, given.callback_weights)

    def load(self, scores):
        """The model back at its start with ``scores`` (or their features) in its table; the inputs."""
        import numpy as np

        n = len(scores)
        table = np.zeros((self.rows, self.context.columns), np.float32)
        table[:n] = starting_features(scores, self.semantics) if self.mode.trains else scores
        self.model.set_weights(self.start)  # also puts the table's rows back, before the new ones
        self.table.assign(table)
        if self.other_table is not None:  # the other head's predictions: other values than the judged head's
            other = np.zeros((self.rows, self.context.columns), np.float32)
            other[:n] = other_scores(scores, self.semantics)
            self.other_table.assign(other)
        self.model.optimizer.iterations.assign(0)
        self.tap.reset()
        self.tap.switch(True)
        return np.arange(n, dtype=np.int32)[:, None]

    def quiet_model(self, scores):
        """The model loaded with ``scores`` and its tap off, for a replay that calls it; the inputs."""
        inputs = self.load(scores)
        self.tap.switch(False)
        return inputs

    @property
    def fits(self) -> bool:
        """Whether the loop is ``fit``: the mode trains, or a callback needs ``on_epoch_end`` even over fixed scores."""
        return self.mode.trains or self.subject.needs_epoch_end

    # -- what a Keras generation provides (tf-keras overrides these) ---------------------------------------

    def loop_method(self, feed: feeds.Feed, training: bool, model=None):
        model = self.model if model is None else model
        return model.fit if training else model.evaluate

    def evaluate_logs(self, evaluate, given: feeds.LoopInput) -> dict:
        return evaluate(*given.args, return_dict=True, verbose=0, **given.kwargs)

    def endpoint(self, feed: feeds.Feed) -> str:
        return "model.fit" if self.fits else "model.evaluate"

    def failure(self, exc: Exception, loop: LoopSettings) -> SubjectError:
        feed = loop.feed
        advice = hint(exc) or setting_hint(exc, loop)
        message = cause(exc).rstrip(".") if advice else cause(exc)
        error = SubjectError(
            f"{self.subject.label}: raised {type(exc).__name__}: {message}{advice}\n(inside "
            f"{self.ERROR_PREFIX}{self.endpoint(feed)}, fed {loop.describe(self.LEGACY)}, with the subject "
            f"compiled in; fix the subject so that it runs in a compiled {self.parts.keras.__name__} loop)"
        )
        if loop.compile_parts() and setting_hint(exc, loop):
            error.code = "fails-under-setting"
        if "has no attribute 'validation_data'" in str(exc):
            error.code = "callback-reads-missing-attribute"
        return weighted_function_error(self.subject, exc) or error


# What Keras 3 says when it refuses a loop's own arguments (its data adapters, before any step runs): a feed, weights
# or a model that it does not take together.  No subject's code is involved.
REFUSALS = ("is not supported for Python generator inputs", "is only supported for Models with a single output",
            "`class_weight` and `sample_weight`", "Arguments not recognized", "should not be passed. Instead,",
            "Unrecognized data type")


def refused_arguments(exc: Exception, loop: LoopSettings, weights: Weights, endpoint: str) -> LoopError | None:
    """An f1check error for Keras refusing the loop's own arguments (``class_weight`` with a Python generator, say),
    so that it is never blamed on the subject; None for any other error."""
    if not isinstance(exc, (ValueError, TypeError)) or not any(r in str(exc) for r in REFUSALS):
        return None
    return LoopError(
        f"internal: Keras refused the arguments f1check gave {endpoint} ({type(exc).__name__}: "
        f"{cause(exc).splitlines()[0][:300]}), fed {loop.describe()} ({weights.describe()}). This is f1check's "
        "fault, not the subject's: f1check should never draw such a loop. Please report it, with the check's "
        "arguments; meanwhile leave that feed or weight kind out of feeds= or weights=."
    )


def weighted_function_error(subject, exc: Exception) -> SubjectError | None:
    """The error of a metric function under weighted_metrics, which Keras cannot weigh; None for other subjects."""
    functions = [m.label for m in subject.metrics if m.weighted and m.is_function]
    if not functions:
        return None
    error = SubjectError(
        f"{functions[0]} is a metric function under weighted_metrics, and Keras cannot weigh it: a function "
        "returns one number per batch, while sample weights are one per sample (Keras raised "
        f"{type(exc).__name__}: {cause(exc).splitlines()[0][:200]}). Write a stateful keras.metrics.Metric "
        "whose update_state multiplies every count by sample_weight (as keras.metrics.F1Score does), or "
        "check this one unweighted (weighted = false)."
    )
    error.code = "weighted-function"
    return error


class LoopRun:
    """One run of a harness's loop over one partition: the Keras call, then every epoch as it was observed."""

    def __init__(self, harness: Harness, loop: LoopSettings, inputs, data: tuple, partition: Partition):
        self.harness, self.loop, self.inputs = harness, loop, inputs
        self.y, self.scores, self.weights = data
        self.labels = harness.labels(self.y, loop)  # the labels as fed, in the model's output structure
        form, columns = loop.form(harness.semantics.task), harness.context.columns
        harness.recorder.decode = lambda fed: form.decode(fed, columns)  # what the metrics saw, held again
        self.partition = partition
        self.mode = harness.mode
        kind = self.weights.kind
        self.sample = self.weights.sample if kind.per_sample else None
        self.by_class = {"class_weight": self.weights.class_weight} if kind.by_class else {}
        self.callback_weights = harness.context.callback_weights(self.y, self.weights)  # for a factory taking them
        self.loaded = None  # reloaded: the model load_model gave back, and its parts

    def given(self, partition: Partition, steps_key: str, feed: feeds.Feed | None = None, rotate: bool = False):
        feed = self.loop.feed if feed is None else feed
        return feed.build(self.inputs, self.labels, partition, steps_key=steps_key, dataset_class=self.harness.parts.dataset,
                          rotate=rotate, weights=self.sample)

    def epochs(self) -> list[Epoch]:
        h = self.harness
        if self.mode.reloads:
            epochs, self.loaded = reloaded_epochs(self)
            return epochs
        if not h.fits:
            given = self.given(self.partition, Mode.EVALUATE.steps_key)
            logs = h.evaluate_logs(h.loop_method(self.loop.feed, training=False), given)
            reported = h.subject.reported(logs, h.metric_keys)
            end = as_computed(self.scores, self.loop.dtype_policy)  # the predictions as the model gave them
            return [Epoch(reported, h.recorder.recorded(), h.tap.recorded(), end, logs)]
        observer = h.parts.observer(h.tap, h.recorder, self.inputs, self.inputs if self.mode.validates else None,
                                    self.mode.trains, h.context.replicas)
        capture = h.parts.capture()
        observer.head = h.heads.output if h.heads else None
        made = h.subject.callbacks(h.model, self.inputs, h.callback_labels(self.y, self.loop), self.callback_weights)
        callbacks = [observer, *made, capture, h.parts.tap_on(h.tap)]
        snapshots = self._validate(observer, callbacks) if self.mode.validates else self._fit(observer, callbacks)
        if len(snapshots) != len(capture.epochs):
            raise F1CheckError(
                f"internal: {len(capture.epochs)} epochs ended but {len(snapshots)} passes were observed "
                f"(mode {self.mode.value!r}, fed {self.loop.describe(h.LEGACY)})."
            )
        return [self._epoch(snapshot, logs) for snapshot, logs in zip(snapshots, capture.epochs)]

    def _fit(self, observer, callbacks) -> list[Snapshot]:
        given = self.given(self.partition, Mode.FIT.steps_key)  # fit, even in evaluate: a callback's one epoch
        self.harness.loop_method(self.loop.feed, training=True)(
            *given.args, epochs=self.mode.epochs, shuffle=False, verbose=0, callbacks=callbacks, **given.kwargs,
            **self.by_class)
        return observer.epochs

    def _validate(self, observer, callbacks) -> list[Snapshot]:
        feed = self.loop.feed
        train_feed = feeds.Feed.GENERATOR if feed is feeds.Feed.GENERATOR else feeds.Feed.PYDATASET
        train = self.given(training_partition(len(self.y)), Mode.FIT.steps_key, train_feed)
        # validation-dropped feeds a generator that runs on over all the data, as a real one would: with
        # validation_steps = n // batch_size each pass starts where the last one stopped (rotation)
        val = self.given(self.partition, self.mode.steps_key, rotate=self.mode.drops_remainder)
        kwargs = {**train.kwargs, **feeds.as_validation(val), **self.by_class}
        self.harness.loop_method(feed, training=True)(*train.args, epochs=self.mode.epochs, shuffle=False, verbose=0,
                                                      callbacks=callbacks, **kwargs)
        for snapshot, training in zip(observer.validations, observer.epochs):
            snapshot.preceding = [training.batches]
        return observer.validations

    def _epoch(self, snapshot: Snapshot, logs: dict) -> Epoch:
        reported = self.harness.subject.reported(logs, self.harness.metric_keys)
        end = as_computed(self.scores, self.loop.dtype_policy) if snapshot.end_scores is None else snapshot.end_scores
        return Epoch(reported, snapshot.batches, snapshot.fed_indices, end, logs, snapshot.logs, snapshot.model_weights,
                     snapshot.preceding)
