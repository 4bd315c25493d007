"""What the pytest fixtures hand out: a bound checker, a data factory, a model factory.

Kept apart from ``plugin.py`` so that the plugin module stays options, hooks
and fixture wiring; nothing here imports Keras until it is called.
"""

from __future__ import annotations

from typing import Any

from . import options

# Keyword arguments of @pytest.mark.f1check(...) and of Checker.check overrides.
MARKER_KEYS = (
    "tolerance", "judge", "modes", "examples", "task", "classes", "average", "threshold", "zero_division", "seed", "feeds",
    "replicas",
)


class Checker:
    """``f1check.check``/``assert_f1`` bound to the run's options (``--f1check-*``, ``[tool.f1check]``).

    Keyword arguments override the run's options for one call; a test's
    ``@pytest.mark.f1check(...)`` overrides them for that test.
    """

    def __init__(self, settings: dict, seed: int):
        self.settings = {k: v for k, v in settings.items() if k in MARKER_KEYS}
        self.seed = seed
        self.marker: dict = {}

    def options(self, **overrides) -> dict:
        merged = {**self.settings, "seed": self.seed, **self.marker, **overrides}
        if merged.get("task", "binary") == "binary" and "classes" not in overrides and "classes" not in self.marker:
            merged.pop("classes", None)
        if "task" in {**self.marker, **overrides} and "average" not in {**self.marker, **overrides}:
            merged.pop("average", None)  # the task's default average
        return merged

    def check(self, subject: Any, **overrides):
        from .check import check

        return check(subject, **self.options(**overrides))

    def assert_f1(self, subject: Any, **overrides):
        __tracebackhide__ = True
        from .check import assert_f1

        return assert_f1(subject, **self.options(**overrides))

    __call__ = assert_f1


class DataFactory:
    """Labels and scores (``__call__``), or learnable features (``learnable``), seeded."""

    def __init__(self, seed: int):
        self.seed = seed

    def __call__(self, n: int = 1000, *, task: str = "binary", classes: int | None = None,
                 positive_rate: float | None = None, seed: int | None = None):
        """``(y_true, scores)`` of ``n`` samples as a middling classifier would score them."""
        import numpy as np

        from .data import synthetic

        semantics = options.semantics(task_name=task, class_count=classes)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return synthetic(n, semantics, rng, positive_rate=positive_rate)

    def worked_example(self):
        """The 300 samples of the README (three batches of 100)."""
        from .data import worked_example

        return worked_example()

    def learnable(self, n: int = 1000, *, features: int = 8, task: str = "binary", classes: int | None = None,
                  seed: int | None = None):
        """``(x, y)``: features and labels a small model can learn (see :func:`f1check.data.learnable`)."""
        import numpy as np

        from .data import learnable

        semantics = options.semantics(task_name=task, class_count=classes)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return learnable(n, features, semantics, rng)


class ModelFactory:
    """Small compiled Keras models (logistic regression or a tiny MLP) on the run's device."""

    def __init__(self, device: str, seed: int):
        self.device = device
        self.seed = seed

    def __call__(self, *, features: int = 8, task: str = "binary", classes: int | None = None, hidden: int = 0,
                 metrics=(), learning_rate: float = 0.05, seed: int | None = None):
        from .models import small_model

        semantics = options.semantics(task_name=task, class_count=classes)
        return small_model(features, semantics, hidden=hidden, metrics=list(metrics), learning_rate=learning_rate,
                           seed=self.seed if seed is None else seed)
