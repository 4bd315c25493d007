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

The last two need TensorFlow.  Feeds without steps are where Keras's
phantom step appears (DESIGN.md §2).
"""

from __future__ import annotations

from .errors import ConfigError, did_you_mean, one_of
from .partitions import Partition

FEEDS = ("pydataset", "generator", "generator-no-steps", "numpy", "tf.data", "tf.data-unknown")
UNIFORM = ("numpy", "tf.data")  # feeds that can only cut equal batches (and a smaller last one)
NO_STEPS = ("generator-no-steps", "tf.data-unknown")
TENSORFLOW_ONLY = ("tf.data", "tf.data-unknown")


def feeds_for(mode: str, backend: str) -> tuple[str, ...]:
    """The feeds a mode can use on a backend."""
    kinds = [k for k in FEEDS if backend == "tensorflow" or k not in TENSORFLOW_ONLY]
    if mode != "evaluate":
        kinds.remove("generator-no-steps")  # a generator object cannot be restarted for epoch 2
    if mode == "fit-dropped":
        kinds.remove("numpy")  # arrays always feed the remainder batch
        if "tf.data-unknown" in kinds:
            kinds.remove("tf.data-unknown")
    return tuple(kinds)


def validate(feeds, source: str = "the feeds= argument") -> tuple[str, ...] | None:
    if feeds is None:
        return None
    if isinstance(feeds, str):
        feeds = (feeds,)
    out = []
    for kind in feeds:
        if kind not in FEEDS:
            raise ConfigError(
                f"Invalid feed {kind!r} (from {source}): valid feeds are {one_of(FEEDS)}.{did_you_mean(kind, FEEDS)}"
            )
        out.append(kind)
    if not out:
        raise ConfigError(f"Invalid feeds {feeds!r} (from {source}): give at least one feed, or None for all.")
    return tuple(dict.fromkeys(out))


def fits(kind: str, partition: Partition) -> bool:
    """Whether ``kind`` can feed ``partition`` exactly."""
    if kind not in UNIFORM:
        return True
    sizes = partition.batch_sizes
    size = sizes[0]
    if kind == "numpy" and partition.dropped:
        return False
    if partition.dropped:  # tf.data with drop_remainder=True
        return all(s == size for s in sizes) and partition.dropped < size
    return all(s == size for s in sizes[:-1]) and sizes[-1] <= size


def uniform_batch_size(partition: Partition) -> int:
    return partition.batch_sizes[0]


def describe(kind: str) -> str:
    return {
        "pydataset": "a keras.utils.PyDataset with steps",
        "generator": "a Python generator with steps",
        "generator-no-steps": "a Python generator without steps",
        "numpy": "numpy arrays with batch_size",
        "tf.data": "a tf.data.Dataset (known cardinality)",
        "tf.data-unknown": "a tf.data.Dataset of unknown cardinality without steps",
    }[kind]


def feed(kind: str, inputs, y, partition: Partition, *, training: bool, dataset_class):
    """``(data_args, kwargs)`` for ``model.fit``/``model.evaluate`` feeding ``partition`` as ``kind``."""
    steps_key = "steps_per_epoch" if training else "steps"
    batches = partition.batches()
    if kind == "pydataset":
        return (dataset_class(inputs, y, partition),), {steps_key: partition.steps}
    if kind in ("generator", "generator-no-steps"):

        def generate(cycles):
            for _ in range(cycles):
                for index in batches:
                    yield inputs[index], y[index]

        if kind == "generator":
            return (_endless(generate),), {steps_key: partition.steps}
        return (generate(1),), {}
    if kind == "numpy":
        order = partition.indices()
        return (inputs[order], y[order]), {"batch_size": uniform_batch_size(partition)}
    import tensorflow as tf

    if kind == "tf.data":
        order = partition.indices()
        data = tf.data.Dataset.from_tensor_slices((inputs[order], y[order]))
        return (data.batch(uniform_batch_size(partition), drop_remainder=bool(partition.dropped)),), {}
    signature = (
        tf.TensorSpec([None, inputs.shape[1]], tf.as_dtype(inputs.dtype)),
        tf.TensorSpec([None, y.shape[1]], tf.float32),
    )
    data = tf.data.Dataset.from_generator(lambda: ((inputs[i], y[i]) for i in batches), output_signature=signature)
    return (data,), {}


def _endless(generate):
    """A generator that cycles for as many epochs as the loop asks."""
    while True:
        yield from generate(1)
