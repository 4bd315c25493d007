"""How data reaches the loop: a fuzzed dimension of the drivers.

Each feed turns a partition into what ``model.evaluate``/``model.fit`` take:

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

from dataclasses import dataclass, field
from typing import Any

from .partitions import Partition
from .settings import FEEDS, TENSORFLOW_FEEDS, UNIFORM_FEEDS

VALIDATION_MODES = ("validation", "validation-dropped")


@dataclass
class Feed:
    """What a loop method takes for one partition: positional data and keyword arguments."""

    args: tuple
    kwargs: dict = field(default_factory=dict)


def feeds_for(mode: str, backend: str) -> tuple[str, ...]:
    """The feeds a mode can use on a backend."""
    kinds = [k for k in FEEDS if backend == "tensorflow" or k not in TENSORFLOW_FEEDS]
    if mode != "evaluate":
        kinds.remove("generator-no-steps")  # a generator object cannot be restarted for epoch 2
    if mode.endswith("-dropped"):
        kinds.remove("numpy")  # arrays always feed the remainder batch
        if "tf.data-unknown" in kinds:
            kinds.remove("tf.data-unknown")
    return tuple(kinds)


def fits(kind: str, partition: Partition) -> bool:
    """Whether ``kind`` can feed ``partition`` exactly (numpy arrays and tf.data cut equal batches)."""
    if kind not in UNIFORM_FEEDS:
        return True
    sizes = partition.batch_sizes
    size = sizes[0]
    if kind == "numpy" and partition.dropped:
        return False
    if partition.dropped:  # tf.data with drop_remainder=True
        return all(s == size for s in sizes) and partition.dropped < size
    return all(s == size for s in sizes[:-1]) and sizes[-1] <= size


def describe(kind: str, legacy: bool = False) -> str:
    if kind == "pydataset" and legacy:
        return "a tf.keras.utils.Sequence with steps"
    return {
        "pydataset": "a keras.utils.PyDataset with steps",
        "generator": "a Python generator with steps",
        "generator-no-steps": "a Python generator without steps",
        "numpy": "numpy arrays with batch_size",
        "tf.data": "a tf.data.Dataset (known cardinality)",
        "tf.data-unknown": "a tf.data.Dataset of unknown cardinality without steps",
    }[kind]


def feed(kind: str, inputs, y, partition: Partition, *, steps_key: str, dataset_class: Any, rotate: bool = False) -> Feed:
    """What a loop method takes to feed ``partition`` as ``kind``; ``steps_key`` names its steps argument.

    ``steps_key`` is ``steps`` (evaluate), ``steps_per_epoch`` (fit) or
    ``validation_steps`` (the validation pass of fit: data and batch size go
    to ``validation_data``/``validation_batch_size``, see :func:`as_validation`).
    With ``rotate`` the generator cycles over all the data, the remainder as a
    last smaller batch, while the loop takes only the partition's steps per
    pass: each pass starts where the last one stopped.
    """
    batches = partition.batches()
    if rotate and partition.dropped:
        batches = [*batches, partition.dropped_indices()]
    if kind == "pydataset":
        return Feed((dataset_class(inputs, y, partition),), {steps_key: partition.steps})
    if kind in ("generator", "generator-no-steps"):

        def generate(cycles):
            for _ in range(cycles):
                for index in batches:
                    yield inputs[index], y[index]

        if kind == "generator":
            return Feed((_endless(generate),), {steps_key: partition.steps})
        return Feed((generate(1),))
    if kind == "numpy":
        order = partition.indices()
        return Feed((inputs[order], y[order]), {"batch_size": partition.batch_sizes[0]})
    import tensorflow as tf

    if kind == "tf.data":
        order = partition.indices()
        data = tf.data.Dataset.from_tensor_slices((inputs[order], y[order]))
        return Feed((data.batch(partition.batch_sizes[0], drop_remainder=bool(partition.dropped)),))
    signature = (
        tf.TensorSpec([None, inputs.shape[1]], tf.as_dtype(inputs.dtype)),
        tf.TensorSpec([None, y.shape[1]], tf.float32),
    )
    data = tf.data.Dataset.from_generator(lambda: ((inputs[i], y[i]) for i in batches), output_signature=signature)
    return Feed((data,))


def as_validation(given: Feed) -> dict:
    """A feed's data and arguments as ``fit``'s validation keywords."""
    kwargs = {}
    data = given.args if len(given.args) > 1 else given.args[0]
    kwargs["validation_data"] = data
    for key, value in given.kwargs.items():
        kwargs["validation_batch_size" if key == "batch_size" else "validation_steps"] = value
    return kwargs


def _endless(generate):
    """A generator that cycles for as many epochs as the loop asks."""
    while True:
        yield from generate(1)
