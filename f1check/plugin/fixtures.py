"""What the pytest fixtures hand out: a bound checker, a data factory, a model factory.

Kept apart from ``plugin.py`` so that the plugin module stays options, hooks
and fixture wiring; nothing here imports Keras until it is called.
"""

from __future__ import annotations

from typing import Any

from ..api import assert_f1, check
from ..core import settings as names
from ..data import learnable, synthetic, worked_example
from ..loops.models import small_model

# Keyword arguments of @pytest.mark.f1check(...): the settings of one check.
MARKER_KEYS = names.SETTING_KEYS


def _semantics(task: str, classes: int | None) -> names.Semantics:
    return names.semantics({"task": task, "classes": classes}, names.argument_source)


class Checker:
    """``f1check.check``/``assert_f1`` bound to the run's options (``--f1check-*``, ``[tool.f1check]``).

    Keyword arguments override the run's options for one call; a test's
    ``@pytest.mark.f1check(...)`` overrides them for that test.  A call that
    changes the task takes that task's default ``average`` and ``classes``
    unless it sets them too.
    """

    def __init__(self, values: dict, seed: int):
        self.values = {k: v for k, v in values.items() if k in MARKER_KEYS}
        self.seed = seed
        self.marker: dict = {}

    def options(self, **overrides) -> dict:
        chosen = {**self.marker, **overrides}
        merged = {**self.values, "seed": self.seed, **chosen}
        if "task" in chosen:
            for key in ("average", "classes"):
                if key not in chosen:
                    merged.pop(key, None)
        return merged

    def check(self, subject: Any, **overrides):
        """:func:`f1check.check` with the run's options, the marker's, then ``overrides``."""
        return check(subject, **self.options(**overrides))

    def assert_f1(self, subject: Any, **overrides):
        """:func:`f1check.assert_f1` with the run's options, the marker's, then ``overrides``."""
        __tracebackhide__ = True
        return assert_f1(subject, **self.options(**overrides))

    __call__ = assert_f1


class DataFactory:
    """Labels and scores (``__call__``), or learnable features (``learnable``), seeded."""

    def __init__(self, seed: int):
        self.seed = seed

    def __call__(self, n: int = 1000, *, task: str = "binary", classes: int | None = None,
                 positive_rate: float | None = None, seed: int | None = None):
        """``(y_true, scores)`` of ``n`` samples as a middling classifier would score them.

        Args:
            n: the number of samples.
            task: ``"binary"``, ``"multiclass"`` or ``"multilabel"``.
            classes: the number of classes (multiclass, multilabel).
            positive_rate: the share of positive labels (binary, multilabel); None draws one.
            seed: overrides the run's seed.
        """
        import numpy as np

        rng = np.random.default_rng(self.seed if seed is None else seed)
        return synthetic(n, _semantics(task, classes), rng, positive_rate=positive_rate)

    def worked_example(self):
        """The 300 samples of the README's worked example (three batches of 100)."""
        return worked_example()

    def learnable(self, n: int = 1000, *, features: int = 8, task: str = "binary", classes: int | None = None,
                  seed: int | None = None):
        """``(x, y)``: features and labels a small model can learn (see :func:`f1check.data.learnable`)."""
        import numpy as np

        rng = np.random.default_rng(self.seed if seed is None else seed)
        return learnable(n, features, _semantics(task, classes), rng)


class ModelFactory:
    """Small compiled Keras models (logistic regression or a tiny MLP) on the run's device."""

    def __init__(self, device: str, seed: int):
        self.device = device
        self.seed = seed

    def __call__(self, *, features: int = 8, task: str = "binary", classes: int | None = None, hidden: int = 0,
                 metrics=(), learning_rate: float = 0.05, seed: int | None = None):
        """A compiled model: ``features`` inputs, ``hidden`` ReLU units (0: none), a sigmoid or softmax head.

        Args:
            features: the number of input features.
            task: ``"binary"``, ``"multiclass"`` or ``"multilabel"``.
            classes: the number of classes (multiclass, multilabel).
            hidden: units of one hidden layer (0 for logistic regression).
            metrics: compiled into the model, as ``compile(metrics=...)`` takes them.
            learning_rate: SGD's learning rate.
            seed: overrides the run's seed (the initial weights).

        Returns:
            A compiled ``keras.Model``, on the GPU when there is one and ``--f1check-device`` allows it.
        """
        return small_model(features, _semantics(task, classes), hidden=hidden, metrics=list(metrics),
                           learning_rate=learning_rate, seed=self.seed if seed is None else seed)
