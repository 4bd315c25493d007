"""Targets: ``"module:attr"`` and objects, recognised as subjects.

A target is imported as the repository's own tests would import it (with a
message that tells a typo in the target's module path from a package it
imports that is not installed), then recognised: a ``keras.metrics.Metric``
subclass or instance (cloned from its config), a ``keras.callbacks.Callback``
subclass or factory, a callable with two required parameters (a metric
function) or none (a factory).  Under :func:`f1check.core.backend.legacy` the
classes recognised are tf-keras's.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..core import backend
from ..core.errors import TargetError, did_you_mean
from . import CallbackSubject, MetricSubject, Subject, call_user, foreign_error
from .config import instance_copies

__all__ = ["import_target", "label_of", "resolve"]

# Names the first two parameters of a metric function usually have.
METRIC_ARGUMENTS = re.compile(r"true|pred|label|target|output|actual|score|^y|^t$|^p$", re.IGNORECASE)


# -- importing "module:attr" -------------------------------------------------------------------------------


def import_target(spec: str, roots: Sequence[Path] = ()) -> Any:
    """Import ``"module:attr"`` (``attr`` may be dotted) with ``sys.path`` as it is; a clear error naming the fix
    otherwise.

    ``roots`` are folders where the module may sit without being importable (the rootdir, and its ``src``): a
    target found only there is an error that gives the ``pythonpath`` line that makes it importable, for the
    repository's own tests as much as for f1check.
    """
    module_name, sep, attr_path = spec.partition(":")
    if not sep or not module_name or not attr_path:
        raise TargetError(
            f"target {spec!r} is not of the form 'module:attr': write the module path, a colon and the "
            "name inside it, e.g. 'pkg.metrics:f1'."
        )
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise _import_error(spec, module_name, exc, roots) from None
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


def _import_error(spec: str, module_name: str, exc: ImportError, roots: Sequence[Path] = ()) -> TargetError:
    """Tell a typo in the target's own module path from a missing package the module imports, and from a module
    that is there but not on ``sys.path``."""
    missing = getattr(exc, "name", None)
    own = missing is not None and (module_name == missing or module_name.startswith(missing + "."))
    top = module_name.split(".")[0]
    folder = _found_in(module_name, roots) if own and not _importable(top) else None  # else: a typo below the top
    if folder is not None:
        entry = "src" if folder.name == "src" and folder.parent in [Path(r) for r in roots] else "."
        return TargetError(
            f"target {spec!r} does not import with the sys.path pytest gives the repository's tests: "
            f"{module_name.split('.')[0]!r} is in {folder}, which is not on sys.path (so your own tests cannot "
            f"import it either). Add pythonpath = [\"{entry}\"] to [tool.pytest.ini_options] in pyproject.toml "
            "(pytest 7 and later), or install the package (pip install -e .)."
        )
    if own:
        parent, _, leaf = missing.rpartition(".")
        if parent:  # the package imports; a module below it is not there
            return TargetError(
                f"target {spec!r} does not import: {parent!r} imports, but has no module {leaf!r}."
                f"{did_you_mean(leaf, _siblings(parent))} Check the spelling of the module path."
            )
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


def _importable(name: str) -> bool:
    """Whether the top-level module ``name`` is found on ``sys.path`` (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _found_in(module_name: str, roots: Sequence[Path]) -> Path | None:
    """The folder among ``roots`` (and their ``src``) where ``module_name``'s top package sits, if any."""
    from importlib.machinery import PathFinder

    top = module_name.split(".")[0]
    for root in roots:
        for folder in (Path(root), Path(root) / "src"):
            if folder.is_dir() and PathFinder.find_spec(top, [str(folder)]) is not None:
                return folder
    return None


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


def parameters(fn: Callable, by_name: tuple[str, ...] = ()) -> list[inspect.Parameter] | None:
    """The required positional parameters of ``fn``, or None if it cannot be told (or it needs a keyword-only
    argument other than those ``by_name``, which the caller passes by name)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    required = []
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            required.append(p)
        elif p.kind == p.KEYWORD_ONLY and p.default is p.empty and p.name not in by_name:
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


# -- recognising a subject ---------------------------------------------------------------------------------


def resolve(subject: Any, *, callback_key: str | None = None, callback_metrics: Sequence[Any] = (),
            roots: Sequence[Path] = ()) -> Subject:
    """Recognise ``subject`` (an object or ``"module:attr"``).

    A ``keras.metrics.Metric`` subclass or instance (cloned from its config),
    a ``keras.callbacks.Callback`` subclass or factory, a callable with two
    required parameters (a metric function) or none (a factory).  Under
    :func:`backend.legacy` the classes recognised are tf-keras's.
    """
    keras = backend.framework()
    label = subject if isinstance(subject, str) else None
    obj = import_target(subject, roots) if isinstance(subject, str) else subject
    label = label or label_of(obj)
    kind, make = _recognise(obj, label, keras)
    if kind == "callback":
        if not callback_key or not isinstance(callback_key, str):
            raise TargetError(
                f"{label} is a callback: say which logs key it writes its value to with callback_key= "
                "(or key = \"...\" in the target's table)."
            )
        companions = tuple(_companion(m, keras, roots) for m in callback_metrics)
        return CallbackSubject(label=label, make=make, key=callback_key, metrics=companions)
    if callback_metrics:
        raise TargetError(
            f"{label} is a metric, but callback_metrics were given: companion metrics belong to a "
            "callback subject that reads their logs."
        )
    return MetricSubject(label=label, make=make, is_function=kind == "function", origin=obj)


def _companion(spec: Any, keras, roots: Sequence[Path] = ()) -> MetricSubject:
    label = spec if isinstance(spec, str) else label_of(spec)
    obj = import_target(spec, roots) if isinstance(spec, str) else spec
    kind, make = _recognise(obj, label, keras)
    if kind == "callback":
        raise TargetError(f"{label} is a callback; a callback's companion metrics must be metrics.")
    return MetricSubject(label=label, make=make, is_function=kind == "function", origin=obj)


def _not_a_subject(label: str, obj: Any) -> TargetError:
    return TargetError(
        f"{label} ({type(obj).__name__}) is neither a metric nor a callback. f1check checks a metric "
        "function fn(y_true, y_pred), a keras.metrics.Metric (class, instance or zero-argument factory), or a "
        "keras.callbacks.Callback (class, or factory taking (), (model, x, y) or (model, x, y, sample_weight))."
    )


def _recognise(obj: Any, label: str, keras) -> tuple[str, Callable]:
    metric_type, callback_type = keras.metrics.Metric, keras.callbacks.Callback
    if not isinstance(obj, (metric_type, callback_type)) and not (
        isinstance(obj, type) and issubclass(obj, (metric_type, callback_type))
    ):
        foreign = foreign_error(obj, label)
        if foreign is not None:
            raise foreign
    if isinstance(obj, type):
        return _recognise_class(obj, label, metric_type, callback_type)
    if isinstance(obj, metric_type):
        return "metric", instance_copies(obj, label)
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
    if len(names) in (3, 4) or (required is None and callback_arity(obj) == 3):
        return "callback", builder(obj, 3)
    if required is not None and not names:
        return _factory(obj, label, metric_type, callback_type)
    count = "an unknown number of required arguments" if required is None else (
        "1 required argument" if len(names) == 1 else f"{len(names)} required arguments"
    )
    raise TargetError(
        f"{label} takes {count}: a metric function takes (y_true, y_pred), a factory takes () or, for a "
        "callback, (model, x, y) or (model, x, y, sample_weight)."
    )


def _factory(obj: Callable, label: str, metric_type, callback_type) -> tuple[str, Callable]:
    product = call_user(label, "calling the factory", obj)
    foreign = None if isinstance(product, (metric_type, callback_type)) else foreign_error(product, label)
    if foreign is not None:
        raise foreign
    if isinstance(product, metric_type):
        return "metric", _checked_factory(obj, metric_type, label)
    if isinstance(product, callback_type):
        return "callback", builder(obj, 0)
    if callable(product) and required_positional(product) == 2:
        return "function", lambda: obj()
    raise TargetError(
        f"{label} is a zero-argument factory, but it returned {type(product).__name__}: a factory must "
        "return a keras.metrics.Metric, a keras.callbacks.Callback or a metric function."
    )


def _callback_maker(cls: type, label: str) -> Callable:
    required = callback_arity(cls)
    if required in (0, None):
        return builder(cls, 0)
    if required in (3, 4):
        return builder(cls, 3)
    raise TargetError(
        f"{label}: the callback class needs {required} constructor argument{'s' if required != 1 else ''}; f1check "
        "builds callbacks with (), (model, x, y) or (model, x, y, sample_weight). Wrap it in a factory, e.g. "
        "def make(model, x, y): return MyCallback(x, y)."
    )


# -- how a callback is built ---------------------------------------------------------------------------------
#
# Every callback is built as make(model, x, y, sample_weight).  A factory or class takes (), (model, x, y), or the
# weights too: as a fourth required positional parameter, or by name as a parameter called ``sample_weight``
# (keyword-only, or after the ones f1check passes by position).  Any other signature is called as before, without
# them.  What the weights are (the check's CheckContext.callback_weights) is the harness's business.

WEIGHTS = "sample_weight"


def callback_arity(fn: Callable) -> int | None:
    """How many positional arguments a callback factory or class needs, a keyword-only ``sample_weight`` aside."""
    found = parameters(fn, by_name=(WEIGHTS,))
    return None if found is None else len(found)


def weights_parameter(fn: Callable, given: int) -> str | None:
    """How ``fn``, called with ``given`` (0 or 3) positional arguments, takes the sample weights: ``"positional"`` (a
    fourth required positional parameter), ``"keyword"`` (a parameter named ``sample_weight`` that is not among the
    ``given``), or None (it does not take them)."""
    try:
        listed = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    named = next((p for p in listed if p.name == WEIGHTS), None)
    if named is not None and (named.kind == named.KEYWORD_ONLY or (
            named.kind == named.POSITIONAL_OR_KEYWORD and listed.index(named) >= given)):
        return "keyword"
    return "positional" if given == 3 and callback_arity(fn) == 4 else None


def builder(fn: Callable, given: int) -> Callable:
    """``fn`` (a factory or class called with ``given``, 0 or 3, positional arguments: none, or the model and the
    data) as f1check builds every callback: ``make(model, x, y, sample_weight)``, passing the weights where ``fn``
    takes them (:func:`weights_parameter`)."""
    how = weights_parameter(fn, given)

    def make(model, x, y, sample_weight=None):
        if how == "positional":
            return fn(model, x, y, sample_weight)
        args = (model, x, y)[:given]
        return fn(*args, sample_weight=sample_weight) if how == "keyword" else fn(*args)

    return make


def _checked_factory(factory: Callable, metric_type: type, label: str) -> Callable:
    def make():
        product = call_user(label, "calling the factory", factory)
        if not isinstance(product, metric_type):
            raise TargetError(f"{label}: the factory returned {type(product).__name__} this time, not a Metric.")
        return product

    return make
