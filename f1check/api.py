"""The Python API: ``check`` and ``assert_f1``, usable without pytest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from . import backend, reproduce, settings as settings_module, timeouts
from .context import CheckInputs
from .errors import ConfigError, F1CheckFailure
from .partitions import Partition
from .report import Report, failure_message
from .search import Search
from .settings import API_MODES, DEFAULT_EXAMPLES, DEFAULT_THRESHOLD, DEFAULT_TOLERANCE, CheckSettings
from .weights import Weights

__all__ = ["assert_f1", "check"]


def check(
    subject: Any, *, modes: Sequence[str] = API_MODES, tolerance: float = DEFAULT_TOLERANCE, judge: str = "seen",
    task: str = "binary", classes: int | None = None, average: str | None = None, threshold: float = DEFAULT_THRESHOLD,
    zero_division: float | str = 0, score: str = "f1", beta: float | None = None, data: tuple[Any, Any] | None = None,
    partitions: Iterable[Partition] | None = None, examples: int = DEFAULT_EXAMPLES, seed: int | None = None,
    callback_key: str | None = None, callback_metrics: Sequence[Any] = (), feeds: Sequence[str] | None = None,
    replicas: int = 1, multiclass_scores: str = "softmax", timeout: float | None = None, weighted: bool = False,
    weights: Sequence[str] | None = None, class_weight: dict | None = None, steps_per_execution: Sequence[int] = (1,),
    jit_compile: Sequence[bool] = (False,), dtype_policies: Sequence[str] = ("float32",), output: str | None = None,
    outputs: Sequence[str] | None = None, progress: Callable[[int, int, float], None] | None = None,
    save_dir: str | Path | None = None,
) -> Report:
    """Check that ``subject`` logs the score sklearn gives for what real Keras loops fed it.

    Args:
        subject: a metric function ``fn(y_true, y_pred)``, a ``keras.metrics.Metric`` class, instance or factory,
            a ``keras.callbacks.Callback`` class or factory (``()`` or ``(model, x, y)``), or ``"module:attr"``.
        modes: loops: ``"evaluate"``, ``"fit"``, ``"fit-dropped"``, ``"validation"``, ``"validation-dropped"``.
        tolerance: the largest judged ``|reported - reference|`` that passes.
        judge: ``"seen"`` bounds the error against what the loop fed; ``"total"`` also against all samples.
        task: ``"binary"``, ``"multiclass"`` (one-hot labels, first argmax) or ``"multilabel"``.
        classes: the number of classes (columns) for multiclass and multilabel data.
        average: sklearn's ``average`` (default ``"binary"`` for binary data, ``"macro"`` otherwise).
        threshold: binary and multilabel scores above it (strictly) are positive.
        zero_division: sklearn's value for 0/0: 0, 1, ``"warn"`` or ``"nan"``.
        score: the quantity the subject logs: ``"f1"``, ``"precision"``, ``"recall"``, ``"fbeta"`` or ``"mcc"``.
        beta: F-beta's beta (``score="fbeta"`` only).
        data: fixed ``(y_true, scores)`` or ``(y_true, scores, sample_weight)``; None draws data.
        partitions: fixed :class:`Partition` values; None draws partitions.
        examples: examples per mode (fixed examples included).
        seed: the seed of the check (default 0); the same seed gives the same verdicts.
        callback_key, callback_metrics: the logs key a callback writes; the metrics (or ``"module:attr"``) it reads.
        feeds: how data reaches the loop (default: every feed the mode can use).
        replicas: run the loops data-parallel over this many replicas (TensorFlow only).
        multiclass_scores: fuzzed multiclass scores: ``"softmax"``, ``"softmax-ties"`` or ``"independent"``.
        timeout: seconds each mode may take (None: no bound), then :class:`~f1check.timeouts.CheckTimeout`.
        weighted: the subject goes in ``compile(weighted_metrics=...)``; sklearn gets ``sample_weight``.
        weights, class_weight: weight kinds drawn per example (``"none"``, ``"sample"``, ``"class"``); given data's.
        steps_per_execution, jit_compile, dtype_policies, output, outputs: ``compile()``'s settings, the dtype policy
            (``"float32"``, ``"mixed_float16"``, ...), the head checked, its model's outputs (``"dict"``, ``"list"``).
        progress, save_dir: called as ``progress(done, total, worst_error)`` while a mode runs; where a
            counterexample too large to print goes (default: a temporary folder).

    Returns:
        A :class:`~f1check.results.Report` with one :class:`~f1check.results.Result` per mode.

    Raises:
        F1CheckError: bad input (arguments, data, a target, a subject that raises), saying what to do.

    Example:
        >>> import keras, f1check
        >>> y, scores = f1check.data.worked_example()
        >>> f1check.check(lambda: keras.metrics.F1Score(threshold=0.5), data=(y, scores),
        ...               partitions=[f1check.Partition([100, 100, 100])]).passed
        True
    """
    values = {key: value for key, value in locals().items() if key in settings_module.SETTING_KEYS}
    chosen = settings_module.build(values, settings_module.argument_source)
    return run_check(subject, chosen, _with_class_weight(data, class_weight), partitions, callback_key,
                     callback_metrics, progress, save_dir)


def _with_class_weight(data, class_weight):
    """``data`` with ``class_weight`` as its third element (a :class:`~f1check.weights.Weights`)."""
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
        The :class:`~f1check.results.Report` when every mode passes.

    Raises:
        F1CheckFailure: an ``AssertionError``; ``.report`` holds the report.
        F1CheckError: bad input, as for :func:`check`.
    """
    __tracebackhide__ = True
    report = check(subject, **kwargs)
    if not report.passed:
        raise F1CheckFailure(failure_message(report), report=report)
    return report
