"""The modes: which real Keras loop a check runs, as one value that answers every question about it.

A :class:`Mode` is a string (``Mode.FIT == "fit"``, JSON writes it as ``"fit"``)
that knows what its loop does: whether it trains, whether the judged pass is
the validation pass inside ``fit``, whether a remainder is dropped, how many
epochs it runs and which steps argument its loop takes.  Every other module
asks the mode; none compares its name.
"""

from __future__ import annotations

import enum

__all__ = ["API_MODES", "FIT_EPOCHS", "GATE_MODES", "Mode"]

FIT_EPOCHS = 2  # at least two: a metric that does not reset between epochs shows in the second


class Mode(str, enum.Enum):
    """A loop f1check runs the subject through.

    Attributes:
        trains: the model learns during the loop (``fit`` and the validation modes), so predictions drift.
        validates: the judged value is the ``val_`` one of ``fit(validation_data=...)``.
        judges_training: the judged pass is a training pass (``fit``, ``fit-dropped``): class weights reach it.
        reloads: the judged passes run on the model ``keras.models.load_model`` gives back after ``model.save``.
        takes_class_weights: the loop is given ``class_weight`` (a training pass before any judged one; not
            ``reloaded``, whose judged ``evaluate`` takes none).
        drops_remainder: the loop feeds ``N // batch_size`` batches and never the rest.
        epochs: the epochs the loop runs (each one judged).
        log_prefix: what Keras puts before a metric's name in the judged logs (``val_`` in validation).
        steps_key: the loop's steps argument for the judged data.

    Example:
        >>> Mode("fit-dropped").drops_remainder
        True
        >>> Mode.VALIDATION.log_prefix + "f1"
        'val_f1'
    """

    EVALUATE = "evaluate"
    FIT = "fit"
    FIT_DROPPED = "fit-dropped"
    VALIDATION = "validation"
    VALIDATION_DROPPED = "validation-dropped"
    RELOADED = "reloaded"  # one fit epoch, model.save, load_model, then evaluate and one more fit epoch, both judged

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def trains(self) -> bool:
        return self is not Mode.EVALUATE

    @property
    def validates(self) -> bool:
        return self in (Mode.VALIDATION, Mode.VALIDATION_DROPPED)

    @property
    def judges_training(self) -> bool:
        return self.trains and not self.validates and not self.reloads

    @property
    def reloads(self) -> bool:
        return self is Mode.RELOADED

    @property
    def takes_class_weights(self) -> bool:
        return self.trains and not self.reloads

    @property
    def drops_remainder(self) -> bool:
        return self in (Mode.FIT_DROPPED, Mode.VALIDATION_DROPPED)

    @property
    def epochs(self) -> int:
        """The judged passes (``reloaded``: the ``evaluate`` after loading, then one more ``fit`` epoch)."""
        if self.reloads:
            return 2
        return FIT_EPOCHS if self.trains else 1

    @property
    def passes(self) -> int:
        """The metric passes of the loop: each validation pass follows a training pass on the same metrics."""
        return 2 * self.epochs if self.validates else self.epochs

    @property
    def log_prefix(self) -> str:
        return "val_" if self.validates else ""

    @property
    def steps_key(self) -> str:
        if self.validates:
            return "validation_steps"
        return "steps_per_epoch" if self.trains else "steps"

    @property
    def dropped(self) -> Mode:
        """The same loop with the remainder dropped."""
        return {Mode.FIT: Mode.FIT_DROPPED, Mode.VALIDATION: Mode.VALIDATION_DROPPED}.get(self, self)

    @property
    def said(self) -> str:
        """The mode as a summary or a picture names it: ``reloaded (after load_model)``."""
        return f"{self.value} (after load_model)" if self.reloads else self.value

    def pass_said(self, epoch: int, epochs: int) -> str:
        """Which judged pass ``epoch`` (from 0) is: ``epoch 2 of 2``, or ``fit after load_model``; "" for the only one."""
        if self.reloads:
            return f"{('evaluate', 'fit')[min(epoch, 1)]} after load_model"
        return f"epoch {epoch + 1} of {epochs}" if epochs > 1 else ""

    @property
    def order(self) -> int:
        """The mode's place in reports (the order of :class:`Mode`)."""
        return list(Mode).index(self)


NAMES = tuple(m.value for m in Mode)
API_MODES = (Mode.EVALUATE,)  # check()'s default
GATE_MODES = (Mode.EVALUATE, Mode.FIT, Mode.FIT_DROPPED)  # [tool.f1check]'s default: catches a metric that never resets
