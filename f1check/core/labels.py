"""How labels reach the loop: the label form and dtype, a dimension of the example drawn like the feed.

Real repositories feed what their data gives: ``y = df["label"].values`` is ``(n,)`` int64, a model trained with
``sparse_categorical_crossentropy`` gets class indices.  Keras reshapes labels for metric *functions*, but a
``keras.metrics.Metric`` subclass gets them as fed.  A :class:`LabelForm` says what the loop is fed:

- binary: ``column`` ``(n, 1)`` (the data as f1check holds it) and ``flat`` ``(n,)``;
- multiclass: ``one-hot`` ``(n, C)`` (as held), ``sparse`` ``(n,)`` and ``sparse-column`` ``(n, 1)`` class indices
  (the model then trains with the sparse loss);
- multilabel: ``multi-hot`` ``(n, C)`` only.

Data is held, judged and recorded in its held form (``(n, 1)`` or ``(n, C)``, float32); only what the loop is fed
changes: :meth:`LabelForm.encode` makes it, :meth:`LabelForm.decode` reads back what a metric was fed.  The dtype is
drawn too (:data:`LABEL_DTYPES`: float32, int64 as numpy and pandas give, bool for 0/1 labels).  Pure Python at
import; numpy inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .values import Spelled

__all__ = ["LABEL_DTYPES", "LabelForm", "Refusals", "label_pairs"]

# The dtypes labels are fed in: float32 (Keras's floatx), int64 (numpy's and pandas' integers), bool (0/1 labels).
LABEL_DTYPES = ("float32", "int64", "bool")


class LabelForm(Spelled):
    """A shape the loop's labels come in; ``LabelForm("flat")`` from its name.

    Attributes:
        task: the task whose data it is a form of.
        held: it is the form f1check holds the data in (``(n, 1)`` binary, ``(n, C)`` otherwise).
        sparse: it gives class indices (the model compiles with ``sparse_categorical_crossentropy``).
        shape: how messages write its shape.
    """

    COLUMN = "column"
    FLAT = "flat"
    ONE_HOT = "one-hot"
    SPARSE = "sparse"
    SPARSE_COLUMN = "sparse-column"
    MULTI_HOT = "multi-hot"

    @classmethod
    def for_task(cls, task: str) -> tuple[LabelForm, ...]:
        """The forms ``task``'s labels can come in, the held form first."""
        return _FORMS[task]

    @classmethod
    def held_for(cls, task: str) -> LabelForm:
        return _FORMS[task][0]

    @property
    def task(self) -> str:
        return next(t for t, forms in _FORMS.items() if self in forms)

    @property
    def held(self) -> bool:
        return self is _FORMS[self.task][0]

    @property
    def sparse(self) -> bool:
        return self in (LabelForm.SPARSE, LabelForm.SPARSE_COLUMN)

    @property
    def shape(self) -> str:
        return {LabelForm.FLAT: "(n,)", LabelForm.SPARSE: "(n,)", LabelForm.COLUMN: "(n, 1)",
                LabelForm.SPARSE_COLUMN: "(n, 1)"}.get(self, "(n, C)")

    def describe(self, dtype: str = "float32") -> str:
        """``(n,) int64 labels (flat)``: how messages say what the loop was fed as labels."""
        what = "class indices" if self.sparse else "labels"
        return f"{self.shape} {dtype} {what} ({self.value})"

    def encode(self, y, dtype: str = "float32"):
        """Held labels ``y`` (``(n, 1)`` or ``(n, C)`` of 0/1) as the loop is fed them in this form and ``dtype``."""
        import numpy as np

        if self.sparse:
            index = np.argmax(y, axis=1)
            fed = index if self is LabelForm.SPARSE else index[:, None]
        elif self is LabelForm.FLAT:
            fed = y[:, 0]
        else:
            fed = y
        return np.ascontiguousarray(fed.astype(np.dtype(dtype)))

    def decode(self, fed, columns: int):
        """What a metric was fed in this form, back in the held form: ``(n, columns)`` float32 of 0/1.

        ``fed`` may come wider than it was fed (a recorder broadcasts a column to the held width); its first
        column is read then.
        """
        import numpy as np

        fed = np.asarray(fed)
        if fed.ndim == 1:
            fed = fed[:, None]
        if self.sparse:
            return np.eye(columns, dtype=np.float32)[np.rint(fed[:, 0]).astype(np.int64)]
        return fed[:, :columns].astype(np.float32)

    def dtypes(self, allowed: tuple[str, ...]) -> tuple[str, ...]:
        """The dtypes of ``allowed`` this form can be fed in (class indices are never bool)."""
        return tuple(d for d in allowed if not (d == "bool" and self.sparse))


_FORMS = {
    "binary": (LabelForm.COLUMN, LabelForm.FLAT),
    "multiclass": (LabelForm.ONE_HOT, LabelForm.SPARSE, LabelForm.SPARSE_COLUMN),
    "multilabel": (LabelForm.MULTI_HOT,),
}


def label_pairs(forms: tuple[LabelForm, ...], allowed: tuple[str, ...]) -> tuple[tuple[LabelForm, str], ...]:
    """Every ``(form, dtype)`` pair the loops may be fed, in the order of ``forms`` and of ``allowed``."""
    return tuple((form, dtype) for form in forms for dtype in form.dtypes(allowed))


@dataclass
class Refusals:
    """The ``(form, dtype)`` pairs a check may feed its subject, and those the subject refused (raised on), each
    with its message.  The search draws from the accepted ones; the first accepted pair is the one whose errors
    are the subject's own (an error there fails the check, it is not a refusal)."""

    allowed: tuple[tuple[LabelForm, str], ...]
    refused: dict = field(default_factory=dict)

    def accepts(self, pair) -> bool:
        return pair not in self.refused

    def accepted(self) -> tuple[tuple[LabelForm, str], ...]:
        return tuple(p for p in self.allowed if p not in self.refused)

    def refusable(self, pair) -> bool:
        """Whether an error on ``pair`` is a refusal: another allowed pair is accepted and comes first."""
        accepted = self.accepted()
        return pair in accepted and pair != accepted[0]

    def refuse(self, pair, message: str) -> None:
        self.refused.setdefault(pair, message)

    def json(self) -> list[dict]:
        """``[{"labels": "flat", "dtype": "int64", "error": "..."}, ...]``, in the order allowed."""
        return [{"labels": form.value, "dtype": dtype, "error": self.refused[(form, dtype)]}
                for form, dtype in self.allowed if (form, dtype) in self.refused]
