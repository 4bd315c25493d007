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


# The stages in the order they import each other: each imports only from the stages before it (and from itself).
# A subpackage is one stage; a module directly under f1check/ is a stage of its own. Keep docs/ARCHITECTURE.md's
# tree in this order.
STAGES = [
    "f1check._version",
    "f1check.core",        # the words and rules every stage uses: errors, modes, feeds, weights, settings, ...
    "f1check.reasons",     # the reasons' vocabulary (documented import path)
    "f1check.data",        # data sets (documented import path)
    "f1check.strategies",  # hypothesis strategies (documented import path)
    "f1check.examples",    # example subjects (documented import path)
    "f1check.subjects",    # what a subject is, its target, its carried state, one check's context
    "f1check.loops",       # the loop's settings, the real loops (drivers), replay, models
    "f1check.judging",     # sklearn's reference, results, readings, explanations
    "f1check.search",      # one check: fixed examples, hypothesis, confirmation, diagnosis
    "f1check.reporting",   # text, summary, picture, reproduction snippet
    "f1check.api",         # check() and assert_f1()
    "f1check.plugin",      # pytest: hooks, items, options, config, fixtures, run state, file reports
    "f1check.scaffold",    # python -m f1check init: a [tool.f1check] table from a repository's source (never imported)
    "f1check.__main__",    # python -m f1check
]


def stage_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_the_stages_point_one_way():
    edges, _, _ = graph()
    order = {stage: i for i, stage in enumerate(STAGES)}
    assert {stage_of(m) for m in MODULES if m != "f1check"} == set(STAGES)  # every stage placed, none invented
    backwards = sorted(f"{module} -> {target}" for module, targets in edges.items() if module != "f1check"
                       for target in targets if target != "f1check" and order[stage_of(target)] > order[stage_of(module)])
    assert backwards == []


def test_the_tree_shows_the_pipeline():
    top = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py", "_version.py")]
    assert len(top) <= 10, top
    for package in (p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        assert len(list(package.rglob("*.py"))) <= 15, package.name


def test_the_core_knows_nothing_of_pytest():
    edges, _, _ = graph()
    plugin_side = {m for m in MODULES if stage_of(m) == "f1check.plugin"}
    for module, imported in edges.items():
        if module not in plugin_side | {"f1check", "f1check.__main__"}:
            assert not imported & plugin_side, module


MODE_NAMES = {"evaluate", "fit", "fit-dropped", "validation", "validation-dropped"}
SUBJECT_KINDS = {"MetricSubject", "CallbackSubject"}


def _strings(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for element in node.elts for s in _strings(element)]
    return []


def test_modes_and_subject_kinds_are_asked_not_compared():
    # a mode is a value that answers trains/validates/drops_remainder (f1check.core.modes), and a subject answers
    # metrics/direct/scores_itself (f1check.subjects): no other module compares a mode's name or tests a kind
    compared, kinds = [], []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and name != "f1check.core.modes":
                if MODE_NAMES & {s for part in [node.left, *node.comparators] for s in _strings(part)}:
                    compared.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ("startswith", "endswith") and name != "f1check.core.modes":
                if {"-dropped", "validation", "fit"} & {s for a in node.args for s in _strings(a)}:
                    compared.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" \
                    and name != "f1check.subjects":
                named = {n.id if isinstance(n, ast.Name) else getattr(n, "attr", "") for n in ast.walk(node.args[1])}
                if named & SUBJECT_KINDS:
                    kinds.append(f"{name}:{node.lineno}")
    assert compared == []
    assert kinds == []


def test_value_types_sit_below_the_printer():
    edges, _, _ = graph()
    for values in ("f1check.judging.results", "f1check.core.modes", "f1check.core.feeds", "f1check.loops",
                   "f1check.core.settings", "f1check.core.partitions", "f1check.core.verdict"):
        assert "f1check.reporting.report" not in edges[values], values
    assert edges["f1check.core.modes"] == set()  # the ground floor


WEIGHT_KINDS = {"none", "sample", "class"}


def test_weight_kinds_are_asked_not_compared():
    # a weight kind is a WeightsKind that answers given/per_sample/by_class/carried_by (f1check.core.weights): no
    # other module compares its spelling (the settings' validators check the spellings the user wrote, before they
    # become kinds)
    compared = []
    for name, path in MODULES.items():
        if name in ("f1check.core.weights", "f1check.core.settings", "f1check.core.validators"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and \
                    WEIGHT_KINDS & {s for part in [node.left, *node.comparators] for s in _strings(part)}:
                compared.append(f"{name}:{node.lineno}")
    assert compared == []


def test_each_setting_is_declared_once():
    # f1check.core.settings.SETTINGS declares every key (name, default, rule, scope, ini type, flag, doc); the key
    # lists of config, options, the marker and check() are derived from it. A list of five or more key names
    # written out anywhere else is a second declaration that will drift (tests/test_settings_table.py holds each
    # place to the table).
    from f1check.core.settings import SETTINGS

    keys = {setting.name for setting in SETTINGS}
    written = []
    for name, path in MODULES.items():
        if name == "f1check.core.settings":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                named = _strings(node)
                if len(named) >= 5 and len(named) == len(node.elts) and set(named) <= keys:
                    written.append(f"{name}:{node.lineno}")
    assert written == []
