"""A counterexample as Python that fails the same way when pasted into a fresh interpreter.

The snippet names everything the run depended on: the backend (set before
Keras is imported), the data (inline when small, else saved to an ``.npz``
whose path it loads), the partitions (with the runs that came before on the
same model, when the example is part of such a sequence), the feed, the mode,
the seed, the replicas and every setting that is not the default.
"""

from __future__ import annotations

import hashlib
import math
import sys
import tempfile
from pathlib import Path

from ..core import backend
from ..core.settings import CheckSettings, Semantics
from ..judging.results import Example
from ..subjects.config import saved_objects
from ..subjects.context import CheckContext

INLINE_ROWS = 64  # data up to this many samples is written inline


def snippet(context: CheckContext, example: Example, save_dir: str | Path | None = None,
            root: str | Path | None = None) -> str:
    """Python that runs ``example`` of ``context`` again through ``assert_f1`` and fails as it did.

    With ``root`` (the repository's root), the snippet runs from any folder inside a checkout: it finds the
    root by a file it knows (the target's module, else the saved data) and reads the saved data from there,
    so a report's snippets rerun from a fresh clone plus the report's artifacts (and are the same text
    whichever process wrote them).
    """
    label, mode, settings, subject = context.label, context.mode, context.settings, context.subject
    importable = ":" in label and "<" not in label
    sequence = [*example.preceded_by, example.partition]
    data, saved = _data_lines(example, sequence, save_dir)
    place = _Place.of(label if importable else None, saved, root)
    lines = [f"# f1check counterexample: {label} [{mode}], seed {settings.seed}. "
             + ("Run it (pasted, or as a file) anywhere inside the repository." if place.marker else
                "Paste into Python in the repository.")]
    if not importable:
        lines.append(f"subject = ...  # {label}: the object you passed to f1check.check")
    lines += _environment_lines(settings.replicas) + place.lines()
    lines += ["import numpy", "import f1check"]
    if settings.replicas > 1:
        lines.append(f"f1check.prepare_replicas({settings.replicas})  # before TensorFlow starts")
    lines += [line.replace("<saved>", place.path_expr(saved)) for line in data]
    if len(sequence) > 1:
        lines.append("# the same data fed to the same compiled model once per partition, in this order")
    lines.append("partitions = [" + ", ".join(_partition(p, k, len(example.y_true)) for k, p in enumerate(sequence))
                 + "]")
    weights = example.weights
    data_arg = "data=(y_true, scores, sample_weight)" if weights.kind.per_sample else "data=(y_true, scores)"
    args = [repr(label) if importable else "subject", data_arg, "partitions=partitions",
            f"modes=[{mode.value!r}]", *example.loop.arguments(), f"seed={settings.seed}", *setting_arguments(settings)]
    if settings.semantics.weighted and not weights.given:
        args.append("weights=['none']")
    if weights.kind.by_class:
        args.append(f"class_weight={weights.class_weight!r}")
    if subject.callback_key is not None:
        args.append(f"callback_key={subject.callback_key!r}")
    if subject.companion_labels:
        args.append(f"callback_metrics={list(subject.companion_labels)!r}")
    if mode.reloads:
        lines += _reload_lines(context, importable)
    lines.append(f"f1check.assert_f1({', '.join(args)})")
    return "\n".join(lines)


def _reload_lines(context: CheckContext, importable: bool) -> list[str]:
    """What mode ``reloaded`` does around the loop, as plain Keras, and the metric as ``load_model`` rebuilds it."""
    metrics = [m for m in context.subject.metrics if not m.is_function]
    objects = "{" + ", ".join(f"{name!r}: {obj.__module__}.{obj.__qualname__}"
                              for name, obj in saved_objects(context.subject).items()) + "}"
    lines = ["# mode 'reloaded': the metric compiled in a model that trains one epoch, then, as a checkpoint does,",
             "#     model.save(path)  # a .keras file",
             f"#     model = keras.models.load_model(path, custom_objects={objects})",
             "# and evaluate and one more fit epoch on the model load_model gave back, each judged"]
    if not metrics or not importable:
        return lines
    module, _, attr = context.label.partition(":")
    origin = metrics[0].origin
    built = f"{module}.{attr}" if origin is not None and hasattr(origin, "get_config") and \
        not isinstance(origin, type) else f"{module}.{attr}()"
    return lines + [
        f"import {module}",
        f"built = {built}",
        "rebuilt = type(built).from_config(built.get_config())  # what load_model makes of the saved metric",
        "print({k: (v, vars(rebuilt).get(k)) for k, v in vars(built).items() if isinstance(v, (bool, int, float, str))"
        " and vars(rebuilt).get(k) != v})",
    ]


class _Place:
    """Where a snippet finds the repository: a file relative to its root (the marker), the ``sys.path`` entry
    of the target's module relative to it, and the saved data relative to it."""

    def __init__(self, marker: str | None = None, entry: str | None = None, root: Path | None = None):
        self.marker, self.entry, self.root = marker, entry, root

    @classmethod
    def of(cls, label: str | None, saved: Path | None, root) -> _Place:
        if root is None:
            return cls()
        root = Path(root).resolve()
        module_name = label.partition(":")[0] if label else None
        module = sys.modules.get(module_name) if module_name else None
        file = getattr(module, "__file__", None)
        if file is not None and Path(file).resolve().is_relative_to(root):
            path = Path(file).resolve()
            depth = module_name.count(".") + (1 if path.name == "__init__.py" else 0)
            entry = path.parents[depth]
            return cls(path.relative_to(root).as_posix(), entry.relative_to(root).as_posix(), root)
        if saved is not None and saved.resolve().is_relative_to(root):
            return cls(saved.resolve().relative_to(root).as_posix(), None, root)
        return cls()

    def lines(self) -> list[str]:
        if not self.marker:
            return []
        out = [
            "import pathlib",
            "import sys",
            "here = pathlib.Path.cwd()",
            f"root = next((p for p in (here, *here.parents) if (p / {self.marker!r}).is_file()), None)",
            "if root is None:",
            f"    sys.exit('f1check: run this inside the repository (the folder that has {self.marker}, or one "
            "below it)')",
        ]
        if self.entry is not None:
            out.append("sys.path.insert(0, str(root))" if self.entry == "." else
                       f"sys.path.insert(0, str(root / {self.entry!r}))")
        return out

    def path_expr(self, saved: Path | None) -> str:
        """The Python that names the saved data: relative to the root when it is inside, else absolute."""
        if saved is None:
            return ""
        if self.root is not None and saved.resolve().is_relative_to(self.root):
            return f"root / {saved.resolve().relative_to(self.root).as_posix()!r}"
        return repr(str(saved))


def setting_arguments(settings: CheckSettings) -> list[str]:
    """``check()`` keyword arguments for every setting that is not the default (modes, feeds and seed aside)."""
    args, defaults = [], CheckSettings()
    if settings.tolerance != defaults.tolerance:
        args.append(f"tolerance={settings.tolerance!r}")
    if settings.judge != defaults.judge:
        args.append(f"judge={settings.judge!r}")
    if settings.replicas > 1:
        args.append(f"replicas={settings.replicas}")
    if settings.semantics.weighted:
        args.append("weighted=True")
    if settings.output:
        args.append(f"output={settings.output!r}")
    sem, default = settings.semantics, Semantics()
    if sem.task != default.task:
        args += [f"task={sem.task!r}", f"classes={sem.classes}"]
    default_average = "binary" if sem.task == "binary" else "macro"
    if sem.average != default_average:
        args.append(f"average={sem.average!r}")
    for name in ("threshold", "zero_division", "score", "beta"):
        value = getattr(sem, name)
        if value != getattr(default, name) and not (isinstance(value, float) and math.isnan(value) and name == "beta"):
            args.append(f"{name}={_literal(value)}")
    return args


def _literal(value) -> str:
    if isinstance(value, float) and math.isnan(value):
        return 'float("nan")'
    return repr(value)


def _environment_lines(replicas: int) -> list[str]:
    lines = []
    name = backend.backend_name()
    if name != "tensorflow" or backend.legacy():
        lines.append("import os")
    if name != "tensorflow":
        lines.append(f'os.environ["KERAS_BACKEND"] = {name!r}  # before Keras is imported')
    if backend.legacy():
        lines.append(f'os.environ["{backend.LEGACY_ENV}"] = "1"  # tf.keras is tf-keras, as in this run')
    return lines


def _spelled_out(partition) -> bool:
    """A partition whose order is a list, not a seed's permutation."""
    return partition.shuffled_order and partition.order_seed is None


def _partition(partition, k: int, n: int) -> str:
    """The partition's Python; a long spelled-out order is read from the saved data (``order<k>``)."""
    if n > INLINE_ROWS and _spelled_out(partition):
        return partition.literal(order_expr=f"saved['order{k}'].tolist()")
    return partition.literal()


def _data_lines(example: Example, sequence, save_dir) -> tuple[list[str], Path | None]:
    """The lines that make ``y_true`` and ``scores`` (``<saved>`` stands for the saved file's path), and that file."""
    y, scores = example.y_true, example.scores
    columns = y.shape[1]
    weights = example.weights.sample if example.weights.kind.per_sample else None
    if len(y) <= INLINE_ROWS:
        lines = [
            f"y_true = numpy.array({_floats(y)}, dtype='float32').reshape(-1, {columns})",
            f"scores = numpy.array({_floats(scores)}, dtype='float32').reshape(-1, {columns})",
        ]
        if weights is not None:
            lines.append(f"sample_weight = numpy.array({_floats(weights)}, dtype='float32')")
        return lines, None
    saved = {f"order{k}": p.indices() for k, p in enumerate(sequence) if _spelled_out(p)}
    if weights is not None:
        saved["sample_weight"] = weights
    path = save_data(y, scores, save_dir, **saved)
    lines = ["saved = numpy.load(<saved>)  # the example's data, saved by f1check",
             "y_true, scores = saved['y_true'], saved['scores']"]
    if weights is not None:
        lines.append("sample_weight = saved['sample_weight']")
    return lines, path


def save_data(y, scores, save_dir=None, **arrays) -> Path:
    """Save ``(y, scores)`` (and ``arrays``: spelled-out orders, weights) as ``f1check-<hash>.npz`` in ``save_dir``
    (the system's temporary directory by default)."""
    import numpy as np

    digest = hashlib.blake2b(y.tobytes() + scores.tobytes() + repr(y.shape).encode(), digest_size=8)
    for name, array in sorted(arrays.items()):
        digest.update(name.encode() + np.asarray(array).tobytes())
    folder = Path(save_dir) if save_dir is not None else Path(tempfile.gettempdir()) / "f1check-counterexamples"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"f1check-{digest.hexdigest()}.npz"
    if not path.exists():
        np.savez_compressed(path, y_true=y, scores=scores, **arrays)
    return path


def _floats(array) -> str:
    """Flat float32 values, each written shortest while it still reads back as the same float32."""
    import numpy as np

    out = []
    for value in np.asarray(array, np.float32).reshape(-1):
        short = np.format_float_positional(value, unique=True, trim="-")
        out.append(short if np.float32(float(short)) == value else repr(float(value)))
    return "[" + ", ".join(out) + "]"
