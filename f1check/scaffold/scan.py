"""One scan of a repository: the index, the compile calls, what each factory builds, and the findings so far;
with the rules every kind of target shares (a name that can be a target, the checks its comment lists)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .compiles import Use
from .guesses import Hints
from .index import Class, Function, Index, framework_class
from .records import Findings, Target
from .sources import Module, qualify

# Calls that, at a module's top level, mean importing it trains or predicts.
SIDE_EFFECTS = ("fit", "fit_generator", "train_on_batch", "evaluate", "predict")


@dataclass
class Product:
    """What a factory returns: a repository class or a Keras one (by name), and the call that builds it."""

    kind: str
    call: ast.Call
    cls: Class | None = None
    builtin: str | None = None
    deferred: bool = False  # returns a factory (``return lambda: StreamingF1(...)``), not the metric

    @property
    def name(self) -> str:
        return self.cls.name if self.cls is not None else f"keras.{self.kind}s.{self.builtin}"


@dataclass
class Scan:
    """What one scan knows: the index, the compile calls, what each factory builds, the findings so far."""

    index: Index
    uses: dict[str, Use]
    findings: Findings
    products: dict[str, Product] = field(default_factory=dict)  # factory spec -> what it builds
    companions: dict[str, str] = field(default_factory=dict)  # count metric spec -> the callback reading it

    def order(self, module: Module, line: int) -> tuple:
        return (list(self.index.repository.modules).index(module.name), line)

    def use(self, spec: str) -> Use | None:
        return self.uses.get(spec.replace(":", "."))


def built_by(index: Index, function: Function) -> Product | None:
    """The Keras metric or callback a function returns a new instance of (``return StreamingF1(...)``, or a name
    assigned one), classes defined inside the function included."""
    local = {n.name: c for c in index.classes.values() if c.local and c.module is function.module
             for n in [c.node] if _inside(function.node, c.node)}
    assigned = {t.id: n.value for n in _own_nodes(function.node) if isinstance(n, ast.Assign)
                and isinstance(n.value, ast.Call) for t in n.targets if isinstance(t, ast.Name)}
    for node in _own_nodes(function.node):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value = node.value
        deferred = isinstance(value, ast.Lambda) and not value.args.args
        call = assigned.get(value.id) if isinstance(value, ast.Name) else value.body if deferred else value
        if isinstance(call, ast.Call):
            found = product_of(index, function.module, call, local)
            if found is not None:
                found.deferred = deferred
                return found
    return None


def product_of(index: Index, module: Module, call: ast.Call, local: dict | None = None) -> Product | None:
    """The Keras metric or callback ``call`` builds: of a class of the repository (or ``local`` to a function), or
    of Keras."""
    if isinstance(call.func, ast.Name) and call.func.id in (local or {}) and local[call.func.id].kind:
        return Product(local[call.func.id].kind, call, cls=local[call.func.id])
    cls = index.class_of(module, call.func)
    if cls is not None and cls.kind is not None:
        return Product(cls.kind, call, cls=cls)
    builtin = framework_class(index.resolve(qualify(module, call.func)))
    if builtin is not None:
        return Product(builtin[0], call, builtin=builtin[1])
    return None


def _inside(outer: ast.AST, inner: ast.AST) -> bool:
    return outer.lineno <= inner.lineno <= (outer.end_lineno or outer.lineno)


def _own_nodes(function: ast.AST):
    """The nodes of a function's body, not those of functions or classes nested in it."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


# -- shared ----------------------------------------------------------------------------------------------------


def public(scan: Scan, spec: str, module: Module, line: int) -> bool:
    """Whether a candidate can be a target by its name: not private, in a module that imports by its name."""
    attr = spec.split(":")[1]
    if attr.startswith("_"):
        scan.findings.note(spec, "private (a leading underscore): a helper, not a target", scan.order(module, line))
        return False
    if not module.importable:
        scan.findings.note(spec, f"{module.shown} is not importable by that name (rename the file to a Python "
                           "identifier)", scan.order(module, line))
        return False
    return True


def add(scan: Scan, target: Target, hints: Hints) -> None:
    if target.settings.get("score") == "fbeta" and "beta" not in target.settings:
        scan.findings.note(target.spec, "its name says F-beta, but no beta was found in the code: list it with "
                           "score = \"fbeta\" and beta = <its beta>", target.order)
        return
    if not scan.findings.listed(target.spec):
        scan.findings.targets.append(target)


def checks_of(module: Module, settings: dict, hints: Hints) -> list[str]:
    """What the user should check in a target's settings, and why it has them."""
    task = settings.get("task", "binary")
    threshold = f"threshold {settings.get('threshold', 0.5)} ({hints.threshold_from or 'none other found'})"
    checks = []
    if hints.why:
        checks.append(f"{task} from {'; '.join(hints.why)}" + (f"; {threshold}" if task == "multilabel" else ""))
    elif task == "binary":
        checks.append(f"binary data (0/1 labels, one column; no argmax, class count or softmax layer found), "
                      f"{threshold}")
    if task != "binary" and "classes" not in settings:
        checks.append("the class count is not in the code: f1check draws 3 classes; set classes = <your model's>")
    effect = side_effect(module)
    if effect is not None:
        checks.append(f"importing {module.name} runs {effect}: f1check imports the module, so move the metric out "
                      "of it or put that code under if __name__ == \"__main__\":")
    return checks


def side_effect(module: Module) -> str | None:
    """``model.fit at line N`` when the module's top level (outside ``if __name__ == "__main__":``) trains or
    predicts."""
    for statement in module.tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                                  ast.ImportFrom)) or _main_guard(statement):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SIDE_EFFECTS:
                return f"{ast.unparse(node.func)} at line {node.lineno}"
    return None


def _main_guard(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.If) and "__name__" in ast.unparse(statement.test)
