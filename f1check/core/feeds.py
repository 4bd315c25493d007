"""How data reaches the loop: a fuzzed dimension of the drivers, one registry of feed kinds.

Each :class:`Feed` turns a partition into what ``model.evaluate``/``model.fit`` take:

- ``pydataset``: a ``keras.utils.PyDataset`` of exactly the partition's
  batches, with the number of steps given;
- ``generator``: a Python generator cycling through them (the
  ``fit_generator`` style), with ``steps``/``steps_per_epoch``;
- ``generator-no-steps``: one pass of a Python generator and no steps
  (evaluate only: Keras cannot restart a generator for a second epoch);
- ``numpy``: arrays in the partition's order with ``batch_size`` (uniform
  batches, the last one smaller);
- ``tf.data``: ``from_tensor_slices(...).batch(bs, drop_remainder=...)``
  (known cardinality, uniform batches);
- ``tf.data-unknown``: ``from_generator`` over the batches (unknown
  cardinality), no steps.

The last two need TensorFlow.  On the TensorFlow backend, Keras counts one
step more than it ran for every mean-reduced metric when fed without steps
(the phantom step).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .values import Spelled

if TYPE_CHECKING:
    from .modes import Mode
    from .partitions import Partition

__all__ = ["Feed", "Heads", "LoopInput", "as_validation"]


@dataclass
class LoopInput:
    """What a loop method takes for one partition: positional data and keyword arguments."""

    args: tuple
    kwargs: dict = field(default_factory=dict)


class Feed(Spelled):
    """A way data reaches the loop; ``Feed("numpy")`` from its name.

    Attributes:
        uniform: it can only cut equal batches (and a smaller last one, or a dropped rest).
        needs_tensorflow: it is a ``tf.data`` pipeline.
        restartable: the loop can run it for more than one epoch.
        drops: it can leave a remainder unfed (``steps = N // batch_size``).
        python_generator: it is a Python generator object (Keras's generator adapter, which takes no class_weight).
    """

    PYDATASET = "pydataset"
    GENERATOR = "generator"
    GENERATOR_NO_STEPS = "generator-no-steps"
    NUMPY = "numpy"
    TF_DATA = "tf.data"
    TF_DATA_UNKNOWN = "tf.data-unknown"

    @property
    def uniform(self) -> bool:
        return self in (Feed.NUMPY, Feed.TF_DATA)

    @property
    def needs_tensorflow(self) -> bool:
        return self in (Feed.TF_DATA, Feed.TF_DATA_UNKNOWN)

    @property
    def restartable(self) -> bool:
        return self is not Feed.GENERATOR_NO_STEPS  # a generator object cannot be restarted for epoch 2

    @property
    def python_generator(self) -> bool:
        return self in (Feed.GENERATOR, Feed.GENERATOR_NO_STEPS)

    @property
    def drops(self) -> bool:
        return self not in (Feed.NUMPY, Feed.TF_DATA_UNKNOWN)  # arrays always feed the remainder batch

    def can_feed(self, mode: Mode) -> bool:
        """Whether ``mode``'s loop can take this feed (on a backend that has it)."""
        return (self.restartable or not mode.trains) and (self.drops or not mode.drops_remainder)

    @classmethod
    def usable(cls, mode: Mode, backend: str) -> tuple[Feed, ...]:
        """The feeds ``mode`` can use on ``backend``."""
        return tuple(f for f in cls if f.can_feed(mode) and (backend == "tensorflow" or not f.needs_tensorflow))

    def fits(self, partition: Partition) -> bool:
        """Whether this feed can give ``partition`` exactly (numpy arrays and tf.data cut equal batches)."""
        if not self.uniform:
            return True
        sizes = partition.batch_sizes
        size = sizes[0]
        if partition.dropped:  # tf.data with drop_remainder=True; numpy arrays feed every sample
            return self.drops and all(s == size for s in sizes) and partition.dropped < size
        return all(s == size for s in sizes[:-1]) and sizes[-1] <= size

    def describe(self, legacy: bool = False) -> str:
        if self is Feed.PYDATASET and legacy:
            return "a tf.keras.utils.Sequence with steps"
        return _DESCRIPTIONS[self]

    def build(self, inputs, y, partition: Partition, *, steps_key: str, dataset_class: Any,
              rotate: bool = False, weights=None) -> LoopInput:
        """What a loop method takes to feed ``partition`` this way; ``steps_key`` names its steps argument.

        ``steps_key`` is ``steps`` (evaluate), ``steps_per_epoch`` (fit) or
        ``validation_steps`` (the validation pass of fit: data and batch size go
        to ``validation_data``/``validation_batch_size``, see :func:`as_validation`).
        With ``rotate`` the generator cycles over all the data, the remainder as a
        last smaller batch, while the loop takes only the partition's steps per
        pass: each pass starts where the last one stopped.  ``weights`` (one per sample) go with the data: as
        ``sample_weight`` for arrays, as the third element of every batch otherwise.
        """
        batches = partition.batches()
        if rotate and partition.dropped:
            batches = [*batches, partition.dropped_indices()]
        return _BUILDERS[self](_Source(inputs, y, partition, batches, steps_key, dataset_class, weights))


_DESCRIPTIONS = {
    Feed.PYDATASET: "a keras.utils.PyDataset with steps",
    Feed.GENERATOR: "a Python generator with steps",
    Feed.GENERATOR_NO_STEPS: "a Python generator without steps",
    Feed.NUMPY: "numpy arrays with batch_size",
    Feed.TF_DATA: "a tf.data.Dataset (known cardinality)",
    Feed.TF_DATA_UNKNOWN: "a tf.data.Dataset of unknown cardinality without steps",
}


class Heads:
    """The labels of a two-output model: the judged head's and the other head's, indexed together into the
    model's output structure (a dict by output name, or a tuple in output order)."""

    def __init__(self, y, other, names: tuple[str, str], as_dict: bool):
        self.y, self.other, self.names, self.as_dict = y, other, names, as_dict

    def __getitem__(self, index):
        parts = (self.y[index], self.other[index])
        return dict(zip(self.names, parts)) if self.as_dict else parts

    def structure(self, make):
        """``make(array)`` for each head, in the model's output structure (a tf.data signature, say)."""
        parts = (make(self.y), make(self.other))
        return dict(zip(self.names, parts)) if self.as_dict else parts


@dataclass(frozen=True)
class _Source:
    """What every builder gets: the inputs and labels, the partition, its batches of indices."""

    inputs: Any
    y: Any
    partition: Partition
    batches: list
    steps_key: str
    dataset_class: Any
    weights: Any = None

    def generate(self, cycles: int):
        for _ in range(cycles):
            for index in self.batches:
                if self.weights is None:
                    yield self.inputs[index], self.y[index]
                else:
                    yield self.inputs[index], self.y[index], self.weights[index]

    def ordered(self) -> tuple:
        order = self.partition.indices()
        if self.weights is None:
            return self.inputs[order], self.y[order]
        return self.inputs[order], self.y[order], self.weights[order]


def _pydataset(src: _Source) -> LoopInput:
    dataset = src.dataset_class(src.inputs, src.y, src.partition, src.weights)
    return LoopInput((dataset,), {src.steps_key: src.partition.steps})


def _generator(src: _Source) -> LoopInput:
    def endless():  # cycles for as many epochs as the loop asks
        while True:
            yield from src.generate(1)

    return LoopInput((endless(),), {src.steps_key: src.partition.steps})


def _generator_no_steps(src: _Source) -> LoopInput:
    return LoopInput((src.generate(1),))


def _numpy(src: _Source) -> LoopInput:
    x, y, *weights = src.ordered()
    kwargs = {"batch_size": src.partition.batch_sizes[0]}
    if weights:
        kwargs["sample_weight"] = weights[0]
    return LoopInput((x, y), kwargs)


def _tf_data(src: _Source) -> LoopInput:
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices(src.ordered())
    return LoopInput((data.batch(src.partition.batch_sizes[0], drop_remainder=bool(src.partition.dropped)),))


def _tf_data_unknown(src: _Source) -> LoopInput:
    import tensorflow as tf

    inputs, y = src.inputs, src.y

    def label_spec(labels):  # in the form and dtype the labels are fed in
        return tf.TensorSpec([None, *labels.shape[1:]], tf.as_dtype(labels.dtype))

    signature = (
        tf.TensorSpec([None, inputs.shape[1]], tf.as_dtype(inputs.dtype)),
        y.structure(label_spec) if isinstance(y, Heads) else label_spec(y),
    ) + ((tf.TensorSpec([None], tf.float32),) if src.weights is not None else ())
    data = tf.data.Dataset.from_generator(lambda: src.generate(1), output_signature=signature)
    return LoopInput((data,))


_BUILDERS: dict[Feed, Callable[[_Source], LoopInput]] = {
    Feed.PYDATASET: _pydataset,
    Feed.GENERATOR: _generator,
    Feed.GENERATOR_NO_STEPS: _generator_no_steps,
    Feed.NUMPY: _numpy,
    Feed.TF_DATA: _tf_data,
    Feed.TF_DATA_UNKNOWN: _tf_data_unknown,
}


def as_validation(given: LoopInput) -> dict:
    """A feed's data and arguments as ``fit``'s validation keywords (arrays' weights in the data tuple)."""
    data = given.args if len(given.args) > 1 else given.args[0]
    if "sample_weight" in given.kwargs:
        data = (*given.args, given.kwargs["sample_weight"])
    kwargs = {"validation_data": data}
    for key, value in given.kwargs.items():
        if key != "sample_weight":
            kwargs["validation_batch_size" if key == "batch_size" else "validation_steps"] = value
    return kwargs
