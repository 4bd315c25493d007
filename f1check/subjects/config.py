"""What ``load_model`` gives back: a metric rebuilt from its ``get_config()``, and what it lost on the way.

``model.save`` stores each compiled metric as its class and ``get_config()``;
``keras.models.load_model`` calls ``from_config`` on that.  A custom metric
whose ``get_config()`` leaves out a constructor argument comes back with the
argument's default (a threshold of 0.5 for 0.3, two classes for four), and
logs other numbers, silently.  :func:`round_trip` is that rebuild, through
JSON as the ``.keras`` file stores it; :func:`config_loss` compares a metric
with its rebuild: the attributes that differ, and the values the two log on
the same batches.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core import backend
from ..core.errors import SubjectError, TargetError
from . import MetricSubject, Subject, round_trip

__all__ = ["ConfigLoss", "config_loss", "fix", "instance_copies", "saved_objects", "unloadable"]

PLAIN = (bool, int, float, str, type(None))


@dataclass(frozen=True)
class ConfigLoss:
    """A metric that ``from_config(get_config())`` does not give back as it was built."""

    label: str  # the metric's label
    changed: tuple[tuple[str, str, str], ...]  # (attribute, as built, as rebuilt)
    before: float = math.nan  # what the metric as built logs on the probe batches
    after: float = math.nan  # what the rebuilt one logs on them
    error: str | None = None  # from_config raised this instead (load_model cannot rebuild it at all)

    @property
    def attributes(self) -> str:
        return ", ".join(f"{name}: {old} -> {new}" for name, old, new in self.changed[:6]) or "no attribute differs"

    def text(self) -> str:
        """The note's sentence: what differs, the two values, and the fix."""
        if self.error is not None:
            return (f"{self.label} cannot be rebuilt from its config, so keras.models.load_model cannot load a model "
                    f"that compiles it: from_config(get_config()) raised {self.error.rstrip('.')}. Give the class a "
                    f"get_config() that returns every constructor argument, {fix('num_classes')}")
        names = [name.lstrip("_") for name, _, _ in self.changed if not name.startswith("variable ")]
        return (f"{self.label} comes back different from model.save and keras.models.load_model: "
                f"from_config(get_config()) gives {self.attributes}, and logs {self.after:.6f} where the metric as "
                f"built logs {self.before:.6f} on the same batches. Return "
                f"{', '.join(names[:4]) or 'its constructor arguments'} from get_config, "
                f"{fix(names[0] if names else 'threshold')}")


def fix(name: str) -> str:
    """How to give ``load_model`` the argument ``name``, and the class itself."""
    return (f"e.g. `def get_config(self): return {{**super().get_config(), \"{name}\": self.{name}}}`; register the "
            "class with @keras.saving.register_keras_serializable() or pass it in "
            "load_model(..., custom_objects={...}).")


@functools.lru_cache(maxsize=4)
def _base_names(framework: str = "") -> frozenset[str]:
    """The attributes every Metric has (Keras's own bookkeeping): never the subject's arguments (``framework``: the
    Keras it is asked of, so that one process's Keras 3 and tf-keras answers are kept apart)."""
    keras = backend.framework()

    class Bare(keras.metrics.Metric):
        def update_state(self, *args, **kwargs):
            return None

        def result(self):
            return 0.0

    return frozenset(vars(Bare(name="bare")))


def _shown(value: Any) -> str | None:
    """A plain value as text (numbers, strings, their lists and dicts, small arrays and constant tensors); None for
    anything else (variables are compared by shape)."""
    if isinstance(value, PLAIN) or (type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0):
        return repr(value.item() if hasattr(value, "item") else value)
    if hasattr(value, "shape") and hasattr(value, "dtype") and not hasattr(value, "assign"):
        try:
            array = backend.to_numpy(value)
        except Exception:  # noqa: BLE001 - not a tensor f1check can read: not compared
            return None
        return repr(array.tolist()) if array.size <= 16 else None
    if isinstance(value, (list, tuple)) and all(isinstance(v, PLAIN) for v in value):
        return repr(list(value))
    if isinstance(value, dict) and all(isinstance(v, PLAIN) for v in value.values()):
        return repr(dict(value))
    return None


def _attributes(metric: Any, base: frozenset[str]) -> dict[str, str]:
    found = {}
    for name, value in vars(metric).items():
        shown = _shown(value)
        if shown is not None and (name not in base or name in ("name", "_name")):
            found[name] = shown
    for variable in getattr(metric, "variables", []):
        name = (getattr(variable, "path", None) or getattr(variable, "name", "")).rsplit("/", 1)[-1].removesuffix(":0")
        found[f"variable {name}"] = f"shape {tuple(int(d) for d in variable.shape)}"
    return found


def changed_attributes(built: Any, rebuilt: Any) -> tuple[tuple[str, str, str], ...]:
    """``(attribute, as built, as rebuilt)`` for each plain attribute or variable shape that differs."""
    base = _base_names(backend.framework().__name__)
    old, new = _attributes(built, base), _attributes(rebuilt, base)
    return tuple((name, old.get(name, "(none)"), new.get(name, "(none)")) for name in sorted(set(old) | set(new))
                 if old.get(name) != new.get(name))


def config_loss(metric: MetricSubject, batch_sets: list[list]) -> ConfigLoss | None:
    """None when ``metric`` comes back from ``from_config(get_config())`` as built (or it is a function, saved by
    name); else what differs.  ``batch_sets``: lists of ``[(y_true, y_pred), ...]`` as the loop fed them; the two are
    fed each in turn (only where an attribute differs: the usual metric costs one round trip) until their values
    differ.  A lost ``name`` is a loss whatever the values: the loaded model logs under another key."""
    if metric.is_function:
        return None
    built = metric.fresh()
    rebuilt, lost = _rebuilt(metric, built)
    if lost is not None:
        return lost
    changed = changed_attributes(built, rebuilt)
    if not changed:
        return None
    renamed = any(name in ("name", "_name") for name, _, _ in changed)
    for batches in batch_sets:
        try:
            before = metric.replay_epochs([batches], metric.fresh())[0]
            after = metric.replay_epochs([batches], round_trip(metric.fresh()))[0]
        except SubjectError:
            return None  # the subject's own error shows, better named, where f1check runs it for real
        if renamed or not (before == after or (math.isnan(before) and math.isnan(after))):
            return ConfigLoss(metric.label, changed, before, after)
    return None


def probe_config(subject: Subject, batch_sets: list[list]) -> ConfigLoss | None:
    """The first of the subject's compiled metrics that ``load_model`` would not give back as built, or None."""
    return next((loss for loss in (config_loss(m, batch_sets) for m in subject.metrics) if loss), None)


def unloadable(subject: Subject) -> ConfigLoss | None:
    """The first compiled metric that cannot be rebuilt from its config at all (``from_config`` raises), or None."""
    lost = (_rebuilt(metric, metric.fresh())[1] for metric in subject.metrics if not metric.is_function)
    return next((loss for loss in lost if loss is not None), None)


def _rebuilt(metric: MetricSubject, built: Any) -> tuple[Any, ConfigLoss | None]:
    """``built`` as ``load_model`` rebuilds it, or what ``from_config`` raised (load_model raises it too)."""
    try:
        return round_trip(built), None
    except Exception as exc:  # noqa: BLE001 - whatever from_config raises, load_model raises
        return None, ConfigLoss(metric.label, (), error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")


def saved_objects(subject: Subject) -> dict[str, Any]:
    """What a user passes ``load_model(..., custom_objects=...)`` for ``subject``: each compiled metric's class (a
    function itself) by its name."""
    found = {}
    for metric in subject.metrics:
        made = metric.fresh()
        named = made if metric.is_function else type(made)
        found[named.__name__] = named
    return found


def instance_copies(metric: Any, label: str) -> Callable:
    """Fresh copies of a Metric instance, made from its config; where the config leaves out a plain attribute (a
    threshold), each copy is given the instance's value, so that the copy is the instance (the config probe then
    says what ``load_model`` loses).  A copy that still differs (variables of another shape) is an error."""
    cls = type(metric)
    config = metric.get_config()

    def clone():
        return cls.from_config(config)

    try:
        first = clone()
    except Exception as exc:
        raise TargetError(
            f"{label}: cannot make a fresh copy of the metric instance from its config "
            f"({type(exc).__name__}: {exc}). Give the class a get_config() that returns its constructor "
            "arguments, or pass a zero-argument factory instead."
        ) from None
    lost = changed_attributes(metric, first)
    if not lost:
        return clone
    kept = {name: getattr(metric, name) for name, _, _ in lost if not name.startswith("variable ")}

    def patched():
        made = clone()
        for name, value in kept.items():
            setattr(made, name, copy.deepcopy(value))
        return made

    try:
        still = changed_attributes(metric, patched())
    except Exception:  # noqa: BLE001 - an attribute that cannot be set: the copy cannot be the instance
        still = lost
    if still:
        raise TargetError(
            f"{label}: a copy of the metric instance made from its config differs from it "
            f"({', '.join(f'{n}: {a} -> {b}' for n, a, b in still[:6])}), so f1check cannot check the instance "
            "(and keras.models.load_model would not give it back either). Give the class a get_config() that "
            "returns every constructor argument, or name a zero-argument factory that builds the metric instead."
        )
    return patched
