"""What a subject's name and code say about the score it logs, its task and its classes.

Names are read as words (``StreamingMacroF1`` -> ``streaming macro f1``, ``fbeta_m`` -> ``fbeta m``); code is
read for the arguments that fix the reference (``num_classes=``, ``average=``, ``threshold=``, ``beta=``) and
for an ``argmax`` (one class per sample: multiclass).  Every guess is a :class:`Hints` the table prints with
where it came from, for the user to check.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field, replace

# Keras's (and tf-keras's, tensorflow-addons') metric classes that log a score f1check checks.
BUILTIN_SCORES = {"F1Score": "f1", "FBetaScore": "fbeta", "Precision": "precision", "Recall": "recall"}
CLASS_ARGUMENTS = ("num_classes", "classes", "n_classes", "nb_classes", "number_of_classes")
THRESHOLD_ARGUMENTS = ("threshold", "thresholds")
SCORE_WORDS = {"f1": "F1", "fbeta": "F-beta", "precision": "precision", "recall": "recall", "mcc": "MCC"}
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_F_NUMBER = re.compile(r"^f(\d+(?:p\d+)?)$")
_DOC_F_NUMBER = re.compile(r"\bF-?(\d+(?:\.\d+)?)\b")
_DOC_BETA = re.compile(r"\bbeta\s*=\s*(\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Hints:
    """The settings a target's code suggests; None where it says nothing."""

    score: str | None = None
    beta: float | None = None
    task: str | None = None
    classes: int | None = None
    average: str | None = None
    threshold: float | None = None
    why: tuple[str, ...] = field(default=())  # where the task, classes or average came from
    threshold_from: str | None = None  # where the threshold came from

    def merged(self, other: Hints) -> Hints:
        """These hints, with ``other``'s where these say nothing."""
        taken = {k: getattr(self, k) if getattr(self, k) is not None else getattr(other, k)
                 for k in ("score", "beta", "task", "classes", "average", "threshold", "threshold_from")}
        return Hints(**taken, why=self.why + tuple(w for w in other.why if w not in self.why))

    def settings(self) -> dict:
        """The target keys these hints set, as valid values: a key at its default is left out."""
        task = self.task or ("multiclass" if self.average in ("macro", "micro", "weighted") or
                             (self.classes or 0) > 1 else None)
        found = {}
        if self.score == "fbeta" and self.beta == 1:  # FBetaScore(beta=1.0) is F1
            return replace(self, score="f1", beta=None).settings()
        if self.score and self.score != "f1":
            found["score"] = self.score
            if self.score == "fbeta" and self.beta is not None:
                found["beta"] = self.beta
        if task and task != "binary":
            found["task"] = task
            if self.classes and self.classes >= 2:
                found["classes"] = self.classes
            if self.average in ("micro", "weighted"):
                found["average"] = self.average
        if self.threshold is not None and self.threshold != 0.5 and 0 <= self.threshold <= 1:
            found["threshold"] = self.threshold
        return found


def words(name: str) -> list[str]:
    """``StreamingMacroF1`` -> ``["streaming", "macro", "f1"]``, ``val_f1`` -> ``["val", "f1"]``."""
    return _WORD.findall(_CAMEL.sub("_", name).lower())


def score_of(name: str) -> tuple[str | None, float | None]:
    """The score a name says (``f1``, ``fbeta``, ``precision``, ``recall``, ``mcc``) and F-beta's beta if it says
    one (``f2``: 2); (None, None) when it says none, or precision and recall both without an F."""
    found = set()
    beta = None
    for word in words(name):
        number = _F_NUMBER.match(word)
        if word in ("f1", "f1score", "fmeasure", "fscore") or (word.endswith("f1") and word[:-2].isalpha()):
            found.add("f1")
        elif word.startswith("fbeta"):
            found.add("fbeta")
        elif number:
            beta = _beta_digits(number.group(1))
            found.add("f1" if beta == 1 else "fbeta")
        elif word in ("mcc", "matthews"):
            found.add("mcc")
        elif word.startswith("precision") or word == "ppv":
            found.add("precision")
        elif word.startswith("recall") or word in ("sensitivity", "tpr"):
            found.add("recall")
    for score in ("f1", "fbeta", "mcc"):
        if score in found:
            return score, (beta if score == "fbeta" else None)
    if len(found) == 1:
        return found.pop(), None
    return None, None


# Words of a name that say it logs something else than a score f1check checks.
OTHER_QUANTITIES = frozenset({"accuracy", "acc", "loss", "auc", "mse", "mae", "rmse", "mape", "error", "iou", "jaccard",
                              "crossentropy", "entropy", "hinge", "kl", "divergence", "r2", "correlation", "distance"})


def other_quantity(name: str) -> bool:
    """Whether a name says it logs accuracy, a loss, AUC or another quantity f1check does not check."""
    return bool(OTHER_QUANTITIES & set(words(name)))


def _beta_digits(text: str) -> float:
    """``2`` -> 2.0, ``05`` -> 0.5, ``0p5`` -> 0.5 (as names write F-beta's beta)."""
    if "p" in text:
        return float(text.replace("p", "."))
    return float(f"0.{text[1:]}") if text.startswith("0") and len(text) > 1 else float(text)


def name_hints(name: str) -> Hints:
    """What the words of a name say about the task and the average."""
    said = set(words(name))
    joined = "_".join(words(name))
    average = next((a for a in ("macro", "micro") if a in said or f"{a}f1" in joined.replace("_", "")), None)
    if "weighted" in said and {"avg", "average"} & said:  # WeightedF1 alone is sample-weighted as often
        average = "weighted"
    task = "multilabel" if {"multilabel", "multi"} & said and "label" in joined else None
    task = task or ("multiclass" if {"multiclass", "categorical", "softmax"} & said else None)
    why = (f"its name ({average or task})",) if average or task else ()
    return Hints(task=task, average=average, why=why)


def doc_hints(doc: str | None, where: str) -> Hints:
    """What a docstring says of the task and the class count: ``multilabel``, ``softmax``, ``one-hot``, ``3-class``."""
    text = (doc or "").lower()
    task = "multilabel" if re.search(r"multi-?label", text) else None
    task = task or ("multiclass" if re.search(r"multi-?class|softmax|one-hot|one class per sample", text) else None)
    count = re.search(r"\b(\d+)[- ]class(es)?\b", text)
    classes = int(count.group(1)) if count and int(count.group(1)) >= 2 else None
    if task is None and classes is None:
        return Hints()
    said = " and ".join(filter(None, [task, f"{classes} classes" if classes else None]))
    return Hints(task=task or "multiclass", classes=classes, why=(f"the docstring says {said} ({where})",))


def beta_of_text(text: str | None) -> float | None:
    """F-beta's beta as a docstring says it: ``Per-batch F2.`` or ``beta=2``."""
    if not text:
        return None
    for pattern in (_DOC_BETA, _DOC_F_NUMBER):
        found = pattern.search(text)
        if found and float(found.group(1)) not in (0.0, 1.0):
            return float(found.group(1))
    return None


def beta_of_formula(node: ast.AST) -> float | None:
    """beta from ``(1 + b²) · p · r / (b² · p + r)`` written with numbers (``5 * p * r / (4 * p + r)``: 2)."""
    for division in (n for n in ast.walk(node) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)):
        above, below = _numbers(division.left), _numbers(division.right)
        for b2 in below:
            if b2 > 0 and b2 + 1 in above and b2 != 1:
                return round(math.sqrt(b2), 6)
    return None


def _numbers(node: ast.AST) -> set[float]:
    return {float(n.value) for n in ast.walk(node) if isinstance(n, ast.Constant) and type(n.value) in (int, float)}


def call_hints(call: ast.Call, where: str) -> Hints:
    """What the literal keyword arguments of a constructor call fix: ``num_classes=3``, ``average="macro"``,
    ``threshold=0.3`` (``None``: argmax, one class per sample), ``beta=2.0``."""
    found, why = {}, []
    for keyword in call.keywords:
        value = literal(keyword.value)
        if keyword.arg in CLASS_ARGUMENTS and type(value) is int:
            found["classes"] = value
            why.append(f"{keyword.arg}={value} at {where}")
        elif keyword.arg == "average" and value in ("macro", "micro", "weighted"):
            found["average"] = value
            why.append(f"average={value!r} at {where}")
        elif keyword.arg in THRESHOLD_ARGUMENTS and isinstance(keyword.value, ast.Constant):
            if value is None:
                found["task"] = "multiclass"
                why.append(f"{keyword.arg}=None (argmax) at {where}")
            elif type(value) in (int, float):
                found["threshold"] = float(value)
                found["threshold_from"] = f"{keyword.arg}={value} at {where}"
        elif keyword.arg == "beta" and type(value) in (int, float):
            found["beta"] = float(value)
    return Hints(**found, why=tuple(why))


def defaults_hints(function: ast.FunctionDef, where: str) -> Hints:
    """What a constructor's literal defaults fix (``def __init__(self, classes=3, threshold=0.3)``)."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    pairs = list(zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults))
    pairs += [(a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None]
    call = ast.Call(func=ast.Name("_"), args=[], keywords=[ast.keyword(a.arg, d) for a, d in pairs])
    return call_hints(call, where)


def code_hints(node: ast.AST, where: str) -> Hints:
    """An ``argmax`` in the code: the predicted class is one per sample (multiclass)."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            name = inner.func.attr if isinstance(inner.func, ast.Attribute) else getattr(inner.func, "id", "")
            if name == "argmax":
                return Hints(task="multiclass", why=(f"argmax at {where.rsplit(':', 1)[0]}:{inner.lineno}",))
    return Hints()


def literal(node: ast.AST) -> object:
    """The value of a literal expression, or a marker object where it is not one."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


_NOT_LITERAL = object()


def with_task(hints: Hints, task: str | None, classes: int | None, why: str) -> Hints:
    """``hints`` with a task and class count found elsewhere (the model's last layer) where they say none."""
    if task is None:
        return hints
    return replace(hints.merged(Hints(task=task, classes=classes)), why=(*hints.why, why))
