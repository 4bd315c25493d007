"""Where a subject is defined, found without importing it: the file and line an item's failure points to.

pytest asks an item for its location (``reportinfo``) before the item runs, so before the subject's module
(and the framework it imports) is loaded. The module's file is found on ``sys.path`` (then in the rootdir and
its ``src``) as the import system would find it, and the name in it by reading its source: a ``def``, a
``class``, an assignment, or a ``from ... import`` followed to the module that defines it. JUnit's
``file``/``line``, pytest's failure header and pytest-github-actions-annotate-failures then name the metric's
code, not the configuration. Pure standard library.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["config_line", "subject_location"]

FOLLOW = 4  # re-exports followed at most (``from .metrics import F1`` in a package's ``__init__``)


def subject_location(subject: str, roots: Sequence[Path] = ()) -> tuple[Path, int] | None:
    """``(file, 1-based line)`` where ``"module:attr"`` is defined; ``None`` when its source cannot be read."""
    module, sep, attr = subject.partition(":")
    if not sep or not module or not attr:
        return None
    return _find(module, attr.split("."), roots, FOLLOW)


def config_line(path: Path, subject: str, occurrence: int) -> int | None:
    """The 1-based line of the ``occurrence``-th (0-based) quoted mention of ``subject`` in the config file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    quoted = (f'"{subject}"', f"'{subject}'")
    found = [k + 1 for k, line in enumerate(lines) if any(q in line for q in quoted)]
    return found[occurrence] if occurrence < len(found) else (found[-1] if found else None)


def _find(module: str, names: list[str], roots: Sequence[Path], follow: int) -> tuple[Path, int] | None:
    path = module_file(module, roots)
    if path is None:
        return None
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    body, line = tree.body, None
    for depth, name in enumerate(names):
        node = _defining(body, name)
        if node is None:
            return (path, line) if line is not None else None
        if isinstance(node, ast.ImportFrom) and depth == 0 and follow > 0:
            source = _imported_module(node, module, path)
            original = next(a.name for a in node.names if (a.asname or a.name) == name)
            found = _find(source, [original, *names[1:]], roots, follow - 1) if source else None
            return found or (path, node.lineno)
        line = node.lineno
        body = node.body if isinstance(node, ast.ClassDef) else []
    return path, line


def module_file(module: str, roots: Sequence[Path] = ()) -> Path | None:
    """The source file of ``module`` on ``sys.path`` or in ``roots``, without importing anything."""
    parts = module.split(".")
    for base in [*(Path(p or ".") for p in sys.path), *roots]:
        candidate = Path(base).joinpath(*parts)
        for path in (candidate.with_name(candidate.name + ".py"), candidate / "__init__.py"):
            if path.is_file():
                return path.resolve()
    return None


def _defining(body: list, name: str):
    """The last top-level statement of ``body`` that binds ``name`` (the binding in force at import's end)."""
    found = None
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            found = node
        elif isinstance(node, ast.Assign) and any(_binds(t, name) for t in node.targets):
            found = node
        elif isinstance(node, ast.AnnAssign) and _binds(node.target, name):
            found = node
        elif isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names):
            found = node
    return found


def _binds(target, name: str) -> bool:
    if isinstance(target, ast.Name):
        return target.id == name
    return isinstance(target, (ast.Tuple, ast.List)) and any(_binds(t, name) for t in target.elts)


def _imported_module(node: ast.ImportFrom, module: str, path: Path) -> str | None:
    """The absolute name of the module a ``from ... import`` reads, relative imports resolved."""
    if not node.level:
        return node.module
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    if node.level - 1 > len(package):
        return None
    base = package[:len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])]) or None
