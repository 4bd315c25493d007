"""Finding the subjects in a repository's source: Keras metric classes, factories that build one, and metric functions
``fn(y_true, y_pred)`` (callbacks: :mod:`f1check.scaffold.callbacks`).

Each is a :class:`~f1check.scaffold.records.Target` with the settings its code suggests, or a
:class:`~f1check.scaffold.records.Note` saying why it is not listed.  Nothing is imported.
"""

from __future__ import annotations

import ast

from .callbacks import arguments_of, callback_targets
from .compiles import compile_uses
from .guesses import (
    BUILTIN_SCORES,
    SCORE_WORDS,
    Hints,
    beta_of_formula,
    beta_of_text,
    call_hints,
    code_hints,
    defaults_hints,
    doc_hints,
    name_hints,
    other_quantity,
    score_of,
)
from .index import METRIC, Class, Index, build, metric_shaped, required
from .records import Findings, Target
from .scan import Product, Scan, add, built_by, checks_of, product_of, public
from .sources import Module, Repository

__all__ = ["find"]


def find(repository: Repository) -> Findings:
    """Everything ``init`` lists or notes about ``repository``, in the source's order."""
    index = build(repository)
    uses, inline = compile_uses(index)
    scan = Scan(index, uses, Findings(files=len(repository.modules)))
    for function in index.functions.values():
        product = built_by(index, function)
        if product is not None:
            scan.products[function.spec] = product
    callback_targets(scan)
    _metric_classes(scan)
    _metric_factories(scan)
    _metric_functions(scan)
    _metric_instances(scan)
    for text, why in inline:
        scan.findings.note(text, why, (len(repository.modules), 0))
    scan.findings.targets.sort(key=lambda t: t.order)
    scan.findings.notes.sort(key=lambda n: n.order)
    return scan.findings


# -- metric classes and factories ------------------------------------------------------------------------------


def _metric_classes(scan: Scan) -> None:
    index = scan.index
    for cls in (c for c in index.classes.values() if c.kind == METRIC and not c.local):
        order = scan.order(cls.module, cls.node.lineno)
        if cls.spec in scan.companions:
            scan.findings.note(cls.spec, f"a count metric read by {scan.companions[cls.spec]} (in its metrics)", order)
            continue
        if not public(scan, cls.spec, cls.module, cls.node.lineno):
            continue
        has_result = cls.builtin_base != "Metric" or any(c.method("result") for c in index.lineage(cls))
        if cls.subclasses and (not has_result or cls.name.lower().startswith(("base", "abstract"))):
            scan.findings.note(cls.spec, f"a base class of {', '.join(cls.subclasses)}: its subclasses are the "
                               "candidates", order)
            continue
        if not has_result:
            scan.findings.note(cls.spec, "a Metric subclass without result(): not a metric Keras can log", order)
            continue
        hints, said = _class_score(cls)
        if hints.score is None:
            scan.findings.note(cls.spec, "a Metric whose name and docstring do not say which score it logs: list it "
                               "with score = \"f1\" (or precision, recall, fbeta, mcc) if it logs one", order)
            continue
        init = index.inherited(cls, "__init__")
        names = [] if init is None else required(init, method=True)
        if names != []:
            needs = ", ".join(names or ["keyword-only arguments"])
            factories = [spec for spec, p in scan.products.items() if p.cls is cls]
            scan.findings.note(cls.spec, f"its constructor needs ({needs}): listed through its factory "
                               f"{', '.join(factories)}" if factories else f"its constructor needs ({needs}): write "
                               f"a factory, e.g. def make(): return {cls.name}(...), and list that", order)
            continue
        hints = hints.merged(_class_hints(index, cls))
        extra = [WEIGHTS] if _weighs(index, cls) else []
        _add_metric(scan, cls.spec, cls.module, cls.node, f"a keras Metric subclass; {said}", hints, extra=extra)


WEIGHTS = ("its update_state uses sample_weight: if the training code passes weights (fit(sample_weight=...), "
           "class_weight), set weighted = true and weights = [\"sample\"]")


def _weighs(index: Index, cls: Class) -> bool:
    """Whether the class's update_state reads ``sample_weight`` (more than passing it on, or None, to its base)."""
    update = index.inherited(cls, "update_state")
    if update is None:
        return False
    for node in ast.walk(update):
        if isinstance(node, ast.Name) and node.id == "sample_weight" and isinstance(node.ctx, ast.Load):
            return not _passed_on(update)
    return False


def _passed_on(update: ast.FunctionDef) -> bool:
    """``super().update_state(y_true, y_pred, sample_weight)`` is the only use: the base decides."""
    uses = [n for n in ast.walk(update) if isinstance(n, ast.Name) and n.id == "sample_weight"
            and isinstance(n.ctx, ast.Load)]
    calls = [n for n in ast.walk(update) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr == "update_state"]
    return len(uses) == 1 and any(uses[0] in [*c.args, *(k.value for k in c.keywords)] for c in calls)


def _class_score(cls: Class) -> tuple[Hints, str]:
    """The score a metric class logs, and what says so: its name, its Keras base, or its docstring."""
    score, beta = score_of(cls.name)
    if score is not None:
        return Hints(score=score, beta=beta), f"its name says {SCORE_WORDS[score]}"
    if cls.builtin_base in BUILTIN_SCORES:
        score = BUILTIN_SCORES[cls.builtin_base]
        return Hints(score=score), f"it subclasses keras.metrics.{cls.builtin_base}"
    score, beta = score_of(cls.doc.split(".")[0]) if cls.doc else (None, None)
    if score is not None:
        return Hints(score=score, beta=beta), f"its docstring says {SCORE_WORDS[score]}"
    return Hints(), ""


def _class_hints(index: Index, cls: Class) -> Hints:
    """What a metric class's name, constructor defaults and code say about its task and threshold."""
    hints = name_hints(cls.name).merged(doc_hints(cls.doc, cls.where))
    init = index.inherited(cls, "__init__")
    if init is not None:
        hints = hints.merged(defaults_hints(init, cls.where))
    for owner in index.lineage(cls):
        hints = hints.merged(code_hints(owner.node, owner.where))
    return hints


def _metric_factories(scan: Scan) -> None:
    for spec, product in scan.products.items():
        function = scan.index.functions[spec.replace(":", ".")]
        order = scan.order(function.module, function.node.lineno)
        if product.kind != METRIC or spec in scan.companions or not public(scan, spec, function.module,
                                                                            function.node.lineno):
            continue
        names = required(function.node)
        if names != [] or product.deferred:
            shown = ", ".join(names or ["keyword-only arguments"]) if names != [] else ""
            scan.findings.note(spec, f"takes ({shown}) and returns a factory, not a metric: its calls at module level "
                               "are listed" if product.deferred else f"builds {product.name} but takes ({shown}): "
                               "f1check calls a metric factory with no arguments", order)
            continue
        hints = _product_hints(scan, function.module, function.name, product, product.call, function.doc)
        if hints.score is None:
            if score_of(function.name)[0] is not None or product.builtin is None:
                scan.findings.note(spec, f"returns {product.name}, which logs no score f1check checks", order)
            continue
        built = ast.unparse(product.call)
        found = f"a factory: returns {built if len(built) <= 70 else product.name + '(...)'}"
        _add_metric(scan, spec, function.module, function.node, found, hints, product)


def _product_hints(scan: Scan, module: Module, name: str, product: Product, call: ast.Call, doc: str = "") -> Hints:
    """What a factory's (or an instance's) ``name`` and the ``call`` that builds its metric say."""
    score, beta = score_of(name)
    hints = Hints(score=BUILTIN_SCORES.get(product.builtin or "")) if product.builtin else Hints()
    hints = hints.merged(Hints(score=score, beta=beta))
    if product.cls is not None:
        hints = hints.merged(_class_score(product.cls)[0])
    where = f"{module.shown}:{call.lineno}"
    hints = hints.merged(call_hints(call, where)).merged(name_hints(name)).merged(doc_hints(doc, where))
    return hints.merged(_class_hints(scan.index, product.cls)) if product.cls is not None else hints


def _metric_instances(scan: Scan) -> None:
    """``head_f1 = StreamingF1(name="head_f1")`` and ``f1_at_03 = f1_at(0.3)`` at a module's top level: instances
    (and factories) f1check can check by their name; ``F1 = StreamingF1`` is another name for a listed one."""
    index = scan.index
    for module in index.repository.modules.values():
        for node in module.tree.body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                continue
            name, value, spec = node.targets[0].id, node.value, f"{module.name}:{node.targets[0].id}"
            order = scan.order(module, node.lineno)
            alias = index.class_of(module, value) or index.function_of(module, value)
            if alias is not None and (getattr(alias, "kind", None) == METRIC or scan.findings.listed(alias.spec)):
                scan.findings.note(spec, f"another name for {alias.spec}", order)
            if not isinstance(value, ast.Call) or name.startswith("_"):
                continue
            product, call = _instance_product(scan, module, value)
            if product is None or product.kind != METRIC:
                continue
            hints = _product_hints(scan, module, name, product, call)
            if hints.score is not None:
                _add_metric(scan, spec, module, node, f"a module-level {product.name} built by {ast.unparse(value)}",
                            hints, product)


def _instance_product(scan: Scan, module: Module, value: ast.Call) -> tuple[Product | None, ast.Call]:
    """What a module-level call builds, and the call with the factory's parameters bound to its arguments."""
    factory = scan.index.function_of(module, value.func)
    product = scan.products.get(factory.spec) if factory is not None else None
    if product is None:
        return product_of(scan.index, module, value), value
    bound = arguments_of(factory.node, value, method=False)
    keywords = [ast.keyword(k.arg, bound.get(k.value.id, k.value) if isinstance(k.value, ast.Name) else k.value)
                for k in product.call.keywords]
    return product, ast.Call(func=product.call.func, args=product.call.args, keywords=keywords,
                             lineno=value.lineno)


# -- metric functions ------------------------------------------------------------------------------------------


def _metric_functions(scan: Scan) -> None:
    callers = _callers(scan)
    for function in scan.index.functions.values():
        spec, names = function.spec, required(function.node)
        if spec in scan.products:
            continue
        order = scan.order(function.module, function.node.lineno)
        score, beta = score_of(function.name)
        use = scan.use(spec)
        block = _building_block(scan, spec, callers) if use is None else None
        if block is not None:
            scan.findings.note(spec, f"a building block of {block} (called in it; compile() is given {block}, not "
                               "this)", order)
            continue
        if not metric_shaped(names):
            if score is not None and names == []:
                scan.findings.note(spec, "takes no arguments, and returns nothing init can tell is a Keras metric "
                                   "or callback: if it is a factory of one, list it by hand", order)
            elif score is not None:
                shown = "keyword-only arguments" if names is None else f"({', '.join(names)})"
                scan.findings.note(spec, f"takes {shown}, not (y_true, y_pred): not a metric function", order)
            continue
        if spec in scan.companions:
            scan.findings.note(spec, f"a count metric read by {scan.companions[spec]} (in its metrics)", order)
            continue
        if (score is not None or use is not None) and not public(scan, spec, function.module, function.node.lineno):
            continue
        said = f"its name says {SCORE_WORDS[score]}" if score else ""
        if score is None and use is not None:
            score, beta = score_of(function.doc.split(".")[0]) if function.doc else (None, None)
            said = f"its docstring says {SCORE_WORDS[score]}" if score else ""
            if score is None:
                scan.findings.note(spec, f"passed to compile() at {use.where}, but its name does not say which score "
                                   "it logs: list it with score = \"...\" if it logs one", order)
                continue
        if score is None:
            if not function.name.startswith("_") and not other_quantity(function.name):
                scan.findings.note(spec, "a function of (y_true, y_pred) whose name does not say which score it logs: "
                                   "if it logs F1, precision, recall, F-beta or MCC, list it with score = \"...\"",
                                   order)
            continue
        defaults = defaults_hints(function.node, function.where)  # def f(y_true, y_pred, beta=2, threshold=0.3)
        if score == "fbeta" and beta is None:
            beta = defaults.beta or beta_of_text(function.doc) or beta_of_formula(function.node)
        hints = Hints(score=score, beta=beta).merged(name_hints(function.name)).merged(defaults)
        hints = hints.merged(doc_hints(function.doc, function.where))
        hints = hints.merged(code_hints(function.node, function.where))
        used = f", passed to compile() at {use.where}" if use else ""
        _add_metric(scan, spec, function.module, function.node, f"a metric function (y_true, y_pred){used}; {said}",
                    hints)

def _callers(scan: Scan) -> dict[str, list[str]]:
    """function spec -> the repository's functions that call it."""
    found: dict[str, list[str]] = {}
    for caller in scan.index.functions.values():
        for node in ast.walk(caller.node):
            callee = scan.index.function_of(caller.module, node.func) if isinstance(node, ast.Call) else None
            if callee is not None and callee.spec != caller.spec:
                found.setdefault(callee.spec, []).append(caller.spec)
    return found


def _building_block(scan: Scan, spec: str, callers: dict[str, list[str]]) -> str | None:
    """The metric that ``spec`` is a part of, where the code shows which metrics the model compiles (a repo with
    ``compile(metrics=[f1_m])`` and ``def f1_m(...): p = precision_m(...)``): ``precision_m`` is a building block,
    not a metric the loop logs. Without compile calls nothing says so, and every scored function is listed."""
    if not scan.uses:
        return None
    return next((caller for caller in callers.get(spec, ()) if scan.use(caller) is not None), None)


def _add_metric(scan: Scan, spec: str, module: Module, node: ast.AST, found: str, hints: Hints,
                product: Product | None = None, extra: list[str] = ()) -> None:
    use = scan.use(spec)
    if use is not None:
        hints = hints.merged(use.hints)
    settings = hints.settings()
    checks = list(extra)
    if product is not None and product.builtin == "F1Score" and not any(
            k.arg == "threshold" for k in product.call.keywords) and "task" not in settings:
        checks.append("keras.metrics.F1Score without a threshold takes the argmax (one class per sample): with a "
                      "softmax head, set task = \"multiclass\" and classes")
    target = Target(spec, False, f"{module.shown}:{node.lineno}", found, settings=settings,
                    checks=checks + checks_of(module, settings, hints), order=scan.order(module, node.lineno))
    add(scan, target, hints)
