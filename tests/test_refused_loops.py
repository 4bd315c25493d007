"""Loops Keras refuses: f1check never draws a feed with weights Keras will not take, and never blames the subject
when Keras refuses the loop's own arguments.

What plain Keras 3.15.1 refuses (checked by hand, and by ``keras_takes`` below on every run): ``class_weight`` with a
Python generator (``generator``, ``generator-no-steps``), in ``fit`` and as the training data of the validation
modes (``ValueError: Argument `class_weight` is not supported for Python generator inputs``); ``class_weight`` on a
model of two outputs, whatever the feed; and ``class_weight`` in ``evaluate`` (no such argument).  PyDataset, numpy
arrays and tf.data (known or unknown cardinality) take it in ``fit`` and the validation modes; every feed takes
per-sample weights in every mode.
"""

import functools
import itertools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

import f1check
from f1check import Partition, examples
from f1check.core.errors import ConfigError, LoopError
from f1check.core.feeds import Feed
from f1check.core.modes import Mode
from f1check.core.settings import argument_source, build
from f1check.core.weights import Weights, WeightsKind
from f1check.loops import LoopSettings
from f1check.loops.drivers.harness import refused_arguments
from f1check.search.adversarial import fixed_runs
from f1check.search.candidates import cases
from f1check.subjects.context import CheckInputs

W = "fixtures.weighted"
CLASS_WEIGHT = {0: 0.5, 1: 2.0}
TRAINING_MODES = [m for m in Mode if m.takes_class_weights]  # reloaded is given no class_weight


@functools.lru_cache(maxsize=None)
def keras_takes(feed: Feed, kind: WeightsKind, validates: bool) -> bool:
    """Whether plain Keras runs a tiny ``fit`` fed by ``feed`` with weights of ``kind`` (no f1check involved);
    ``validates``: the same feed also as ``validation_data``."""
    import keras
    import tensorflow as tf

    n, size = 8, 4
    x = np.linspace(0, 1, n, dtype=np.float32)[:, None]
    y = (x > 0.5).astype(np.float32)
    w = np.linspace(0.5, 2, n, dtype=np.float32) if kind.per_sample else None
    parts = (x, y) if w is None else (x, y, w)

    def batches(cycles):
        for _ in range(cycles):
            for k in range(0, n, size):
                yield tuple(p[k:k + size] for p in parts)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return n // size

        def __getitem__(self, k):
            return tuple(p[k * size:(k + 1) * size] for p in parts)

    def fed():
        if feed is Feed.NUMPY:
            return parts[:2], {"batch_size": size, **({"sample_weight": w} if w is not None else {})}
        if feed is Feed.TF_DATA:
            return (tf.data.Dataset.from_tensor_slices(parts).batch(size),), {}
        if feed is Feed.TF_DATA_UNKNOWN:
            spec = (tf.TensorSpec([None, 1]),) * 2 + ((tf.TensorSpec([None]),) if w is not None else ())
            return (tf.data.Dataset.from_generator(lambda: batches(1), output_signature=spec),), {}
        if feed is Feed.PYDATASET:
            return (Batches(),), {"steps_per_epoch": n // size}
        if feed is Feed.GENERATOR:
            return (batches(10),), {"steps_per_epoch": n // size}
        return (batches(1),), {}

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", weighted_metrics=[keras.metrics.F1Score(threshold=0.5)])
    args, kwargs = fed()
    if validates:
        data, more = fed()
        kwargs["validation_data"] = (*data, more["sample_weight"]) if "sample_weight" in more else (
            data if len(data) > 1 else data[0])
    try:
        with warnings.catch_warnings():  # the probe asks only whether Keras takes the arguments: not its advice on
            warnings.simplefilter("ignore", UserWarning)  # shuffling generators or on a generator run out
            model.fit(*args, epochs=1, verbose=0, shuffle=False, **kwargs,
                      **({"class_weight": CLASS_WEIGHT} if kind.by_class else {}))
    except ValueError:
        return False
    return True


def drawn_pairs(mode: Mode, kinds: list[str], feeds=None) -> set:
    """The (feed, weight kind) pairs of the fixed examples and of drawn candidates of ``mode``."""
    chosen = build({"modes": [mode.value], "weights": kinds, "weighted": True, "feeds": feeds}, argument_source)
    context = CheckInputs.build(examples.keras_f1_score, chosen).context(mode)
    runs = fixed_runs(chosen, mode, context.feeds, None, context.weight_kinds)
    pairs = {(run.loop.feed, run.loop.weights) for run in runs.runs}

    @hypothesis_settings(max_examples=60, database=None, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(cases(context, max_batches=4))
    def draw(candidate):
        assert candidate.loop.weights is candidate.weights.kind
        pairs.add((candidate.loop.feed, candidate.loop.weights))

    draw()
    return pairs


@pytest.mark.parametrize("mode", TRAINING_MODES, ids=str)
def test_every_pair_drawn_in_a_training_mode_runs_in_plain_keras_and_class_weights_are_drawn(mode):
    pairs = drawn_pairs(mode, ["none", "sample", "class"])
    refused = [(str(f), str(k)) for f, k in pairs if not keras_takes(f, k, mode.validates)]
    assert refused == [], refused
    assert {k for _, k in pairs} == set(WeightsKind), pairs  # class weights are still drawn, with other feeds
    assert any(f.python_generator for f, _ in pairs), pairs  # generators too, with the other kinds


@pytest.mark.parametrize(("mode", "feed"), [(m, f) for m in TRAINING_MODES for f in Feed
                                             if f.python_generator and f.can_feed(m)], ids=str)
def test_class_weights_with_a_generator_are_never_drawn_even_when_both_are_all_the_check_allows(mode, feed):
    assert not keras_takes(feed, WeightsKind.CLASS, mode.validates)  # what Keras refuses, seen with plain Keras
    assert drawn_pairs(mode, ["none", "class"], [feed.value, "numpy"]) <= {
        (feed, WeightsKind.NONE), (Feed.NUMPY, WeightsKind.NONE), (Feed.NUMPY, WeightsKind.CLASS)}
    with pytest.raises(ConfigError, match="class_weight for Python generator"):
        f1check.check(f"{W}:WeightedF1", modes=[mode.value], weighted=True, weights=["class"], feeds=[feed.value])


def test_the_weight_kinds_say_what_keras_takes_with_each_feed():
    for feed, kind in itertools.product(Feed, WeightsKind):
        assert kind.carried_by(feed) is keras_takes(feed, kind, False), (feed, kind)


def test_class_weights_on_a_two_output_model_are_a_configuration_error():
    with pytest.raises(ConfigError, match="class_weight for a model of two outputs"):
        f1check.check(f"{W}:WeightedF1", modes=["fit"], weighted=True, weights=["class"], output="label")


def test_keras_refusing_the_loops_own_arguments_is_never_blamed_on_the_subject():
    loop, weights = LoopSettings(feed=Feed.GENERATOR, weights=WeightsKind.CLASS), Weights(class_weight=CLASS_WEIGHT)
    refusal = ValueError(f"Argument `class_weight` is not supported for Python generator inputs. "
                         f"Received: class_weight={CLASS_WEIGHT}")
    error = refused_arguments(refusal, loop, weights, "model.fit")
    assert isinstance(error, LoopError) and not isinstance(error, f1check.SubjectError)
    assert "not the subject's" in str(error) and "a Python generator with steps" in str(error)
    assert refused_arguments(ValueError("the subject's own shapes do not match"), loop, weights, "model.fit") is None


def test_a_metric_that_applies_class_weights_twice_fails_with_every_feed_and_a_right_one_passes():
    # the held-back weighted repo's case; the generators first, where the fixed examples take the first feed that fits
    everything = sorted((f.value for f in Feed), key=lambda name: not Feed(name).python_generator)
    wrong = f1check.check(f"{W}:SquaredWeightedF1", modes=["fit"], weights=["class"], weighted=True, feeds=everything,
                          examples=6)
    result = wrong.results[0]
    assert not result.passed and [r.code for r in result.why] == ["weights-applied-twice"], str(result)
    assert not any(run.loop.feed.python_generator for run in result.runs)
    assert f1check.check(f"{W}:WeightedF1", modes=["fit"], weights=["class"], weighted=True, feeds=everything,
                         examples=6).passed


def test_given_data_and_class_weights_fail_a_metric_that_squares_them_with_every_feed():
    # plain Keras by hand (fit, learning rate 0, batches of 16): SquaredWeightedF1 logs 0.926045 on 64 samples where
    # sklearn with the class weights as sample weights gives 0.757895 (the squared weights' value)
    rng = np.random.default_rng(0)
    y = (rng.random((48, 1)) < 0.4).astype(np.float32)
    s = np.clip(0.5 + (y - 0.5) * rng.uniform(-0.6, 1.0, (48, 1)), 0, 1).astype(np.float32)
    kwargs = {"modes": ["fit"], "weights": ["class"], "weighted": True, "feeds": [f.value for f in Feed],
              "data": (y, s), "partitions": [Partition([16, 16, 16])], "class_weight": CLASS_WEIGHT}
    result = f1check.check(f"{W}:SquaredWeightedF1", **kwargs).results[0]
    assert not result.passed and {run.loop.feed for run in result.runs} == {Feed.PYDATASET, Feed.NUMPY,
                                                                          Feed.TF_DATA, Feed.TF_DATA_UNKNOWN}
    assert f1check.check(f"{W}:WeightedF1", **kwargs).passed


def test_a_partition_only_a_generator_gives_is_fed_by_a_pydataset_when_the_loop_has_class_weights():
    uneven = Partition([5, 2, 5])  # numpy cuts equal batches: of the feeds allowed only the generator gives it
    report = f1check.check(f"{W}:WeightedF1", modes=["fit"], weighted=True, weights=["class"], examples=3,
                           feeds=["generator", "numpy"], partitions=[uneven])
    assert report.passed and {run.loop.feed for run in report.results[0].runs} == {Feed.PYDATASET}
