"""What one check knows before it runs: the inputs, validated once, and the context of each (subject, mode).

:class:`CheckInputs` is built once per ``check()`` call: the subject
recognised, the given data validated against the task, the given partitions
checked against the data and the replicas.  :meth:`CheckInputs.context` makes
the :class:`CheckContext` of one mode: the feeds that mode can use on this
backend, and whether the subject's metrics keep state across
``reset_state()`` (a probe that runs the user's code, so it happens here, once,
and not in a constructor).  Every stage below takes the context and nothing
re-derives it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..core import backend, timeouts
from ..core.errors import ConfigError, DataError, PartitionError, SubjectError
from ..core.feeds import Feed
from ..core.labels import Refusals, label_pairs
from ..core.modes import Mode
from ..core.partitions import Partition
from ..core.settings import CheckSettings, Semantics
from ..core.weights import Weights, WeightsKind
from ..data import validate
from . import Subject
from .carried import CarriedState, probe_carried_state
from .config import unloadable
from .targets import resolve

__all__ = ["CheckContext", "CheckInputs"]


@dataclass(frozen=True)
class CheckInputs:
    """A check's subject, settings, given data and given partitions, each validated once.

    ``data`` is ``(y_true, scores)`` as ``(N, C)`` float32 (or None: drawn);
    ``partitions`` a tuple of :class:`~f1check.core.partitions.Partition` that fit
    the data and the replicas (or None: drawn).  When data is given, the
    settings' ``classes`` is the data's number of columns.
    """

    subject: Subject
    settings: CheckSettings
    data: tuple[Any, Any] | None = None
    partitions: tuple[Partition, ...] | None = None
    weights: Weights | None = None  # the given data's weights (per-sample, or a class_weight), if any

    @classmethod
    def build(cls, subject: Any, settings: CheckSettings, data=None, partitions=None, callback_key: str | None = None,
              callback_metrics=(), roots=()) -> CheckInputs:
        """Validate everything a check is given, in the order a user fixes it; raise the first problem found."""
        fixed, given = None, None
        if data is not None:
            if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
                raise ConfigError("data must be (y_true, scores) or (y_true, scores, sample_weight), arrays.")
            fixed = validate(data[0], data[1], settings.semantics)
            settings = settings.with_semantics(settings.semantics.with_classes(fixed[0].shape[1]))
            given = _given_weights(data[2], len(fixed[0])) if len(data) == 3 else None
        explicit = _explicit_partitions(partitions, fixed)
        _check_replicas(settings, fixed, explicit)
        target = resolve(subject, callback_key=callback_key, callback_metrics=callback_metrics, roots=roots)
        if settings.semantics.weighted:
            target = target.weighed()
        if settings.replicas > 1:
            backend.replica_strategy(settings.replicas)  # before anything starts TensorFlow's devices
        return cls(target, settings, fixed, explicit, given)

    def context(self, mode: Mode) -> CheckContext:
        """The context of ``mode``: its usable feeds and the carried-state probe (which runs the subject).  In
        ``reloaded`` the subject's metrics are replayed as ``load_model`` rebuilds them, and one that cannot be
        rebuilt is an error that names the fix."""
        if mode.reloads:
            if self.settings.replicas > 1:
                raise ConfigError(f"mode 'reloaded' runs on one replica (replicas={self.settings.replicas}): "
                                  "f1check does not save and load a model under a distribution strategy. Check "
                                  "'reloaded' in a run without replicas.")
            return replace(self, subject=_reloadable(self.subject)).context_of(mode)
        return self.context_of(mode)

    def context_of(self, mode: Mode) -> CheckContext:
        feeds = usable_feeds(self.settings, mode)
        columns = self.settings.semantics.columns
        with timeouts.call("the subject fed two batches directly, to see whether reset_state() resets it"):
            carried = probe_carried_state(self.subject, columns, self.settings.semantics.task)
        context = CheckContext(self, mode, feeds, carried)
        _check_weights_fit(context)
        return context


@dataclass(frozen=True)
class CheckContext:
    """One subject in one mode: everything the driver, the runner, the replayer and the search share.

    Attributes:
        inputs: the check's validated inputs.
        mode: the loop.
        feeds: the feeds this mode can use on this backend, among those the settings allow.
        carried: what the subject's metrics keep across ``reset_state()`` (None: they reset).
        refusals: the label forms and dtypes the loops may feed, and those the subject refused (found as it runs).
    """

    inputs: CheckInputs
    mode: Mode
    feeds: tuple[Feed, ...]
    carried: CarriedState | None = None
    refusals: Refusals | None = None

    def __post_init__(self):  # every pair the settings allow, none refused yet
        if self.refusals is None:
            settings = self.inputs.settings
            object.__setattr__(self, "refusals", Refusals(label_pairs(settings.labels, settings.label_dtypes)))

    @property
    def subject(self) -> Subject:
        return self.inputs.subject

    @property
    def settings(self) -> CheckSettings:
        return self.inputs.settings

    @property
    def semantics(self) -> Semantics:
        return self.inputs.settings.semantics

    @property
    def data(self):
        return self.inputs.data

    @property
    def partitions(self) -> tuple[Partition, ...] | None:
        return self.inputs.partitions

    @property
    def weight_kinds(self) -> tuple[WeightsKind, ...]:
        """The weight kinds this mode's loops can be given: class weights only where the loop trains, on a model of
        one output, and with some feed that carries them (never a Python generator)."""
        return tuple(k for k in _kinds(self.settings) if k.reaches(self.mode) and self.feeds_for(k))

    def feeds_for(self, kind: WeightsKind) -> tuple[Feed, ...]:
        """The usable feeds that can carry ``kind`` (Keras refuses class_weight for Python generators)."""
        return tuple(f for f in self.feeds if kind.carried_by(f))

    @property
    def log_prefix(self) -> str:
        """What Keras puts before a compiled metric's name in the judged logs: ``val_`` in validation, and the head's
        name on a two-output model (``val_label_f1``)."""
        return self.mode.log_prefix + (f"{self.settings.output}_" if self.settings.output else "")

    @property
    def weighs(self) -> bool:
        """Some loop of the check is given weights: the recorder then records the weight of each fed sample."""
        return self.inputs.weights is not None or any(kind.given for kind in _kinds(self.settings))

    def callback_weights(self, y, weights: Weights):
        """What a callback factory that takes ``sample_weight`` gets with the data ``y`` of a loop given ``weights``:
        the weight each sample carries in the judged pass, as sklearn's reference weighs it, when the check weighs
        (a weighted target); None otherwise.  Per-sample weights reach every mode (the validation data carries them);
        class weights only the training passes ``fit`` and ``fit-dropped`` judge (each sample's class weight, as
        Keras turns ``class_weight`` into per-sample weights there), never the validation pass, which Keras does
        not weight by class.  A copy: what the factory does with it never reaches the loop."""
        if not self.semantics.weighted:
            return None
        found = weights.per_sample(y, self.semantics.task, self.mode)
        return None if found is None else found.copy()

    @property
    def columns(self) -> int:
        return self.semantics.columns

    @property
    def replicas(self) -> int:
        return self.settings.replicas

    @property
    def clean(self) -> bool:
        """The subject's metrics reset completely, so one compiled model may serve every run."""
        return self.carried is None

    @property
    def label(self) -> str:
        return self.subject.label

    def fixed_scores(self) -> CheckContext:
        """The same subject in ``evaluate`` (a model that outputs given scores), for replays that call the model."""
        return replace(self, mode=Mode.EVALUATE, carried=None)


def _reloadable(subject: Subject) -> Subject:
    """The subject as ``reloaded`` replays it; a SubjectError (code ``config-loses-arguments``) where a compiled
    metric cannot be rebuilt from its config, so that ``load_model`` raises."""
    with timeouts.call("the subject's metrics rebuilt from their config, as load_model rebuilds them"):
        lost = unloadable(subject)
    if lost is not None:
        error = SubjectError(lost.text())
        error.code = "config-loses-arguments"
        raise error
    return subject.reloading()


def _given_weights(weights, n: int) -> Weights:
    """The third element of ``data``: per-sample weights (an array), or a :class:`Weights` (a class_weight)."""
    import numpy as np

    if isinstance(weights, Weights):
        return weights
    try:
        array = np.asarray(weights, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise DataError(f"sample_weight must be numbers, one per sample: {exc}.") from None
    if len(array) != n:
        raise DataError(f"sample_weight has {len(array)} values for {n} samples: give one weight per sample.")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise DataError("sample_weight must be finite and >= 0 (sklearn and Keras take no negative weights).")
    return Weights(sample=array.astype(np.float32))


def _kinds(settings: CheckSettings) -> tuple[WeightsKind, ...]:
    """The weight kinds the settings allow, as values; class weights only on a model of one output (Keras refuses
    class_weight for a model of two)."""
    return tuple(k for k in map(WeightsKind, settings.weights) if all(k.fits_outputs(o) for o in settings.output_kinds))


def _check_weights_fit(context: CheckContext) -> None:
    """A clear error when no weight kind the check allows can reach a loop of this mode with a feed that carries it."""
    if context.weight_kinds:
        return
    kinds, mode = [str(k) for k in context.settings.weights], context.mode
    if context.settings.output and any(WeightsKind(k).by_class for k in kinds):
        why = f"Keras refuses class_weight for a model of two outputs (output={context.settings.output!r})"
    elif not mode.takes_class_weights:
        why = f"mode {mode.value!r} is given no class_weight (Keras applies class_weight in fit only)"
    else:
        why = (f"Keras refuses class_weight for Python generator inputs, and the feeds of mode {mode.value!r} are "
               f"{[str(f) for f in context.feeds]}")
    raise ConfigError(f"weights={kinds} cannot reach any loop of mode {mode.value!r}: {why}. Add \"sample\" or "
                      "\"none\" to weights, or a feed that is not a Python generator (pydataset, numpy, tf.data).")


def usable_feeds(settings: CheckSettings, mode: Mode) -> tuple[Feed, ...]:
    """The feeds ``mode`` can use on this backend, among those the settings allow."""
    possible = Feed.usable(mode, backend.backend_name())
    if settings.feeds is None:
        return possible
    chosen = tuple(f for f in settings.feeds if f in possible)
    if not chosen:
        raise ConfigError(
            f"none of feeds={[str(f) for f in settings.feeds]} can feed mode {mode.value!r} on this backend (it takes "
            f"{[str(f) for f in possible]}): generator-no-steps is evaluate-only, numpy cannot drop a remainder, "
            "tf.data needs TensorFlow."
        )
    return chosen


def _explicit_partitions(partitions, fixed) -> tuple[Partition, ...] | None:
    """``partitions`` as a checked tuple (None stays None)."""
    if partitions is None:
        return None
    if isinstance(partitions, Partition):
        partitions = [partitions]
    out = tuple(partitions)
    if not out:
        raise PartitionError("partitions is empty: give at least one f1check.Partition, or None to draw them.")
    for p in out:
        if not isinstance(p, Partition):
            raise PartitionError(
                f"partitions must hold f1check.Partition values, got {type(p).__name__}: "
                "write f1check.Partition(batch_sizes=[...])."
            )
        if fixed is not None:
            p.check_fits(len(fixed[0]))
    return out


def _check_replicas(settings: CheckSettings, fixed, explicit) -> None:
    replicas = settings.replicas
    if replicas > 1 and backend.legacy():
        raise ConfigError(
            f"replicas={replicas} is not supported with tf-keras ({backend.LEGACY_ENV}=1): f1check drives "
            "tf-keras loops on one device only. Use replicas=1, or unset the variable to check Keras 3 subjects."
        )
    if fixed is not None and len(fixed[0]) % replicas:
        raise ConfigError(
            f"replicas={replicas}: the data has {len(fixed[0])} samples, not a multiple of "
            f"{replicas}, so some batch could not split evenly over the replicas (Keras fails there): "
            "give a multiple, or replicas=1."
        )
    for p in explicit or ():
        uneven = [s for s in p.batch_sizes if s % replicas]
        if uneven:
            raise ConfigError(
                f"{p.short()} has batches of {sorted(set(uneven))[:5]}, which do not split evenly over "
                f"replicas={replicas}: Keras 3 under tf.distribute.MirroredStrategy fails on such a batch (an AddN "
                f"of unequal per-replica shapes). Use batch sizes that are multiples of {replicas}, or replicas=1."
            )
