"""The fast path agrees with the real loop, and the count reference with sklearn."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from f1check import options, reference, strategies

keras = pytest.importorskip("keras")
examples = pytest.importorskip("f1check.examples")

from f1check import drivers  # noqa: E402
from f1check.replay import CompiledReplay, resets_cleanly, slow_replay  # noqa: E402
from f1check.subjects import resolve  # noqa: E402

SEM = options.Semantics(classes=1)


def fed_of(y, s, partition):
    index = partition.indices()[: partition.fed]
    return y[index], s[index], partition.batch_sizes


def draw_partitions(n, count, seed_value):
    from hypothesis import seed

    found = []

    @seed(seed_value)
    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategies.partitions(n, max_batches=12))
    def collect(p):
        found.append(p)

    collect()
    return found[:count]


@pytest.mark.parametrize(
    "subject", [examples.naive_f1, examples.StreamingF1, examples.keras_f1_score], ids=["function", "streaming", "F1Score"]
)
def test_replay_and_the_real_loop_agree_on_many_partitions(subject):
    rng = np.random.default_rng(7)
    y = (rng.random((120, 1)) < 0.3).astype("float32")
    s = np.round(rng.random((120, 1)) * 10).astype("float32") / 10  # ties at 0.5 included
    target = resolve(subject)
    replay = CompiledReplay.build(target, (y[:2], s[:2]), "binary")
    partitions = draw_partitions(120, 10, 1)
    replayed = replay([fed_of(y, s, p) for p in partitions])
    for p, value in zip(partitions, replayed):
        observation = drivers.evaluate(target, y, s, p, SEM)
        assert observation.reported == pytest.approx(value, abs=1e-6), p
    assert replay.traces == 1


def test_compiled_and_slow_replay_agree_and_trace_once():
    rng = np.random.default_rng(3)
    y = (rng.random((500, 1)) < 0.2).astype("float32")
    s = rng.random((500, 1)).astype("float32")
    target = resolve(examples.naive_f1)
    replay = CompiledReplay.build(target, (y[:2], s[:2]), "binary")
    partitions = draw_partitions(500, 60, 5)
    chunks = [partitions[i : i + 7] for i in range(0, 60, 7)]  # chunks of varying batch sizes and counts
    for chunk in chunks:
        fed = [fed_of(y, s, p) for p in chunk]
        np.testing.assert_allclose(replay(fed), slow_replay(target, fed), atol=1e-6)
    assert replay.traces == 1


def test_reset_check_tells_broken_resets_apart():
    assert resets_cleanly(resolve(examples.StreamingF1), 1, "binary")
    assert resets_cleanly(resolve(examples.keras_f1_score), 1, "binary")
    assert not resets_cleanly(resolve(examples.NeverResetF1), 1, "binary")


SEMANTICS = st.builds(
    lambda task, average, zero_division, threshold: options.semantics(
        task_name=task,
        average_name=None if task != "binary" and average == "binary" else average,
        zero_division_value=zero_division,
        threshold_value=threshold,
    ),
    st.sampled_from(options.TASKS),
    st.sampled_from(options.AVERAGES),
    st.sampled_from([0, 1, "nan", "warn"]),
    st.sampled_from([0.5, 0.3]),
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(semantics=SEMANTICS, data=st.data())
def test_count_reference_agrees_with_sklearn(semantics, data):
    y, s = data.draw(
        strategies.data_for(semantics.task, classes=None, threshold=semantics.threshold, max_size=3000)
    )
    semantics = options.Semantics(**{**semantics.__dict__, "classes": y.shape[1]})
    partition = data.draw(strategies.partitions(len(y), max_batches=8))
    confusion = reference.Confusion(y, s, semantics)
    order = partition.indices()
    fed = order[: partition.fed]
    expected_seen = reference.f1(y[fed], s[fed], semantics)
    expected_all = reference.f1(y, s, semantics)
    for got, expected in ((confusion.f1_fed(order, partition.fed), expected_seen), (confusion.f1_all, expected_all)):
        assert got == pytest.approx(expected, abs=1e-12, nan_ok=True)
