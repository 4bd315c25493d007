"""Subjects: the things under test, adapted so that f1check can run them and feed them directly.

A :class:`MetricSubject` is a metric function or a stateful ``Metric`` (made
fresh for every run); a :class:`CallbackSubject` writes ``logs[key]`` in
``on_epoch_end``, optionally reading the logs of companion metrics.  Each can
*replay*: be fed given batches directly, without the Keras loop.
:mod:`f1check.subjects.carried` tells, by behaviour, whether a metric's state survives
``reset_state``.  How an object or ``"module:attr"`` becomes a subject is
:mod:`f1check.subjects.targets`.
"""

from __future__ import annotations

import inspect
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..core import backend
from ..core.errors import F1CheckError, SubjectError, TargetError, did_you_mean
from ..core.weights import weight_of

__all__ = ["CallbackSubject", "MetricSubject", "ReplayScene", "Subject", "log_key", "round_trip"]


def log_key(obj: Any) -> str:
    """The key ``compile(metrics=[obj])`` logs ``obj`` under, read off the very object compiled.

    A Metric logs under its ``name`` (which Keras makes unique per instance
    when the class sets none: ``f1_score``, ``f1_score_1``, ...); a function
    under its snake-cased name (Keras 3) or its ``__name__`` (tf-keras).
    """
    if hasattr(obj, "name") and not inspect.isfunction(obj):
        return obj.name
    if backend.legacy():
        return getattr(obj, "__name__", None) or re.sub(r"(?<!^)(?=[A-Z])", "_", type(obj).__name__).lower()
    from keras.src.utils.naming import get_object_name

    return get_object_name(obj)


def call_user(label: str, what: str, fn: Callable, *args, **kwargs):
    """Call the subject's code; its exception becomes a SubjectError that names it and the fix.  The framework's
    noise f1check's data provokes there (Keras 3.8 on a one-sample predict) is filtered, as in f1check's loops."""
    try:
        with backend.quiet():
            return fn(*args, **kwargs)
    except Exception as exc:
        raise SubjectError(f"{label}: {what} raised {type(exc).__name__}: {exc}{hint(exc)}") from None


def hint(exc: BaseException) -> str:
    """What to do about the usual errors of Keras 2 code or eager code in a Keras 3 loop."""
    text = str(exc)
    found = re.search(r"module '(?:keras|keras\.backend|keras\.src\.backend)' has no attribute '(\w+)'", text)
    if found:
        name = found.group(1)
        if backend.legacy():
            return (
                f". Under {backend.LEGACY_ENV}=1 the name `keras` is still Keras 3 (only `tf.keras` becomes tf-keras), "
                f"and Keras 3's keras.backend has no {name}: import the Keras 2 backend with "
                "`from tensorflow.keras import backend as K` (or `import tf_keras as keras`)"
            )
        return (
            f". Keras 3's keras.backend has no {name} (Keras 2's K.{name}): write keras.ops.{name}, or check this "
            f"Keras 2 repository as it is under tf-keras ({backend.LEGACY_ENV}=1 with tf-keras installed and "
            "`from tensorflow.keras import backend as K`)"
        )
    if "Cannot take the length of shape with unknown rank" in text or "shape with unknown rank" in text:
        return (
            ". A tf.py_function (or tf.numpy_function) returns a tensor whose shape TensorFlow cannot know, and Keras "
            "needs it: give the result its shape, e.g. `value.set_shape([])` for a scalar metric, before returning it"
        )
    if "has no attribute 'validation_data'" in text:
        return (
            ". Keras 3 (and tf.keras since TensorFlow 2.2) no longer sets self.validation_data on callbacks: give "
            "the callback its data from a factory that f1check calls with the loop's model and data, e.g. "
            "`def make(model, x, y): return MyCallback(x, y)`, and list that factory as the target's callback"
        )
    if "has no attribute 'numpy'" in text or "numpy() is only available when eager execution" in text:
        return (
            ". Keras runs metrics compiled (inside a traced function), where tensors have no .numpy(): write the "
            "metric with keras.ops on tensors (as keras.metrics.F1Score is written), not with numpy"
        )
    return ""


def to_float(value: Any, label: str, where: str) -> float:
    """A subject's result as a float; a result with more than one element is an error."""
    import numpy as np

    if value is None:  # numpy would read it as NaN, and the advice would be about 0/0
        raise SubjectError(f"{label}: {where} is None, not a number: a function that returns nothing (no return on "
                           "some path) gives None. Write a float there every epoch.")
    try:
        array = np.asarray(backend.to_numpy(value), dtype=np.float64)
    except Exception as exc:
        raise SubjectError(f"{label}: {where} returned {value!r}, which is not a number ({exc}).") from None
    if array.size != 1:
        raise SubjectError(
            f"{label}: {where} returned shape {array.shape}, not a scalar. A value per class "
            "(e.g. keras.metrics.F1Score(average=None) on several classes) cannot be compared with one "
            "number: give the metric average='micro', 'macro' or 'weighted' and the same average to f1check."
        )
    return float(array.reshape(-1)[0])


def tensor(value):
    """``value`` as the framework's tensor, as the Keras loop hands it to a metric."""
    if backend.legacy():
        import tensorflow as tf

        return tf.convert_to_tensor(value)
    return backend.keras().ops.convert_to_tensor(value)

def round_trip(metric: Any) -> Any:
    """The metric ``load_model`` builds from a saved ``metric``: its class's ``from_config`` on its ``get_config()``,
    through JSON as the ``.keras`` file stores it."""
    keras = backend.framework()
    saving = getattr(keras, "saving", None)
    cls = type(metric)
    if saving is None or not hasattr(saving, "serialize_keras_object"):  # older tf-keras: the config alone
        return cls.from_config(json.loads(json.dumps(metric.get_config())))
    stored = json.loads(json.dumps(saving.serialize_keras_object(metric)))
    return saving.deserialize_keras_object(stored, custom_objects={cls.__name__: cls})

# -- the subjects --------------------------------------------------------------------------------------------
#
# Both kinds answer the same questions, so that no other stage asks which kind it holds:
#   metrics          the metrics f1check compiles for it (the metric itself, or a callback's companions);
#   direct           the metric whose own result() is the reported value (None for a callback);
#   scores_itself    it scores the data it was given, not what the loop fed (judged against f1_all);
#   needs_epoch_end  it reports in on_epoch_end, so even fixed predictions run one epoch of fit;
#   callback_key, companion_labels   what a check() call needs to name it again (the snippet, the report);
#   callbacks(...)   what it adds to the loop's callbacks; reported(...) the value it logged;
#   replay_observed(...)  what it computes fed an observed run's batches directly.


@dataclass(frozen=True)
class ReplayScene:
    """What replaying one observed run needs: the logs each epoch's callbacks got, and the model to predict with.

    ``model_weights`` (per epoch) put the model where it stood at each epoch's end, for callbacks that predict;
    ``starts`` (per epoch) where it stood when the epoch began (for a callback that predicts in
    ``on_epoch_begin``); ``sample_weight`` the weights the loop's callback was built with.
    """

    logs: list[dict]
    model: Any
    inputs: Any
    y: Any
    model_weights: list | None = None
    starts: list | None = None
    sample_weight: Any = None  # what a callback factory that takes weights gets (CheckContext.callback_weights)


@dataclass
class MetricSubject:
    """A metric function or stateful metric, compiled into the model."""

    label: str
    make: Callable[[], Any]
    is_function: bool
    origin: Any = field(default=None, repr=False, compare=False)  # the object it was made from (its identity)
    weighted: bool = False  # compiled in weighted_metrics: Keras gives it the loop's sample weights
    reloads: bool = False  # replayed as load_model gives it back (mode reloaded): from_config(get_config())

    scores_itself = False
    needs_epoch_end = False
    callback_key = None
    companion_labels = ()

    @property
    def metrics(self) -> tuple[MetricSubject, ...]:
        return (self,)

    @property
    def direct(self) -> MetricSubject:
        return self

    def fresh(self) -> Any:
        """A new object for ``compile(metrics=[...])``: the function, or a new Metric."""
        return self.make()

    def weighed(self) -> MetricSubject:
        """The same metric, compiled in ``weighted_metrics`` and fed the loop's weights."""
        return replace(self, weighted=True)

    def reloading(self) -> MetricSubject:
        """The same metric, replayed as ``load_model`` rebuilds it (the loop compiles it as built and reloads it)."""
        return replace(self, reloads=not self.is_function)

    def fresh_metric(self) -> Any:
        """A new Metric, as ``compile`` makes one (a function goes in a ``MeanMetricWrapper``), or as ``load_model``
        rebuilds it where the subject ``reloads``."""
        obj = self.make()
        if self.is_function:
            return backend.framework().metrics.MeanMetricWrapper(obj, name=log_key(obj))
        if self.reloads:
            return call_user(self.label, "from_config(get_config())", round_trip, obj)
        return obj

    def callbacks(self, model, x, y, sample_weight=None) -> list:
        return []

    def reported(self, logs: dict, metric_keys: Sequence[str]) -> float:
        """The value the loop logged for this metric (``metric_keys``: the compiled metrics' keys, as logged)."""
        key = metric_keys[0]
        if key not in logs:
            raise F1CheckError(
                f"internal: the loop logged {sorted(logs)} but not {key!r}, the key of {self.label} as compiled."
            )
        return to_float(logs[key], self.label, "the value the loop logged")

    def replay_observed(self, replay_metric: Callable, metric_keys, scene: ReplayScene) -> tuple[list[float], None]:
        """Its own values fed each epoch's batches directly (``replay_metric(self)``, one per epoch); no note."""
        return replay_metric(self), None

    def replay(self, batches: Sequence[tuple]) -> float:
        """Feed ``[(y_true, y_pred), ...]`` to a fresh metric directly; its ``result()``."""
        return self.replay_epochs([batches])[0]

    def replay_epochs(self, epochs: Sequence[Sequence[tuple]], metric=None) -> list[float]:
        """Each epoch's batches to one metric (fresh unless given), ``reset_state()`` before each as Keras does."""
        metric = self.fresh_metric() if metric is None else metric
        results = []
        for e, batches in enumerate(epochs):
            call_user(self.label, "reset_state()", metric.reset_state)
            for k, batch in enumerate(batches):
                where = f"update_state on batch {k} of {len(batches)}" + (f" of epoch {e + 1}" if len(epochs) > 1 else "")
                w = weight_of(batch) if self.weighted else None
                weights = {} if w is None else {"sample_weight": tensor(w)}
                call_user(self.label, where, metric.update_state, tensor(batch[0]), tensor(batch[1]), **weights)
            results.append(to_float(call_user(self.label, "result()", metric.result), self.label, "result()"))
        return results


@dataclass
class CallbackSubject:
    """A callback that reports by writing ``logs[key]`` in ``on_epoch_end``.

    ``make(model, x, y, sample_weight)`` builds one (:func:`f1check.subjects.targets.builder`): a factory or class
    that takes (), (model, x, y), or the weights too (a fourth positional parameter, or one named
    ``sample_weight``) gets the model, the data the loop runs over (the validation data in the validation modes)
    and, where it takes them, the weight of each of those samples when the check weighs (None otherwise).
    """

    label: str
    make: Callable[[Any, Any, Any, Any], Any]
    key: str
    metrics: tuple[MetricSubject, ...] = field(default_factory=tuple)

    direct = None
    needs_epoch_end = True

    @property
    def scores_itself(self) -> bool:
        """Without companion metrics the callback scores its data itself (judged on f1_all)."""
        return not self.metrics

    @property
    def callback_key(self) -> str:
        return self.key

    @property
    def companion_labels(self) -> tuple[str, ...]:
        return tuple(m.label for m in self.metrics)

    def fresh(self, model, x, y, sample_weight=None) -> Any:
        callback = call_user(self.label, "building the callback", self.make, model, x, y, sample_weight)
        if not isinstance(callback, backend.framework().callbacks.Callback):
            raise foreign_error(callback, self.label) or TargetError(
                f"{self.label}: the factory returned {type(callback).__name__}, not a "
                f"{keras_prefix()}.callbacks.Callback; return the callback instance."
            )
        return callback

    def callbacks(self, model, x, y, sample_weight=None) -> list:
        return [self.fresh(model, x, y, sample_weight)]

    def weighed(self) -> CallbackSubject:
        """The same callback, its companion metrics compiled in ``weighted_metrics``."""
        return replace(self, metrics=tuple(m.weighed() for m in self.metrics))

    def reloading(self) -> CallbackSubject:
        """The same callback, its companions replayed as ``load_model`` rebuilds them."""
        return replace(self, metrics=tuple(m.reloading() for m in self.metrics))

    def reported(self, logs: dict, metric_keys: Sequence[str]) -> float:
        return self.read(logs)

    def replay_observed(self, replay_metric: Callable, metric_keys, scene: ReplayScene) -> tuple[list[float] | None,
                                                                                                 str | None]:
        """The callback replayed on the logs the loop gave it, each companion's key (``metric_keys``) holding what
        ``replay_metric(companion)`` gives per epoch; where that cannot be done, None and a note that says why
        (the loop's values are judged alone)."""
        logs = [dict(given) for given in scene.logs]
        try:
            for key, metric in zip(metric_keys, self.metrics):
                for e, value in enumerate(replay_metric(metric)):
                    logs[e][key] = value
            replayed = self.replay_epochs(logs, scene)
        except SubjectError as exc:
            first = str(exc).splitlines()[0]
            return None, f"replayed outside the loop, the callback failed ({first}); judged on the loop's values alone."
        if any(math.isnan(v) for v in replayed):
            return None, (
                f"replayed outside the loop with the logs the loop gave it, the callback wrote no "
                f"logs[{self.key!r}]; judged on the loop's values alone."
            )
        return replayed, None

    def replay_epochs(self, logs_per_epoch: Sequence[dict], scene: ReplayScene) -> list[float]:
        """One fresh callback's epoch hooks on the given logs, as the loop passes them (a copy each epoch).

        ``logs_per_epoch`` holds what the loop's logs held when the callback's
        turn came (the companions' values included); ``scene.model_weights`` (per epoch)
        puts the model where it stood at each epoch's end, for callbacks that
        predict, and ``scene.starts`` where it stood when each epoch began.  Returns each epoch's ``logs[key]``,
        NaN where it wrote none.
        """
        model, ends, starts = scene.model, scene.model_weights, scene.starts
        callback = self.fresh(model, scene.inputs, scene.y, scene.sample_weight)
        callback.set_model(model)
        final = backend.values(model.weights) if ends else None
        results = []
        try:
            call_user(self.label, "on_train_begin", callback.on_train_begin, {})
            for e, given in enumerate(logs_per_epoch):
                if starts and starts[e] is not None:
                    model.set_weights(starts[e])
                logs = {k: v for k, v in given.items() if k != self.key}
                call_user(self.label, "on_epoch_begin", callback.on_epoch_begin, e, {})
                if ends and ends[e] is not None:
                    model.set_weights(ends[e])
                call_user(self.label, "on_epoch_end", callback.on_epoch_end, e, logs)
                results.append(to_float(logs[self.key], self.label, f"logs[{self.key!r}]") if self.key in logs else math.nan)
        finally:
            if final is not None:
                model.set_weights(final)
        return results

    def read(self, logs: dict) -> float:
        """The value the callback wrote in the real loop's logs; an error naming the fix if it wrote none."""
        if self.key not in logs:
            keys = sorted(k for k in logs if not k.startswith("f1check_"))
            raise SubjectError(
                f"{self.label}: the callback never wrote logs[{self.key!r}] in on_epoch_end of a real model.fit; "
                f"the logs had {keys}.{did_you_mean(self.key, keys)} Write logs[{self.key!r}] = f1 in "
                "on_epoch_end (into the dict Keras passes: `logs = logs or {}` replaces it when it is empty), or "
                "set the target's key to the one it writes."
            )
        return to_float(logs[self.key], self.label, f"logs[{self.key!r}]")


Subject = MetricSubject | CallbackSubject


def keras_prefix() -> str:
    """How messages name the Keras in use: ``tf.keras`` under :func:`backend.legacy`, else ``keras``."""
    return "tf.keras" if backend.legacy() else "keras"


def foreign_error(obj: Any, label: str) -> TargetError | None:
    """An error for a Metric or Callback of the Keras not in use (Keras 3 vs tf-keras), else None.

    Told apart by the modules of the class's bases, so that the other Keras
    is never imported to find out.
    """
    cls = obj if isinstance(obj, type) else type(obj)
    bases = [(c.__module__.partition(".")[0], c.__name__) for c in getattr(cls, "__mro__", ())]
    other = "keras" if backend.legacy() else "tf_keras"
    found = next((name for package, name in bases if package == other and name in ("Metric", "Callback")), None)
    if found is None:
        return None
    if backend.legacy():
        return TargetError(
            f"{label} is a Keras 3 keras.{found.lower()}s.{found}, but {backend.LEGACY_ENV}=1 makes f1check run "
            f"tf-keras (Keras 2) loops, which cannot run it. Build it from tf.keras ({found} from "
            f"tensorflow.keras.{found.lower()}s), or unset {backend.LEGACY_ENV} to check Keras 3 subjects."
        )
    return TargetError(
        f"{label} is a tf-keras (Keras 2) {found}, but f1check is running Keras 3 loops. Set "
        f"{backend.LEGACY_ENV}=1 (with tf-keras installed) so that tf.keras is tf-keras and f1check runs "
        "tf-keras loops."
    )
