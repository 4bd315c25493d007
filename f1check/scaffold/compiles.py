"""The repository's ``model.compile(metrics=[...])`` calls: which of its metrics they use, and what the model's last
layer says about the task (``Dense(5, activation="softmax")`` before the compile: multiclass, 5 classes)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .guesses import BUILTIN_SCORES, Hints, call_hints, literal
from .index import Index, framework_class
from .sources import Module, Repository, qualify

METRIC_KEYWORDS = ("metrics", "weighted_metrics")


@dataclass(frozen=True)
class Use:
    """A metric named in a compile call: where, and what the call and the model's last layer say."""

    where: str
    hints: Hints


def compile_uses(index: Index) -> tuple[dict[str, Use], list[tuple[str, str]]]:
    """qualified name -> its first :class:`Use` in a compile call; and (text, why) for Keras score metrics built
    inline in a compile call (they have no name f1check can import)."""
    uses, inline = {}, []
    for module in index.repository.modules.values():
        for call in (n for n in ast.walk(module.tree) if _is_compile(n)):
            where = f"{module.shown}:{call.lineno}"
            layer = last_layer(module, call)
            for element in _metric_elements(call):
                target = element.func if isinstance(element, ast.Call) else element
                qualified = index.resolve(qualify(module, target))
                builtin = framework_class(qualified)
                if builtin is not None and builtin[1] in BUILTIN_SCORES:
                    why = ("built inline in compile(): f1check imports targets by name, so put it in a function "
                           f"(def make_metric(): return {ast.unparse(element)[:60]}) and list that")
                    inline.append((f"{ast.unparse(element)[:80]} ({where})", why))
                    continue
                hints = call_hints(element, where) if isinstance(element, ast.Call) else Hints()
                if qualified and qualified not in uses:
                    uses[qualified] = Use(where, hints.merged(layer))
    return uses, inline


def _is_compile(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "compile" and \
        any(k.arg in METRIC_KEYWORDS for k in node.keywords)


def _metric_elements(call: ast.Call) -> list[ast.AST]:
    found = []
    for keyword in call.keywords:
        if keyword.arg not in METRIC_KEYWORDS:
            continue
        value = keyword.value
        items = value.values if isinstance(value, ast.Dict) else [value]
        for item in items:
            found += list(item.elts) if isinstance(item, (ast.List, ast.Tuple)) else [item]
    return [e for e in found if not isinstance(e, ast.Constant)]


def last_layer(module: Module, call: ast.Call) -> Hints:
    """What the last ``Dense(n, activation=...)`` before the compile call (in its function, else in its module when
    every such layer there agrees) says: softmax over n >= 2 classes is multiclass, sigmoid over n >= 2 multilabel."""
    scope = _enclosing(module.tree, call.lineno)
    layers = [d for d in (_dense(n) for n in ast.walk(scope) if isinstance(n, ast.Call)) if d is not None]
    before = [d for d in layers if d[0] <= call.lineno]
    chosen = max(before or layers, default=None)
    if chosen is None and scope is not module.tree:
        everywhere = {d[1:] for d in (_dense(n) for n in ast.walk(module.tree) if isinstance(n, ast.Call)) if d}
        chosen = (0, *everywhere.pop()) if len(everywhere) == 1 else None
    if chosen is None:
        return Hints()
    line, units, activation = chosen
    where = f"Dense({units}, activation={activation!r}) at {module.shown}:{line}" if line else \
        f"Dense({units}, activation={activation!r}) in {module.shown}"
    if activation == "softmax" and units >= 2:
        return Hints(task="multiclass", classes=units, why=(where,))
    if activation == "sigmoid" and units >= 2:
        return Hints(task="multilabel", classes=units, why=(where,))
    return Hints()


def _dense(node: ast.Call) -> tuple[int, int, str] | None:
    """(line, units, activation) of a ``Dense`` layer call with literal units and activation."""
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    if name != "Dense":
        return None
    units = literal(node.args[0]) if node.args else None
    activation = literal(node.args[1]) if len(node.args) > 1 else None
    for keyword in node.keywords:
        if keyword.arg == "units":
            units = literal(keyword.value)
        elif keyword.arg == "activation":
            activation = literal(keyword.value)
    if type(units) is not int or activation not in ("softmax", "sigmoid"):
        return None
    return node.lineno, units, activation


def _enclosing(tree: ast.Module, line: int) -> ast.AST:
    """The innermost function around ``line``, or the module."""
    around = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
              and n.lineno <= line <= (n.end_lineno or n.lineno)]
    return max(around, key=lambda n: n.lineno, default=tree)


SPARSE_LOSSES = ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", "sparse_categorical_accuracy",
                 "SparseCategoricalAccuracy")


def sparse_evidence(repository: Repository) -> str | None:
    """Where the code first says the training loop feeds class indices (a sparse loss or accuracy), or None."""
    for module in repository.modules.values():
        for node in ast.walk(module.tree):
            name = node.value if isinstance(node, ast.Constant) else getattr(node, "attr", getattr(node, "id", None))
            if name in SPARSE_LOSSES:
                return f"{name} at {module.shown}:{node.lineno}"
    return None
