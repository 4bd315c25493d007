"""The Python API: ``check`` and ``assert_f1``, usable without pytest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from .core import backend, timeouts
from .core import settings as settings_module
from .core.errors import ConfigError, F1CheckFailure
from .core.partitions import Partition
from .core.settings import DEFAULT, CheckSettings
from .core.weights import Weights
from .reporting import reproduce
from .reporting.report import Report, failure_message
from .search import Search
from .subjects.context import CheckInputs

__all__ = ["assert_f1", "check"]


def check(
    subject: Any, *, modes: Sequence[str] = DEFAULT.modes, tolerance: float = DEFAULT.tolerance,
    judge: str = DEFAULT.judge, task: str = DEFAULT.task, classes: int | None = DEFAULT.classes,
    average: str | None = DEFAULT.average, threshold: float = DEFAULT.threshold,
    zero_division: float | str = DEFAULT.zero_division, score: str = DEFAULT.score, beta: float | None = DEFAULT.beta,
    data: tuple[Any, Any] | None = None, partitions: Iterable[Partition] | None = None,
    examples: int = DEFAULT.examples, seed: int | None = DEFAULT.seed, callback_key: str | None = None,
    callback_metrics: Sequence[Any] = (), feeds: Sequence[str] | None = DEFAULT.feeds, replicas: int = DEFAULT.replicas,
    multiclass_scores: str = DEFAULT.multiclass_scores, timeout: float | None = DEFAULT.timeout,
    weighted: bool = DEFAULT.weighted, weights: Sequence[str] | None = DEFAULT.weights, class_weight: dict | None = None,
    steps_per_execution: Sequence[int] = DEFAULT.steps_per_execution, jit_compile: Sequence[bool] = DEFAULT.jit_compile,
    dtype_policies: Sequence[str] = DEFAULT.dtype_policies, output: str | None = DEFAULT.output,
    outputs: Sequence[str] | None = DEFAULT.outputs, labels: Sequence[str] | None = DEFAULT.labels,
    label_dtypes: Sequence[str] | None = DEFAULT.label_dtypes, progress: Callable[[int, int, float], None] | None = None,
    save_dir: str | Path | None = None,
) -> Report:
    """Check that ``subject`` logs the score sklearn gives for what real Keras loops fed it.

    Every keyword but ``data``, ``partitions``, ``callback_key``, ``callback_metrics``, ``class_weight``,
    ``progress`` and ``save_dir`` is a key of :data:`f1check.core.settings.SETTINGS`, with its default (None also
    means the default); the table's docs are listed under Settings below.

    Args:
        subject: a metric function ``fn(y_true, y_pred)``, a ``keras.metrics.Metric`` class, instance or factory,
            a ``keras.callbacks.Callback`` class or factory (``()``, ``(model, x, y)``, or ``(model, x, y,
            sample_weight)``: the weights of the data it is given when the check weighs, else None), or
            ``"module:attr"``.
        data: fixed ``(y_true, scores)`` or ``(y_true, scores, sample_weight)``; None draws data.
        partitions: fixed :class:`Partition` values; None draws partitions.
        callback_key: the logs key a callback subject writes.
        callback_metrics: the metrics (objects or ``"module:attr"``) whose logs a callback reads.
        class_weight: given data's class weights (``data=(y_true, scores)`` only).
        progress, save_dir: called as ``progress(done, total, worst_error)`` while a mode runs; where a
            counterexample too large to print goes (default: a temporary folder).

    Settings:
        {settings}

    Returns:
        A :class:`~f1check.judging.results.Report` with one :class:`~f1check.judging.results.Result` per mode.

    Raises:
        F1CheckError: bad input (arguments, data, a target, a subject that raises), saying what to do.

    Example:
        >>> import keras, f1check
        >>> y, scores = f1check.data.worked_example()
        >>> f1check.check(lambda: keras.metrics.F1Score(threshold=0.5), data=(y, scores),
        ...               partitions=[f1check.Partition([100, 100, 100])]).passed
        True
    """
    given = locals()  # read by the table's keys: a key check() lacks is a KeyError here, and a failing test
    chosen = settings_module.build({key: given[key] for key in settings_module.SETTING_KEYS},
                                   settings_module.argument_source)
    return run_check(subject, chosen, _with_class_weight(data, class_weight), partitions, callback_key,
                     callback_metrics, progress, save_dir)


if check.__doc__:  # None under python -OO
    check.__doc__ = check.__doc__.replace("{settings}", settings_module.described(indent=8))


def _with_class_weight(data, class_weight):
    """``data`` with ``class_weight`` as its third element (a :class:`~f1check.core.weights.Weights`)."""
    if class_weight is None:
        return data
    if data is None or not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ConfigError("class_weight= goes with data=(y_true, scores): with drawn data the class weights are "
                          "drawn too, and per-sample weights come as data=(y_true, scores, sample_weight).")
    return (*data, Weights(class_weight={int(k): float(v) for k, v in dict(class_weight).items()}))


def run_check(subject, chosen: CheckSettings, data=None, partitions=None, callback_key=None, callback_metrics=(),
              progress=None, save_dir=None, root=None) -> Report:
    """:func:`check` with its settings already built (the plugin and the fixtures call this).

    ``root`` is the repository's root (pytest's rootdir): a target found there but not on ``sys.path`` is an
    error that says how to make it importable, and reproduction snippets find their files from it.
    """
    inputs = CheckInputs.build(subject, chosen, data, partitions, callback_key, callback_metrics,
                               roots=(root,) if root is not None else ())
    results = []
    for mode in inputs.settings.modes:
        backend.seed_everything(inputs.settings.seed)  # each mode as if alone: what its reproduction will run
        with timeouts.limit(inputs.settings.timeout, f"{inputs.subject.label} [{mode}]"):
            context = inputs.context(mode)
            result = Search(context, progress).run()
        if not result.passed:
            result.reproduce = reproduce.snippet(context, result.counterexample, save_dir, root)
        results.append(result)
    target = inputs.subject
    return Report(
        results=results,
        environment=backend.environment(inputs.settings.seed),
        target=target.label,
        settings=inputs.settings,
        explicit_data=inputs.data is not None,
        explicit_partitions=inputs.partitions is not None,
        callback_key=target.callback_key,
        callback_metrics=target.companion_labels,
    )


def assert_f1(subject: Any, **kwargs) -> Report:
    """:func:`check`, raising :class:`~f1check.F1CheckFailure` with the full diagnosis if it fails.

    Takes the same arguments as :func:`check`.  The message names the subject and
    the mode, shows the numbers and their attribution, says why, and prints
    Python that reproduces the smallest failing example.

    Returns:
        The :class:`~f1check.judging.results.Report` when every mode passes.

    Raises:
        F1CheckFailure: an ``AssertionError``; ``.report`` holds the report.
        F1CheckError: bad input, as for :func:`check`.
    """
    __tracebackhide__ = True
    report = check(subject, **kwargs)
    if not report.passed:
        raise F1CheckFailure(failure_message(report), report=report)
    return report
