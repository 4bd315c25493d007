"""The package's shape: imports point one way (no cycles, no own-module imports hidden in functions), small functions.

Lazy imports of frameworks (Keras, TensorFlow, numpy, sklearn, hypothesis) inside functions are deliberate:
plain pytest must not pay for them.  An import of one of f1check's own modules inside a function is a cycle
being dodged, and is refused here.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "f1check"
MODULES = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
           for p in PACKAGE.rglob("*.py")}


def own_imports(name: str, node) -> set[str]:
    """The f1check modules an import statement in module ``name`` names."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in MODULES}
    if not node.level:
        base = node.module or ""
    else:
        package = name.split(".") if MODULES[name].name == "__init__.py" else name.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join(package + ([node.module] if node.module else []))
    found = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES}
    return found | ({base} if base in MODULES and len(found) < len(node.names) else set())


def graph() -> tuple[dict[str, set[str]], list[str], list[str]]:
    edges, late, long = {}, [], []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        edges[name] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges[name] |= own_imports(name, node) - {name}
            if isinstance(node, ast.FunctionDef):
                if node.end_lineno - node.lineno + 1 > 60:
                    long.append(f"{name}.{node.name}")
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)) and own_imports(name, inner) - {name}:
                        late.append(f"{name}.{node.name}")
    return edges, late, long


def test_no_import_cycles():
    edges, _, _ = graph()
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for nxt in edges[node]:
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for module in edges:
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_own_module_imported_inside_a_function_and_no_long_functions():
    _, late, long = graph()
    assert late == []
    assert long == []


def test_the_pipeline_points_one_way():
    edges, _, _ = graph()
    # the core knows nothing of pytest's plugin modules, and the lower floors nothing of the upper ones
    for lower, upper in [("f1check.drivers.harness", "f1check.search"), ("f1check.reference", "f1check.runner"),
                         ("f1check.settings", "f1check.subjects"), ("f1check.api", "f1check.plugin"),
                         ("f1check.search", "f1check.report")]:
        assert upper not in edges[lower], (lower, upper)
    for module, imported in edges.items():
        if not module.startswith(("f1check.plugin", "f1check.items", "f1check.options", "f1check.progress")):
            assert not imported & {"f1check.plugin", "f1check.items", "f1check.options", "f1check.progress"}, module
