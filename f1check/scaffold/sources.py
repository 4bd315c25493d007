"""A repository's Python files as parsed modules: their dotted names, their imports, nothing imported.

The module path of a file is dotted from the repository's root, or from ``src/`` where the code lives there (the
``src`` layout), as a hand-written ``[tool.f1check]`` spells it (``repo_metrics.metrics:StreamingF1``).  Each
module's imports become a table from the local name to the qualified name it stands for (``km`` ->
``keras.metrics``, ``Metric`` -> ``tensorflow.keras.metrics.Metric``, ``StreamingF1`` -> ``pkg.metrics.StreamingF1``
for ``from .metrics import StreamingF1``), so a base class or a call reads the same whatever the spelling.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Folders never read: environments, build outputs, version control; tests only when asked.
SKIPPED = frozenset({".venv", "venv", "env", ".env", "build", "dist", "site-packages", ".git", ".hg", ".tox",
                     ".nox", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".eggs"})
TEST_FOLDERS = frozenset({"tests", "test"})
# The names modules give the frameworks, for a module that binds one without an import statement.
FRAMEWORK_NAMES = {"keras": "keras", "tf": "tensorflow", "tensorflow": "tensorflow", "tf_keras": "tf_keras"}
LARGEST = 2_000_000  # bytes: a larger .py file is generated code, not a repository's metrics


@dataclass
class Module:
    """One parsed file: its dotted name, where it is, its syntax tree and its imports."""

    name: str
    path: Path
    shown: str  # the path as comments show it, relative to the repository
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    importable: bool = True  # every part of the name is an identifier
    defined: set[str] = field(default_factory=set)  # the names its top level defines


@dataclass
class Repository:
    """The modules found under a root, and what stopped others from being read."""

    root: Path
    source_root: Path  # the root, or its src/ (the src layout)
    modules: dict[str, Module]
    unreadable: list[str]  # "path: why", for the table's comments

    @property
    def src_layout(self) -> bool:
        return self.source_root != self.root


def python_files(root: Path, include_tests: bool) -> Iterator[Path]:
    """The ``.py`` files under ``root``, in a stable order, skipping :data:`SKIPPED` (and tests unless asked)."""
    skipped = SKIPPED if include_tests else SKIPPED | TEST_FOLDERS
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if f not in skipped and not f.endswith(".egg-info")
                            and not (Path(folder) / f / "pyvenv.cfg").exists())
        for name in sorted(files):
            if name.endswith(".py") and (include_tests or not _test_file(name)):
                yield Path(folder) / name


def _test_file(name: str) -> bool:
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def source_root(root: Path) -> Path:
    """``root/src`` where the code lives there (a package or module inside it), else ``root``."""
    src = root / "src"
    if src.is_dir() and any(p.suffix == ".py" or (p / "__init__.py").exists() for p in src.iterdir()):
        return src
    return root


def module_name(path: Path, base: Path) -> tuple[str, bool]:
    """The dotted name of ``path`` under ``base`` (a package's ``__init__.py`` is the package), and whether each part
    is an identifier (``train-model.py`` is not importable)."""
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts), all(p.isidentifier() for p in parts)


def read(root: Path, include_tests: bool) -> Repository:
    """Parse every Python file under ``root``; a file that does not parse is noted, not fatal."""
    base = source_root(root)
    modules, unreadable = {}, []
    for path in python_files(root, include_tests):
        shown = path.relative_to(root).as_posix()
        try:
            if path.stat().st_size > LARGEST:
                unreadable.append(f"{shown}: larger than {LARGEST // 1_000_000} MB, not read")
                continue
            tree = ast.parse(path.read_bytes(), filename=shown)
        except (SyntaxError, ValueError, OSError) as exc:
            unreadable.append(f"{shown}: does not parse ({type(exc).__name__}: {exc})")
            continue
        inside = base if base != root and path.is_relative_to(base) else root
        name, importable = module_name(path, inside)
        module = Module(name, path, shown, tree, importable=importable)
        module.imports = imports_of(module, path.name == "__init__.py")
        module.defined = top_names(tree)
        modules[name] = module
    return Repository(root, base, modules, unreadable)


def imports_of(module: Module, is_package: bool) -> dict[str, str]:
    """Local name -> qualified name for every import of the module (at any depth: imports inside functions and
    ``try`` blocks count, the last one wins)."""
    table = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    table[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    table[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module.name, is_package, node.level, node.module)
            for alias in node.names:
                if alias.name != "*":
                    table[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    return table


def _absolute(name: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute module of ``from <level dots><target> import ...`` in module ``name``."""
    if not level:
        return target or ""
    package = name.split(".") if is_package else name.split(".")[:-1]
    package = package[: max(0, len(package) - level + 1)]
    return ".".join(package + ([target] if target else []))


def top_names(tree: ast.Module) -> set[str]:
    """The names a module defines at its top level (classes, functions, assignments)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name or an Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def qualify(module: Module, node: ast.AST) -> str | None:
    """The qualified name an expression stands for in ``module``: through its imports, or the module's own
    top-level names, else the name as written."""
    text = dotted(node)
    if text is None:
        return None
    head, _, rest = text.partition(".")
    if head in module.imports:
        head = module.imports[head]
    elif head in FRAMEWORK_NAMES:  # keras = load_keras(): a module that names Keras so means it
        head = FRAMEWORK_NAMES[head]
    elif head in module.defined:
        head = f"{module.name}.{head}"
    return f"{head}.{rest}" if rest else head
