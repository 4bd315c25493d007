"""The repository's classes and functions, and what each is: a Keras metric, a callback, a metric function.

A class is a metric when a base resolves to Keras's ``Metric`` (``keras.metrics.Metric``, ``tf.keras.metrics.Metric``,
``km.Metric`` after ``from keras import metrics as km``, tf-keras's) or to a metric class of the repository, across
files and through re-exports; the same for callbacks.  Nothing is imported: names are resolved through each module's
imports (:mod:`f1check.scaffold.sources`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from .sources import Module, Repository, qualify

# The top packages whose metrics and callbacks are Keras's own.
FRAMEWORKS = ("keras", "tensorflow", "tf_keras", "tensorflow_addons")
METRIC, CALLBACK = "metric", "callback"
# Names the first two parameters of a metric function fn(y_true, y_pred) have.
TRUE_NAMES = ("true", "label", "target", "actual", "gt", "truth")
PRED_NAMES = ("pred", "output", "score", "logit", "prob", "hat")


def framework_class(qualified: str | None) -> tuple[str, str] | None:
    """(kind, class name) for a Keras metric or callback class: ``tensorflow.keras.metrics.F1Score`` ->
    ``("metric", "F1Score")``; None for anything else."""
    if not qualified:
        return None
    parts = qualified.split(".")
    if parts[0] not in FRAMEWORKS or len(parts) < 2:
        return None
    if "metrics" in parts[:-1]:
        return METRIC, parts[-1]
    if "callbacks" in parts[:-1]:
        return CALLBACK, parts[-1]
    return None


class Defined:
    """What a function and a class of the repository both say: name, ``module:name``, ``file:line``, docstring."""

    module: Module
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def spec(self) -> str:
        return f"{self.module.name}:{self.node.name}"

    @property
    def where(self) -> str:
        return f"{self.module.shown}:{self.node.lineno}"

    @property
    def doc(self) -> str:
        return ast.get_docstring(self.node) or ""


@dataclass
class Function(Defined):
    """A function at the top of a module (or a class's method, for callbacks)."""

    module: Module
    node: ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class Class(Defined):
    """A class of the repository: where it is, its bases as qualified names, and what it is."""

    module: Module
    node: ast.ClassDef
    bases: list[str]
    kind: str | None = None
    builtin_base: str | None = None  # the Keras class at the root of its bases (``Metric``, ``F1Score``)
    subclasses: list[str] = field(default_factory=list)
    local: bool = False  # defined inside a function (a factory's own class)

    @property
    def qualified(self) -> str:
        return f"{self.module.name}.{self.node.name}"

    def method(self, name: str) -> ast.FunctionDef | None:
        return next((n for n in self.node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and n.name == name), None)


@dataclass
class Index:
    """Every class and top-level function of the repository, by qualified name."""

    repository: Repository
    classes: dict[str, Class]
    functions: dict[str, Function]

    def resolve(self, qualified: str | None) -> str | None:
        """Follow re-exports (``pkg.StreamingF1`` -> ``pkg.metrics.StreamingF1`` where ``pkg/__init__.py`` imports
        it)."""
        seen = set()
        while qualified and qualified not in seen and qualified not in self.classes and qualified not in self.functions:
            seen.add(qualified)
            module, _, attr = qualified.rpartition(".")
            imported = self.repository.modules.get(module)
            if imported is None or attr not in imported.imports:
                break
            qualified = imported.imports[attr]
        return qualified

    def class_of(self, module: Module, node: ast.AST) -> Class | None:
        return self.classes.get(self.resolve(qualify(module, node)) or "")

    def function_of(self, module: Module, node: ast.AST) -> Function | None:
        return self.functions.get(self.resolve(qualify(module, node)) or "")

    def lineage(self, cls: Class) -> Iterator[Class]:
        """The class and its repository bases, nearest first."""
        seen, queue = set(), [cls]
        while queue:
            current = queue.pop(0)
            if current.qualified in seen:
                continue
            seen.add(current.qualified)
            yield current
            queue += [self.classes[b] for b in (self.resolve(b) for b in current.bases) if b in self.classes]

    def inherited(self, cls: Class, name: str) -> ast.FunctionDef | None:
        """The method ``name`` as the class has it: its own, or its nearest repository base's."""
        return next((m for m in (c.method(name) for c in self.lineage(cls)) if m is not None), None)


def build(repository: Repository) -> Index:
    """Index the repository's classes (top-level and inside functions) and top-level functions, then tell which
    classes are metrics and callbacks, transitively across files."""
    classes, functions = {}, {}
    for module in repository.modules.values():
        for node in module.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions[f"{module.name}.{node.name}"] = Function(module, node)
                for inner in (n for n in ast.walk(node) if isinstance(n, ast.ClassDef)):
                    local = Class(module, inner, [qualify(module, b) or "" for b in inner.bases],
                                  local=True)
                    classes.setdefault(f"{module.name}.<{node.name}>.{inner.name}", local)
            elif isinstance(node, ast.ClassDef):
                bases = [qualify(module, b) or "" for b in node.bases]
                classes[f"{module.name}.{node.name}"] = Class(module, node, bases)
    index = Index(repository, classes, functions)
    _kinds(index)
    return index


def _kinds(index: Index) -> None:
    """Each class's kind from its bases, to a fixed point (a base may be defined after, or in another file)."""
    changed = True
    while changed:
        changed = False
        for cls in index.classes.values():
            if cls.kind is not None:
                continue
            for base in cls.bases:
                resolved = index.resolve(base)
                builtin = framework_class(resolved)
                parent = index.classes.get(resolved or "")
                if builtin is not None:
                    cls.kind, cls.builtin_base = builtin
                elif parent is not None and parent.kind is not None:
                    cls.kind, cls.builtin_base = parent.kind, parent.builtin_base
                if cls.kind is not None:
                    changed = True
                    break
    for cls in index.classes.values():
        for base in cls.bases:
            parent = index.classes.get(index.resolve(base) or "")
            if parent is not None and parent is not cls and cls.kind == parent.kind:
                parent.subclasses.append(cls.spec)


def required(function: ast.FunctionDef | ast.AsyncFunctionDef, method: bool = False) -> list[str] | None:
    """The names of the positional parameters a call must give (no default; ``self`` dropped for a method); None when
    a keyword-only one other than ``sample_weight`` is required (f1check passes no other by name)."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    needed = positional[: len(positional) - len(arguments.defaults)]
    if method and needed:
        needed = needed[1:]
    if any(d is None and a.arg != "sample_weight" for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults)):
        return None  # f1check passes sample_weight by name, and no other keyword
    return [a.arg for a in needed]


def metric_shaped(names: list[str] | None) -> bool:
    """Two required parameters named like ``(y_true, y_pred)``."""
    if names is None or len(names) != 2:
        return False
    first, second = (n.lower() for n in names)
    return (any(w in first for w in TRUE_NAMES) or first in ("y", "t", "yt", "y_")) and \
        (any(w in second for w in PRED_NAMES) or second in ("p", "yp", "y_p", "y_hat", "output"))
