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

import json
import math
from dataclasses import dataclass
from typing import Any

from ..core import backend
from ..core.errors import SubjectError
from . import MetricSubject, Subject

__all__ = ["ConfigLoss", "config_loss", "round_trip", "unloadable"]

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
                    f"that compiles it: from_config(get_config()) raised {self.error}. {FIX}")
        names = [name for name, _, _ in self.changed if not name.startswith("variable ")]
        return (f"{self.label} comes back different from model.save and keras.models.load_model: "
                f"from_config(get_config()) gives {self.attributes}, and logs {self.after:.6f} where the metric as "
                f"built logs {self.before:.6f} on the same batches. Return "
                f"{', '.join(names[:4]) or 'its constructor arguments'} from get_config. {FIX}")


FIX = ("e.g. `def get_config(self): return {**super().get_config(), \"threshold\": self.threshold}` with every "
       "constructor argument; register the class with @keras.saving.register_keras_serializable() or pass it in "
       "load_model(..., custom_objects={...}).")


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


def _base_names() -> set[str]:
    """The attributes every Metric has (Keras's own bookkeeping): never the subject's arguments."""
    keras = backend.framework()

    class Bare(keras.metrics.Metric):
        def update_state(self, *args, **kwargs):
            return None

        def result(self):
            return 0.0

    return set(vars(Bare(name="bare")))


def _shown(value: Any) -> str | None:
    """A plain value as text (numbers, strings, their lists and dicts); None for anything else."""
    if isinstance(value, PLAIN) or (type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0):
        return repr(value.item() if hasattr(value, "item") else value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, PLAIN) for v in value):
        return repr(list(value))
    if isinstance(value, dict) and all(isinstance(v, PLAIN) for v in value.values()):
        return repr(dict(value))
    return None


def _attributes(metric: Any, base: set[str]) -> dict[str, str]:
    found = {}
    for name, value in vars(metric).items():
        shown = _shown(value)
        if shown is not None and (name not in base or name.lstrip("_") == "name"):
            found[name.lstrip("_") if name.lstrip("_") == "name" else name] = shown
    for variable in getattr(metric, "variables", []):
        name = (getattr(variable, "path", None) or getattr(variable, "name", "")).rsplit("/", 1)[-1].removesuffix(":0")
        found[f"variable {name}"] = f"shape {tuple(int(d) for d in variable.shape)}"
    return found


def changed_attributes(built: Any, rebuilt: Any) -> tuple[tuple[str, str, str], ...]:
    """``(attribute, as built, as rebuilt)`` for each plain attribute or variable shape that differs."""
    base = _base_names()
    old, new = _attributes(built, base), _attributes(rebuilt, base)
    return tuple((name, old.get(name, "(none)"), new.get(name, "(none)")) for name in sorted(set(old) | set(new))
                 if old.get(name) != new.get(name))


def config_loss(metric: MetricSubject, batches: list) -> ConfigLoss | None:
    """None when ``metric`` comes back from ``from_config(get_config())`` logging what it logs as built (or it is a
    function, saved by name); else what differs.  ``batches``: ``[(y_true, y_pred), ...]`` as the loop fed them."""
    if metric.is_function:
        return None
    built = metric.fresh()
    try:
        rebuilt = round_trip(built)
    except Exception as exc:
        return ConfigLoss(metric.label, (), error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    try:
        before = metric.replay_epochs([batches], metric.fresh())[0]
        after = metric.replay_epochs([batches], rebuilt)[0]
    except SubjectError:
        return None  # the subject's own error shows, better named, where f1check runs it for real
    changed = changed_attributes(built, rebuilt)
    same = before == after or (math.isnan(before) and math.isnan(after))
    if same and not any(name == "name" for name, _, _ in changed):
        return None
    return ConfigLoss(metric.label, changed, before, after)


def probe_config(subject: Subject, batches: list) -> ConfigLoss | None:
    """The first of the subject's compiled metrics that ``load_model`` would not give back as built, or None."""
    return next((loss for loss in (config_loss(m, batches) for m in subject.metrics) if loss), None)


def unloadable(subject: Subject) -> ConfigLoss | None:
    """The first compiled metric that cannot be rebuilt from its config at all (``from_config`` raises), or None."""
    for metric in subject.metrics:
        if metric.is_function:
            continue
        try:
            round_trip(metric.fresh())
        except Exception as exc:
            return ConfigLoss(metric.label, (), error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    return None
