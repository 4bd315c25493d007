"""What a callback does with ``logs``: the keys it writes (its score) and the keys it reads (its count metrics).

A callback reports by writing ``logs[key]`` in ``on_epoch_end`` (``logs["val_f1"] = ...``,
``logs.update({"val_f1": ...})``, ``logs[KEY] = ...`` with ``KEY`` a string constant of the module or an attribute
set from one).  The keys it reads are the logs of metrics compiled beside it: ``logs["tp"]`` is the epoch mean of
the metric named ``tp``, ``logs["val_tp"]`` the same over the validation pass.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .guesses import Hints, call_hints, defaults_hints, doc_hints, name_hints, score_of, words
from .index import CALLBACK, METRIC, Class, Function, Index, metric_shaped, required
from .records import Target
from .scan import Scan, add, checks_of, public

LOGS = "logs"
# Keys every loop logs: reading them says nothing about the metrics a callback needs.
ALWAYS_LOGGED = frozenset({"loss", "val_loss", "lr", "learning_rate"})
VALIDATION = "val_"


@dataclass
class LogsUse:
    """The keys a callback writes and reads (in the order the code has them), and the writes f1check cannot read."""

    writes: dict[str, int] = field(default_factory=dict)  # key -> line
    reads: list[str] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)  # lines of logs[<not a literal>] = ...

    @property
    def counts(self) -> list[str]:
        """The keys read that are some metric's logs (neither written here nor logged by every loop)."""
        return [k for k in self.reads if k not in self.writes and k not in ALWAYS_LOGGED]

    @property
    def validates(self) -> bool:
        """Every count it reads is a validation log (``val_<name>``): fit with validation_data logs them."""
        counts = self.counts
        return bool(counts) and all(k.startswith(VALIDATION) for k in counts)


def logs_use(index: Index, cls: Class, call: ast.Call | None = None) -> LogsUse:
    """The logs keys the class (and its repository bases) writes and reads; built by ``call`` (a factory's
    ``PredictF1(x, y, key="val_macro_f1")``), its arguments in place of the constructor's defaults."""
    use = LogsUse()
    built = next((owner for owner in index.lineage(cls) if owner.method("__init__")), None)  # whose __init__ runs
    for owner in index.lineage(cls):
        constants = _string_constants(owner, call if owner is built else None)
        for node in ast.walk(owner.node):
            _record(node, use, constants)
    return use


def _record(node: ast.AST, use: LogsUse, constants: dict[str, str]) -> None:
    if isinstance(node, ast.Subscript) and _is_logs(node.value):
        key = _key(node.slice, constants)
        if isinstance(node.ctx, ast.Store):
            if key is None:
                use.unknown.append(node.lineno)
            else:
                use.writes.setdefault(key, node.lineno)
        elif key is not None and key not in use.reads:
            use.reads.append(key)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_logs(node.func.value):
        if node.func.attr == "update":
            _updates(node, use, constants)
        elif node.func.attr in ("get", "pop") and node.args:
            key = _key(node.args[0], constants)
            if key is not None and key not in use.reads:
                use.reads.append(key)


def _updates(call: ast.Call, use: LogsUse, constants: dict[str, str]) -> None:
    """``logs.update({"val_f1": ...})`` and ``logs.update(val_f1=...)``."""
    for argument in call.args:
        if isinstance(argument, ast.Dict):
            for key_node in argument.keys:
                key = _key(key_node, constants) if key_node is not None else None
                if key is None:
                    use.unknown.append(call.lineno)
                else:
                    use.writes.setdefault(key, call.lineno)
        else:
            use.unknown.append(call.lineno)
    for keyword in call.keywords:
        if keyword.arg is None:
            use.unknown.append(call.lineno)
        else:
            use.writes.setdefault(keyword.arg, call.lineno)


def _is_logs(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == LOGS


def _key(node: ast.AST, constants: dict[str, str]) -> str | None:
    """A literal key, a module constant's or an attribute's set from a literal (``self.key``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return constants.get(f"self.{node.attr}")
    return None


def _string_constants(cls: Class, call: ast.Call | None = None) -> dict[str, str]:
    """The module's top-level string constants, and the attributes ``__init__`` sets to a string (a literal, or a
    parameter's literal default, or the literal ``call`` passes for it)."""
    found = {}
    for node in cls.module.tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    init = cls.method("__init__")
    if init is None:
        return found
    defaults = arguments_of(init, call)
    for target, value in _assignments(init):
        value = defaults.get(value.id) if isinstance(value, ast.Name) else value
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and isinstance(target, ast.Attribute) \
                and isinstance(target.value, ast.Name) and target.value.id == "self":
            found[f"self.{target.attr}"] = value.value
    return found


def arguments_of(init: ast.FunctionDef, call: ast.Call | None = None, method: bool = True) -> dict[str, ast.AST]:
    """Each parameter of a constructor (a function, not ``method``) and its value: the default, or what ``call``
    passes (by position or name)."""
    arguments = [*init.args.posonlyargs, *init.args.args]
    values = dict(zip([a.arg for a in arguments[len(arguments) - len(init.args.defaults):]], init.args.defaults))
    values.update({a.arg: d for a, d in zip(init.args.kwonlyargs, init.args.kw_defaults) if d is not None})
    if call is not None:
        values.update({a.arg: v for a, v in zip(arguments[1 if method else 0:], call.args)
                       if not isinstance(v, ast.Starred)})
        values.update({k.arg: k.value for k in call.keywords if k.arg})
    return values


def _assignments(function: ast.AST):
    """(target, value) of each assignment, tuples unpacked pairwise (``self.x, self.key = x, key``)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) and \
                        len(target.elts) == len(node.value.elts):
                    yield from zip(target.elts, node.value.elts)
                else:
                    yield target, node.value


# -- callbacks as targets ------------------------------------------------------------------------------------


def score_key(use: LogsUse) -> str | None:
    """The key a callback writes its score to: the first written key whose name says F1, else another score."""
    scored = [(score_of(k)[0], k) for k in use.writes]
    for wanted in ("f1", "fbeta", "mcc", "precision", "recall"):
        found = next((k for s, k in scored if s == wanted), None)
        if found is not None:
            return found
    return None


def buildable(names: list[str] | None) -> bool:
    """Whether f1check can build a callback (class or factory) taking these required parameters: (), or
    (model, x, y[, sample_weight])."""
    return names is not None and (not names or (len(names) in (3, 4) and "model" in names[0].lower()))


def companions(scan: Scan, cls: Class, use: LogsUse) -> tuple[list[str], list[str]]:
    """The specs of the metrics whose logs the callback reads, and the keys no metric of the repository logs."""
    found, missing = [], []
    for key in use.counts:
        spec = logged_as(scan, cls.module.name, key)
        if spec is None and key.startswith(VALIDATION):
            spec = logged_as(scan, cls.module.name, key.removeprefix(VALIDATION))
        if spec is None:
            missing.append(key)
        elif spec not in found:
            found.append(spec)
    return found, missing


def logged_as(scan: Scan, near: str, name: str) -> str | None:
    """The repository's metric logged under ``name``: a metric function of that name, a metric class named so
    (``name="tp"`` in its constructor, or Keras's snake_case of the class name), or a factory of that name or whose
    metric is built with ``name="tp"``; the one nearest the module ``near`` when several are."""
    index = scan.index
    found = [f.spec for f in index.functions.values() if f.name == name and metric_shaped(required(f.node))]
    found += [c.spec for c in index.classes.values() if c.kind == METRIC and not c.local and name in _names_of(c)]
    for spec, product in scan.products.items():
        named = [k.value.value for k in product.call.keywords if k.arg == "name" and isinstance(k.value, ast.Constant)]
        if product.kind == METRIC and (spec.endswith(f":{name}") or name in named):
            found.append(spec)
    if len(found) > 1:  # the nearest: the longest module path shared with the callback's
        shared = {s: _shared(s.split(":")[0], near) for s in found}
        found = [s for s in found if shared[s] == max(shared.values())]
    return found[0] if len(found) == 1 else None


def _shared(module: str, near: str) -> int:
    """How many leading parts of two dotted module names agree."""
    count = 0
    for a, b in zip(module.split("."), near.split(".")):
        if a != b:
            break
        count += 1
    return count


def _names_of(cls: Class) -> set[str]:
    names = {"_".join(words(cls.name))}
    for node in ast.walk(cls.node):
        if isinstance(node, ast.keyword) and node.arg == "name" and isinstance(node.value, ast.Constant):
            names.add(str(node.value.value))
    init = cls.method("__init__")
    if init is not None:
        arguments = [*init.args.posonlyargs, *init.args.args]
        for argument, default in zip(arguments[len(arguments) - len(init.args.defaults):], init.args.defaults):
            if argument.arg == "name" and isinstance(default, ast.Constant):
                names.add(str(default.value))
    return names


# -- callbacks -------------------------------------------------------------------------------------------------


def callback_targets(scan: Scan) -> None:
    """List each callback that writes a score key, or its factories; note the ones f1check cannot build."""
    index = scan.index
    for cls in (c for c in index.classes.values() if c.kind == CALLBACK):
        use = logs_use(index, cls)
        key = score_key(use)
        if key is None:
            if use.unknown and score_of(cls.name)[0]:
                scan.findings.note(cls.spec, "writes logs[...] with a key f1check cannot read (line "
                                   f"{use.unknown[0]}): "
                                   "list it by hand with key = \"<the key>\"", scan.order(cls.module, cls.node.lineno))
            continue
        metrics, missing = companions(scan, cls, use)
        factories = [f for f, p in scan.products.items() if p.cls is cls]
        if missing:
            for spec in (cls.spec, *factories):
                scan.findings.note(spec, f"reads logs[{missing[0]!r}], which no metric of the repository logs under "
                                   "that name: list it by hand with metrics = [\"module:the metric that logs it\"]",
                                   scan.order(cls.module, cls.node.lineno))
            continue
        for spec in metrics:
            scan.companions.setdefault(spec, cls.spec)
        init = index.inherited(cls, "__init__")
        names = [] if init is None else required(init, method=True)
        if not cls.local and public(scan, cls.spec, cls.module, cls.node.lineno):
            if buildable(names):
                _add_callback(scan, cls.spec, cls, cls, use, key, metrics,
                              f"a keras Callback subclass that writes logs[{key!r}] (line {use.writes[key]})")
            elif not factories:
                scan.findings.note(cls.spec, f"its constructor needs ({', '.join(names or ['keyword-only'])}), and "
                                   "f1check builds a callback with () or (model, x, y): list a factory, e.g. def "
                                   f"make(model, x, y): return {cls.name}(x, y)",
                                   scan.order(cls.module, cls.node.lineno))
        for spec in factories:
            _callback_factory(scan, index.functions[spec.replace(":", ".")], cls, key, metrics)


def _callback_factory(scan: Scan, function: Function, cls: Class, key: str, metrics: list) -> None:
    names = required(function.node)
    if not public(scan, function.spec, function.module, function.node.lineno):
        return
    if not buildable(names):
        scan.findings.note(function.spec, f"builds {cls.name} but takes ({', '.join(names or ['keyword-only'])}); "
                           "f1check calls a callback factory with () or (model, x, y)",
                           scan.order(function.module, function.node.lineno))
        return
    call = scan.products[function.spec].call
    use = logs_use(scan.index, cls, call)
    key = score_key(use) or key
    where = f"{function.module.shown}:{call.lineno}"
    _add_callback(scan, function.spec, cls, function, use, key, metrics,
                  f"a factory of {cls.name} ({cls.where}), which writes logs[{key!r}]", call_hints(call, where))


def _add_callback(scan: Scan, spec: str, cls: Class, source: Class | Function, use: LogsUse, key: str,
                  metrics: list, found: str, given: Hints | None = None) -> None:
    """A callback target: the score its key says, the average its sklearn call or its arguments say."""
    score, beta = score_of(key)
    init = scan.index.inherited(cls, "__init__")
    hints = Hints(score=score, beta=beta).merged(given or Hints()).merged(name_hints(cls.name))
    hints = hints.merged(_sklearn_hints(cls)).merged(doc_hints(cls.doc, cls.where))
    if init is not None:
        hints = hints.merged(defaults_hints(init, cls.where))
    hints = Hints(score=hints.score, beta=hints.beta, average=hints.average, why=hints.why)  # no threshold, no argmax
    settings = hints.settings()
    checks = []
    if metrics:
        counts = ", ".join(f"logs[{k!r}]" for k in use.counts)
        checks.append(f"it reads {counts}: the metrics listed must be the ones the training code compiles")
    else:
        checks.append("it scores the data it is given itself (no count metrics read): judged against all samples")
    if use.validates:
        settings["modes"] = ["validation"]
        checks.append("modes = [\"validation\"]: it reads val_ logs, which only fit(validation_data=...) writes")
    module, line = source.module, source.node.lineno
    add(scan, Target(spec, True, f"{module.shown}:{line}", found, key=key, metrics=metrics, settings=settings,
                     checks=checks + checks_of(module, settings, hints), order=scan.order(module, line)), hints)


def _sklearn_hints(cls: Class) -> Hints:
    """``f1_score(..., average="macro")`` inside a callback: the average (and so a task) it scores with."""
    hints = Hints()
    for node in ast.walk(cls.node):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name.endswith("_score") or name == "matthews_corrcoef":
                hints = hints.merged(call_hints(node, f"{cls.module.shown}:{node.lineno}"))
    return Hints(average=hints.average, why=hints.why) if hints.average else Hints()
