"""Subjects: the things under test, recognised and adapted.

A subject is a metric function ``fn(y_true, y_pred)``, a stateful
``keras.metrics.Metric`` (class, instance or zero-argument factory), or a
callback (class, or factory taking nothing or ``(model, x, y)``) that writes
``logs[key]`` in ``on_epoch_end``, optionally with companion metrics whose logs
it reads.  Each adapter can make a fresh copy for every example and *replay*
the subject: feed it given batches directly, without the Keras loop.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import backend
from .errors import SubjectError, TargetError, did_you_mean

__all__ = ["CallbackSubject", "MetricSubject", "import_target", "resolve"]


def import_target(spec: str) -> Any:
    """Import ``"module:attr"`` (``attr`` may be dotted)."""
    module_name, sep, attr_path = spec.partition(":")
    if not sep or not module_name or not attr_path:
        raise TargetError(
            f"target {spec!r} is not of the form 'module:attr': write the module path, a colon and the "
            "name inside it, e.g. 'pkg.metrics:f1'."
        )
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(
            f"target {spec!r} does not import: {type(exc).__name__}: {exc}. Check the spelling and that "
            "the module is importable from the project root (its directory is on sys.path)."
        ) from None
    except Exception as exc:
        raise TargetError(
            f"target {spec!r}: importing {module_name!r} raised {type(exc).__name__}: {exc}. Fix the module "
            "so that it imports."
        ) from None
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(obj) if not n.startswith("_")]
            raise TargetError(
                f"target {spec!r}: {getattr(obj, '__name__', obj)!r} has no attribute {part!r}."
                f"{did_you_mean(part, names)}"
            )
        obj = getattr(obj, part)
    return obj


def required_positional(fn: Callable) -> int | None:
    """How many positional arguments ``fn`` needs, or None if it cannot be told."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    count = 0
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            count += 1
        elif p.kind == p.KEYWORD_ONLY and p.default is p.empty:
            return None
    return count


def label_of(obj: Any) -> str:
    """``module:qualname`` when the object can be imported back by that name."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if module and qualname and "<" not in qualname and module != "__main__":
        return f"{module}:{qualname}"
    if qualname:
        return qualname
    return type(obj).__name__


def keras_name(obj: Any) -> str:
    """The name ``compile(metrics=[obj])`` logs ``obj`` under."""
    if backend.legacy():  # tf-keras: a Metric's name, else a function's __name__ as written (not snake_cased)
        if hasattr(obj, "name"):
            return obj.name
        return getattr(obj, "__name__", None) or re.sub(r"(?<!^)(?=[A-Z])", "_", type(obj).__name__).lower()
    try:
        from keras.src.utils.naming import get_object_name
    except ImportError:  # a Keras without the private helper: same rules, spelled out
        if hasattr(obj, "name"):
            return obj.name
        raw = getattr(obj, "__name__", type(obj).__name__)
        raw = re.sub(r"\W+", "", raw)
        raw = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", raw)
        return re.sub("([a-z])([A-Z])", r"\1_\2", raw).lower()
    return get_object_name(obj)


def _user_call(label: str, what: str, fn: Callable, *args):
    try:
        return fn(*args)
    except Exception as exc:
        raise SubjectError(f"{label}: {what} raised {type(exc).__name__}: {exc}") from None


def to_float(value: Any, label: str, where: str) -> float:
    """A subject's result as a float; a result with more than one element is an error."""
    import numpy as np

    try:
        array = np.asarray(backend.to_numpy(value), dtype=np.float64)
    except Exception as exc:
        raise SubjectError(f"{label}: {where} returned {value!r}, which is not a number ({exc}).") from None
    if array.size != 1:
        raise SubjectError(
            f"{label}: {where} returned shape {array.shape}, not a scalar. An F1 per class "
            "(e.g. keras.metrics.F1Score(average=None) on several classes) cannot be compared with one "
            "number: give the metric average='micro', 'macro' or 'weighted' and the same average to f1check."
        )
    return float(array.reshape(-1)[0])


@dataclass
class MetricSubject:
    """A metric function or stateful metric, compiled into the model."""

    label: str
    kind: str  # "function" or "metric"
    make: Callable[[], Any]
    key: str
    harnesses: dict = field(default_factory=dict, repr=False, compare=False)  # drivers' compiled models

    def fresh(self) -> Any:
        """A new object for ``compile(metrics=[...])``: the function, or a new Metric."""
        return self.make()

    def fresh_metric(self) -> Any:
        """A new Metric, as ``compile`` makes one: functions go in a ``MeanMetricWrapper``."""
        obj = self.make()
        if self.kind == "function":
            return backend.framework().metrics.MeanMetricWrapper(obj, name=self.key)
        return obj

    def replay(self, batches: Sequence[tuple]) -> float:
        """Feed ``[(y_true, y_pred), ...]`` to a fresh metric directly; its ``result()``."""
        return self.replay_epochs([batches])[0]

    def replay_epochs(self, epochs: Sequence[Sequence[tuple]]) -> list[float]:
        """Each epoch's batches to one fresh metric, ``reset_state()`` before each as Keras does."""
        metric = self.fresh_metric()
        results = []
        for e, batches in enumerate(epochs):
            _user_call(self.label, "reset_state()", metric.reset_state)
            for k, (y_true, y_pred) in enumerate(batches):
                where = f"update_state on batch {k} of {len(batches)}" + (f" of epoch {e + 1}" if len(epochs) > 1 else "")
                _user_call(self.label, where, metric.update_state, y_true, y_pred)
            results.append(to_float(_user_call(self.label, "result()", metric.result), self.label, "result()"))
        return results


@dataclass
class CallbackSubject:
    """A callback that reports F1 by writing ``logs[key]`` in ``on_epoch_end``."""

    label: str
    make: Callable[[Any, Any, Any], Any]
    key: str
    metrics: tuple[MetricSubject, ...] = field(default_factory=tuple)
    kind: str = "callback"
    harnesses: dict = field(default_factory=dict, repr=False, compare=False)  # drivers' compiled models

    @property
    def scores_itself(self) -> bool:
        """Without companion metrics the callback scores its data itself (judged on f1_all)."""
        return not self.metrics

    def fresh(self, model, x, y) -> Any:
        callback = _user_call(self.label, "building the callback", self.make, model, x, y)
        if not isinstance(callback, backend.framework().callbacks.Callback):
            raise _foreign(callback, self.label) or TargetError(
                f"{self.label}: the factory returned {type(callback).__name__}, not a "
                f"{_keras_prefix()}.callbacks.Callback; return the callback instance."
            )
        return callback

    def replay(self, batches: Sequence[tuple], model, x, y) -> float:
        """The companions replayed directly, then a fresh callback's ``on_epoch_end`` on their logs."""
        return self.replay_epochs([batches], model, x, y)[0]

    def replay_epochs(self, epochs: Sequence[Sequence[tuple]], model, x, y, weights=None) -> list[float]:
        """Companions replayed epoch by epoch, and one fresh callback's epoch hooks on their logs.

        ``weights`` (per epoch) puts the model back where it stood at each
        epoch's end, for callbacks that predict.
        """
        replayed = {m.key: m.replay_epochs(epochs) for m in self.metrics}
        callback = self.fresh(model, x, y)
        callback.set_model(model)
        final = backend.values(model.weights) if weights else None
        results = []
        try:
            _user_call(self.label, "on_train_begin", callback.on_train_begin, {})
            for e in range(len(epochs)):
                if weights and weights[e] is not None:
                    model.set_weights(weights[e])
                logs = {key: values[e] for key, values in replayed.items()}
                _user_call(self.label, "on_epoch_begin", callback.on_epoch_begin, e, {})
                _user_call(self.label, "on_epoch_end", callback.on_epoch_end, e, logs)
                results.append(self.read(logs, "when replayed outside the loop"))
        finally:
            if final is not None:
                model.set_weights(final)
        return results

    def read(self, logs: dict, when: str) -> float:
        if self.key not in logs:
            keys = sorted(k for k in logs if not k.startswith("f1check_"))
            raise SubjectError(
                f"{self.label}: the callback never wrote logs[{self.key!r}] in on_epoch_end ({when}); "
                f"the logs had {keys}.{did_you_mean(self.key, keys)} Write logs[{self.key!r}] = f1 in "
                "on_epoch_end, or set the target's key to the one it writes."
            )
        return to_float(logs[self.key], self.label, f"logs[{self.key!r}]")


def resolve(
    subject: Any,
    *,
    callback_key: str | None = None,
    callback_metrics: Sequence[Any] = (),
) -> MetricSubject | CallbackSubject:
    """Recognise ``subject`` (an object or ``"module:attr"``) as DESIGN.md §4 says.

    Under :func:`backend.legacy` the classes recognised are tf-keras's (``tf.keras``).
    """
    keras = backend.framework()
    label = subject if isinstance(subject, str) else None
    obj = import_target(subject) if isinstance(subject, str) else subject
    label = label or label_of(obj)
    kind, make = _recognise(obj, label, keras)
    if kind == "callback":
        if not callback_key or not isinstance(callback_key, str):
            raise TargetError(
                f"{label} is a callback: say which logs key it writes its F1 to with callback_key= "
                "(or key = \"...\" in the target's table)."
            )
        companions = tuple(_companion(m, keras) for m in callback_metrics)
        return CallbackSubject(label=label, make=make, key=callback_key, metrics=companions)
    if callback_metrics:
        raise TargetError(
            f"{label} is a metric, but callback_metrics were given: companion metrics belong to a "
            "callback subject that reads their logs."
        )
    return _metric_subject(label, kind, make)


def _companion(spec: Any, keras) -> MetricSubject:
    label = spec if isinstance(spec, str) else label_of(spec)
    obj = import_target(spec) if isinstance(spec, str) else spec
    kind, make = _recognise(obj, label, keras)
    if kind == "callback":
        raise TargetError(f"{label} is a callback; a callback's companion metrics must be metrics.")
    return _metric_subject(label, kind, make)


def _metric_subject(label: str, kind: str, make: Callable[[], Any]) -> MetricSubject:
    sample = make()
    return MetricSubject(label=label, kind=kind, make=make, key=keras_name(sample))


def _not_a_subject(label: str, obj: Any) -> TargetError:
    return TargetError(
        f"{label} ({type(obj).__name__}) is neither a metric nor a callback. f1check checks a metric "
        "function fn(y_true, y_pred), a keras.metrics.Metric (class, instance or zero-argument factory), "
        "or a keras.callbacks.Callback (class, or factory taking () or (model, x, y))."
    )


def _keras_prefix() -> str:
    """How messages name the Keras in use: ``tf.keras`` under :func:`backend.legacy`, else ``keras``."""
    return "tf.keras" if backend.legacy() else "keras"


def _foreign(obj: Any, label: str) -> TargetError | None:
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


def _recognise(obj: Any, label: str, keras) -> tuple[str, Callable]:
    metric_type = keras.metrics.Metric
    callback_type = keras.callbacks.Callback
    if not isinstance(obj, (metric_type, callback_type)) and not (
        isinstance(obj, type) and issubclass(obj, (metric_type, callback_type))
    ):
        foreign = _foreign(obj, label)
        if foreign is not None:
            raise foreign
    if isinstance(obj, type):
        if issubclass(obj, metric_type):
            if required_positional(obj) not in (0, None):
                raise TargetError(
                    f"{label}: the Metric class needs constructor arguments; pass an instance or a "
                    "zero-argument factory (e.g. lambda: MyMetric(threshold=0.5)) instead."
                )
            _user_call(label, "constructing the metric", obj)
            return "metric", obj
        if issubclass(obj, callback_type):
            return "callback", _callback_maker(obj, label)
        raise _not_a_subject(label, obj)
    if isinstance(obj, metric_type):
        return "metric", _cloner(obj, label)
    if isinstance(obj, callback_type):
        raise TargetError(
            f"{label} is a callback instance; callbacks keep state between epochs, so pass the class or a "
            "factory (taking () or (model, x, y)) that builds a fresh one."
        )
    if not callable(obj):
        raise _not_a_subject(label, obj)
    required = required_positional(obj)
    if required == 2:
        return "function", lambda: obj
    if required == 3:
        return "callback", obj
    if required == 0:
        product = _user_call(label, "calling the factory", obj)
        foreign = None if isinstance(product, (metric_type, callback_type)) else _foreign(product, label)
        if foreign is not None:
            raise foreign
        if isinstance(product, metric_type):
            return "metric", _checked_factory(obj, metric_type, label)
        if isinstance(product, callback_type):
            return "callback", lambda model, x, y: obj()
        if callable(product) and required_positional(product) == 2:
            return "function", lambda: obj()
        raise TargetError(
            f"{label} is a zero-argument factory, but it returned {type(product).__name__}: a factory must "
            "return a keras.metrics.Metric, a keras.callbacks.Callback or a metric function."
        )
    raise TargetError(
        f"{label} takes {required if required is not None else 'an unknown number of'} required arguments: "
        "a metric function takes (y_true, y_pred), a factory takes () or, for a callback, (model, x, y)."
        + ("" if callable(obj) else f" {_not_a_subject(label, obj)}")
    )


def _callback_maker(cls: type, label: str) -> Callable:
    required = required_positional(cls)
    if required in (0, None):
        return lambda model, x, y: cls()
    if required == 3:
        return cls
    raise TargetError(
        f"{label}: the callback class needs {required} constructor arguments; f1check builds callbacks "
        "with () or (model, x, y). Wrap it in a factory, e.g. lambda model, x, y: MyCallback(x, y)."
    )


def _cloner(metric: Any, label: str) -> Callable:
    """Fresh copies of a Metric instance, made from its config."""
    cls = type(metric)
    config = metric.get_config()

    def clone():
        return cls.from_config(config)

    try:
        clone()
    except Exception as exc:
        raise TargetError(
            f"{label}: cannot make a fresh copy of the metric instance from its config "
            f"({type(exc).__name__}: {exc}). Give the class a get_config() that returns its constructor "
            "arguments, or pass a zero-argument factory instead."
        ) from None
    return clone


def _checked_factory(factory: Callable, metric_type: type, label: str) -> Callable:
    def make():
        product = _user_call(label, "calling the factory", factory)
        if not isinstance(product, metric_type):
            raise TargetError(f"{label}: the factory returned {type(product).__name__} this time, not a Metric.")
        return product

    return make

