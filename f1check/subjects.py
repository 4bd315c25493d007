"""Subjects: the things under test, recognised and adapted.

A subject is a metric function ``fn(y_true, y_pred)``, a stateful
``keras.metrics.Metric`` (class, instance or zero-argument factory), or a
callback (class, or factory taking nothing or ``(model, x, y)``) that writes
``logs[key]`` in ``on_epoch_end``, optionally with companion metrics whose logs
it reads.  Each adapter makes a fresh copy for every run and can *replay* the
subject: feed it given batches directly, without the Keras loop.
:func:`carried_state` tells, by behaviour, whether a metric's state survives
``reset_state``.
"""

from __future__ import annotations

import importlib
import inspect
import math
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import backend
from .errors import SubjectError, TargetError, did_you_mean

__all__ = ["CallbackSubject", "MetricSubject", "carried_state", "import_target", "resolve"]

# Names the first two parameters of a metric function usually have.
METRIC_ARGUMENTS = re.compile(r"true|pred|label|target|output|actual|score|^y|^t$|^p$", re.IGNORECASE)


# -- importing "module:attr" -------------------------------------------------------------------------------


def import_target(spec: str) -> Any:
    """Import ``"module:attr"`` (``attr`` may be dotted); a clear error naming the fix otherwise."""
    module_name, sep, attr_path = spec.partition(":")
    if not sep or not module_name or not attr_path:
        raise TargetError(
            f"target {spec!r} is not of the form 'module:attr': write the module path, a colon and the "
            "name inside it, e.g. 'pkg.metrics:f1'."
        )
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise _import_error(spec, module_name, exc) from None
    except Exception as exc:
        raise TargetError(
            f"target {spec!r}: importing {module_name!r} raised {type(exc).__name__}: {exc}{_where(exc)}. Fix the "
            "module so that it imports."
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


def _import_error(spec: str, module_name: str, exc: ImportError) -> TargetError:
    """Tell a typo in the target's own module path from a missing package the module imports."""
    missing = getattr(exc, "name", None)
    own = missing is not None and (module_name == missing or module_name.startswith(missing + "."))
    if own:
        parent, _, leaf = missing.rpartition(".")
        return TargetError(
            f"target {spec!r} does not import: {type(exc).__name__}: {exc}.{did_you_mean(leaf, _siblings(parent))} "
            "Check the spelling and that the module is importable from the project root (its directory is on "
            "sys.path)."
        )
    return TargetError(
        f"target {spec!r} does not import: {type(exc).__name__}: {exc}{_where(exc)}. The module {module_name!r} "
        f"imports {missing or 'a module'!r}, which is not installed here: install it in this environment (the "
        "one pytest runs in), or make that import optional."
    )


def _siblings(package: str) -> list[str]:
    """Importable module names next to a missing one (for did-you-mean): in its package, or the project's own."""
    import pkgutil
    import sys

    try:
        path = importlib.import_module(package).__path__ if package else _project_paths(sys)
    except Exception:
        return []
    return [m.name for m in pkgutil.iter_modules(path)]


def _project_paths(sys) -> list[str]:
    """sys.path without the interpreter's and the installed packages' folders."""
    import os

    installed = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return [p for p in sys.path if p and not any(os.path.realpath(p).startswith(i) for i in installed)]


def _where(exc: BaseException) -> str:
    """`` (at path:line)``: the last frame of the user's code in the exception's traceback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename and "/f1check/" not in f.filename]
    if not frames:
        return ""
    return f" (at {frames[-1].filename}:{frames[-1].lineno}: {frames[-1].line})"


# -- names and values ----------------------------------------------------------------------------------------


def parameters(fn: Callable) -> list[inspect.Parameter] | None:
    """The required positional parameters of ``fn``, or None if it cannot be told."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    required = []
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            required.append(p)
        elif p.kind == p.KEYWORD_ONLY and p.default is p.empty:
            return None
    return required


def required_positional(fn: Callable) -> int | None:
    """How many positional arguments ``fn`` needs, or None if it cannot be told."""
    found = parameters(fn)
    return None if found is None else len(found)


def label_of(obj: Any) -> str:
    """``module:qualname`` when the object can be imported back by that name."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if module and qualname and "<" not in qualname and module != "__main__":
        return f"{module}:{qualname}"
    if qualname:
        return qualname
    return type(obj).__name__


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


def call_user(label: str, what: str, fn: Callable, *args):
    """Call the subject's code; its exception becomes a SubjectError that names it and the fix."""
    try:
        return fn(*args)
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
    if "has no attribute 'numpy'" in text or "numpy() is only available when eager execution" in text:
        return (
            ". Keras runs metrics compiled (inside a traced function), where tensors have no .numpy(): write the "
            "metric with keras.ops on tensors (as keras.metrics.F1Score is written), not with numpy"
        )
    return ""


def to_float(value: Any, label: str, where: str) -> float:
    """A subject's result as a float; a result with more than one element is an error."""
    import numpy as np

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


# -- the subjects --------------------------------------------------------------------------------------------


@dataclass
class MetricSubject:
    """A metric function or stateful metric, compiled into the model."""

    label: str
    make: Callable[[], Any]
    is_function: bool

    def fresh(self) -> Any:
        """A new object for ``compile(metrics=[...])``: the function, or a new Metric."""
        return self.make()

    def fresh_metric(self) -> Any:
        """A new Metric, as ``compile`` makes one: a function goes in a ``MeanMetricWrapper``."""
        obj = self.make()
        if self.is_function:
            return backend.framework().metrics.MeanMetricWrapper(obj, name=log_key(obj))
        return obj

    def replay(self, batches: Sequence[tuple]) -> float:
        """Feed ``[(y_true, y_pred), ...]`` to a fresh metric directly; its ``result()``."""
        return self.replay_epochs([batches])[0]

    def replay_epochs(self, epochs: Sequence[Sequence[tuple]], metric=None) -> list[float]:
        """Each epoch's batches to one metric (fresh unless given), ``reset_state()`` before each as Keras does."""
        metric = self.fresh_metric() if metric is None else metric
        results = []
        for e, batches in enumerate(epochs):
            call_user(self.label, "reset_state()", metric.reset_state)
            for k, (y_true, y_pred) in enumerate(batches):
                where = f"update_state on batch {k} of {len(batches)}" + (f" of epoch {e + 1}" if len(epochs) > 1 else "")
                call_user(self.label, where, metric.update_state, tensor(y_true), tensor(y_pred))
            results.append(to_float(call_user(self.label, "result()", metric.result), self.label, "result()"))
        return results


@dataclass
class CallbackSubject:
    """A callback that reports by writing ``logs[key]`` in ``on_epoch_end``."""

    label: str
    make: Callable[[Any, Any, Any], Any]
    key: str
    metrics: tuple[MetricSubject, ...] = field(default_factory=tuple)

    @property
    def scores_itself(self) -> bool:
        """Without companion metrics the callback scores its data itself (judged on f1_all)."""
        return not self.metrics

    def fresh(self, model, x, y) -> Any:
        callback = call_user(self.label, "building the callback", self.make, model, x, y)
        if not isinstance(callback, backend.framework().callbacks.Callback):
            raise _foreign(callback, self.label) or TargetError(
                f"{self.label}: the factory returned {type(callback).__name__}, not a "
                f"{_keras_prefix()}.callbacks.Callback; return the callback instance."
            )
        return callback

    def replay_epochs(self, logs_per_epoch: Sequence[dict], model, x, y, weights=None) -> list[float]:
        """One fresh callback's epoch hooks on the given logs, as the loop passes them (a copy each epoch).

        ``logs_per_epoch`` holds what the loop's logs held when the callback's
        turn came (the companions' values included); ``weights`` (per epoch)
        puts the model where it stood at each epoch's end, for callbacks that
        predict.  Returns each epoch's ``logs[key]``, NaN where it wrote none.
        """
        callback = self.fresh(model, x, y)
        callback.set_model(model)
        final = backend.values(model.weights) if weights else None
        results = []
        try:
            call_user(self.label, "on_train_begin", callback.on_train_begin, {})
            for e, given in enumerate(logs_per_epoch):
                if weights and weights[e] is not None:
                    model.set_weights(weights[e])
                logs = {k: v for k, v in given.items() if k != self.key}
                call_user(self.label, "on_epoch_begin", callback.on_epoch_begin, e, {})
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


# -- state that survives reset_state ----------------------------------------------------------------------


@dataclass(frozen=True)
class CarriedState:
    """What a metric still holds after ``reset_state()``: found by behaviour, with the values that stayed."""

    fresh: float  # result of a fresh metric fed the second probe batch
    after_reset: float  # result of a metric fed the first batch, reset, then fed the second
    leftovers: tuple[tuple[str, str], ...]  # (attribute, value) of state that reset_state left non-zero

    def describe(self) -> str:
        held = ", ".join(f"{name}={value}" for name, value in self.leftovers[:6])
        return f" (after reset_state() it still held {held})" if held else ""


def _probe_batches(columns: int, task: str):
    """Two batches whose counts differ, so a metric that keeps the first one's counts shows it in the second."""
    import numpy as np

    if task == "multiclass":
        eye = np.eye(columns, dtype=np.float32)
        first = (eye[[0, 0, 0]], eye[[0, 0, 0]])
        second = (eye[[1, 1]], eye[[1, 0]])
    else:
        first = (np.ones((3, columns), np.float32), np.ones((3, columns), np.float32))
        second = (np.asarray([[1.0], [0.0]] * 1, np.float32).repeat(columns, 1), np.asarray([[0.0], [1.0]], np.float32).repeat(columns, 1))
    return first, second


def _leftovers(metric) -> tuple[tuple[str, str], ...]:
    """Non-zero state after reset: tracked variables, and raw framework variables kept as attributes."""
    import numpy as np

    found = {}
    for v in getattr(metric, "variables", []):
        found[getattr(v, "path", None) or getattr(v, "name", "variable")] = v
    for name, value in vars(metric).items():
        if hasattr(value, "assign") and hasattr(value, "dtype") and not name.startswith("_"):
            found.setdefault(name, value)
    out = []
    for name, variable in found.items():
        try:
            array = backend.to_numpy(variable)
        except Exception:
            continue
        if array.size and np.any(array != 0):
            text = np.array2string(array, precision=4, threshold=6) if array.size > 1 else f"{float(array.reshape(-1)[0]):g}"
            out.append((name.rsplit("/", 1)[-1], text))
    return tuple(out)


def carried_state(subject: MetricSubject, columns: int, task: str) -> CarriedState | None:
    """None when ``reset_state()`` really resets ``subject``; else what it carried.

    Judged by behaviour, not by the variables Keras tracks (counts kept in raw
    ``tf.Variable`` attributes are invisible to ``metric.variables``): a
    metric fed one batch, reset, then fed another must give what a fresh
    metric fed only the second gives.
    """
    if subject.is_function:
        return None  # a MeanMetricWrapper: Keras's own total and count
    first, second = _probe_batches(columns, task)
    try:
        fresh = subject.replay([second])
        metric = subject.fresh_metric()
        subject.replay_epochs([[first]], metric)
        metric.reset_state()
        leftovers = _leftovers(metric)
        after = subject.replay_epochs([[second]], metric)[0]
    except Exception:
        return None  # the subject's own error shows, better named, where f1check runs it for real
    if fresh == after or (math.isnan(fresh) and math.isnan(after)):
        return None  # state left over that does not change the result (a step counter, say) is harmless
    return CarriedState(fresh, after, leftovers)


# -- recognising a subject ---------------------------------------------------------------------------------


def resolve(subject: Any, *, callback_key: str | None = None, callback_metrics: Sequence[Any] = ()) -> Subject:
    """Recognise ``subject`` (an object or ``"module:attr"``).

    A ``keras.metrics.Metric`` subclass or instance (cloned from its config),
    a ``keras.callbacks.Callback`` subclass or factory, a callable with two
    required parameters (a metric function) or none (a factory).  Under
    :func:`backend.legacy` the classes recognised are tf-keras's.
    """
    keras = backend.framework()
    label = subject if isinstance(subject, str) else None
    obj = import_target(subject) if isinstance(subject, str) else subject
    label = label or label_of(obj)
    kind, make = _recognise(obj, label, keras)
    if kind == "callback":
        if not callback_key or not isinstance(callback_key, str):
            raise TargetError(
                f"{label} is a callback: say which logs key it writes its value to with callback_key= "
                "(or key = \"...\" in the target's table)."
            )
        companions = tuple(_companion(m, keras) for m in callback_metrics)
        return CallbackSubject(label=label, make=make, key=callback_key, metrics=companions)
    if callback_metrics:
        raise TargetError(
            f"{label} is a metric, but callback_metrics were given: companion metrics belong to a "
            "callback subject that reads their logs."
        )
    return MetricSubject(label=label, make=make, is_function=kind == "function")


def _companion(spec: Any, keras) -> MetricSubject:
    label = spec if isinstance(spec, str) else label_of(spec)
    obj = import_target(spec) if isinstance(spec, str) else spec
    kind, make = _recognise(obj, label, keras)
    if kind == "callback":
        raise TargetError(f"{label} is a callback; a callback's companion metrics must be metrics.")
    return MetricSubject(label=label, make=make, is_function=kind == "function")


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
    metric_type, callback_type = keras.metrics.Metric, keras.callbacks.Callback
    if not isinstance(obj, (metric_type, callback_type)) and not (
        isinstance(obj, type) and issubclass(obj, (metric_type, callback_type))
    ):
        foreign = _foreign(obj, label)
        if foreign is not None:
            raise foreign
    if isinstance(obj, type):
        return _recognise_class(obj, label, metric_type, callback_type)
    if isinstance(obj, metric_type):
        return "metric", _cloner(obj, label)
    if isinstance(obj, callback_type):
        raise TargetError(
            f"{label} is a callback instance; callbacks keep state between epochs, so pass the class or a "
            "factory (taking () or (model, x, y)) that builds a fresh one."
        )
    if not callable(obj):
        raise _not_a_subject(label, obj)
    return _recognise_callable(obj, label, metric_type, callback_type)


def _recognise_class(cls: type, label: str, metric_type, callback_type) -> tuple[str, Callable]:
    if issubclass(cls, metric_type):
        if required_positional(cls) not in (0, None):
            raise TargetError(
                f"{label}: the Metric class needs constructor arguments; pass an instance or a "
                "zero-argument factory (e.g. lambda: MyMetric(threshold=0.5)) instead."
            )
        call_user(label, "constructing the metric", cls)
        return "metric", cls
    if issubclass(cls, callback_type):
        return "callback", _callback_maker(cls, label)
    raise _not_a_subject(label, cls)


def _recognise_callable(obj: Callable, label: str, metric_type, callback_type) -> tuple[str, Callable]:
    required = parameters(obj)
    names = [p.name for p in required] if required is not None else []
    if len(names) == 2:
        return "function", lambda: obj
    if len(names) > 2 and all(METRIC_ARGUMENTS.search(n) for n in names[:2]) and names[0] != "model":
        extra = ", ".join(names[2:])
        raise TargetError(
            f"{label}({', '.join(names)}) takes {len(names)} required arguments, but Keras calls a metric function "
            f"with (y_true, y_pred) only: give {extra} a default (def {getattr(obj, '__name__', 'f1')}"
            f"({names[0]}, {names[1]}, {names[2]}=...)) or wrap it, e.g. lambda y_true, y_pred: "
            f"{getattr(obj, '__name__', 'f1')}(y_true, y_pred, ...)."
        )
    if len(names) == 3:
        return "callback", obj
    if required is not None and not names:
        return _factory(obj, label, metric_type, callback_type)
    count = "an unknown number of required arguments" if required is None else (
        "1 required argument" if len(names) == 1 else f"{len(names)} required arguments"
    )
    raise TargetError(
        f"{label} takes {count}: a metric function takes (y_true, y_pred), a factory takes () or, for a "
        "callback, (model, x, y)."
    )


def _factory(obj: Callable, label: str, metric_type, callback_type) -> tuple[str, Callable]:
    product = call_user(label, "calling the factory", obj)
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


def _callback_maker(cls: type, label: str) -> Callable:
    required = required_positional(cls)
    if required in (0, None):
        return lambda model, x, y: cls()
    if required == 3:
        return cls
    raise TargetError(
        f"{label}: the callback class needs {required} constructor argument{'s' if required != 1 else ''}; f1check "
        "builds callbacks with () or (model, x, y). Wrap it in a factory, e.g. "
        "def make(model, x, y): return MyCallback(x, y)."
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
        product = call_user(label, "calling the factory", factory)
        if not isinstance(product, metric_type):
            raise TargetError(f"{label}: the factory returned {type(product).__name__} this time, not a Metric.")
        return product

    return make
