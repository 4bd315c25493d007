"""The fast path agrees with the real loop, and the count reference with sklearn."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support import driver

from f1check import examples, strategies
from f1check.core import settings as names
from f1check.judging import reference
from f1check.loops.replay import CompiledReplay, eager_replay
from f1check.subjects.carried import carried_state
from f1check.subjects.targets import resolve
from fixtures.subjects import PartialResetF1, RawVariableF1

SEM = names.Semantics()


def fed_of(y, s, partition):
    index = partition.indices()[: partition.fed]
    return y[index], s[index], partition.batch_sizes, None


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
    replay = CompiledReplay.build([target], (y[:2], s[:2]))
    partitions = draw_partitions(120, 10, 1)
    replayed = replay([fed_of(y, s, p) for p in partitions])[:, 0]
    loop = driver(target, "evaluate", SEM)
    for p, value in zip(partitions, replayed):
        logged = loop.run(y, s, p).epochs[0].reported  # model.evaluate over exactly p's batches
        assert logged == pytest.approx(value, abs=1e-6), p
    assert replay.traces == 1


def test_compiled_and_eager_replay_agree_and_trace_once():
    rng = np.random.default_rng(3)
    y = (rng.random((500, 1)) < 0.2).astype("float32")
    s = rng.random((500, 1)).astype("float32")
    targets = [resolve(examples.naive_f1), resolve(examples.StreamingF1)]  # replayed together, as companions are
    replay = CompiledReplay.build(targets, (y[:2], s[:2]))
    partitions = draw_partitions(500, 60, 5)
    chunks = [partitions[i : i + 7] for i in range(0, 60, 7)]  # chunks of varying batch sizes and counts
    for chunk in chunks:
        fed = [fed_of(y, s, p) for p in chunk]
        np.testing.assert_allclose(replay(fed), eager_replay(targets, fed), atol=1e-6)
    assert replay.traces == 1


def test_carried_state_is_found_by_behaviour_even_in_untracked_variables():
    assert carried_state(resolve(examples.StreamingF1), 1, "binary") is None
    assert carried_state(resolve(examples.keras_f1_score), 1, "binary") is None
    assert carried_state(resolve(examples.naive_f1), 1, "binary") is None
    broken = carried_state(resolve(examples.NeverResetF1), 1, "binary")
    # the probe's second batch (tp=2, fp=0, fn=1) alone: F1 0.8; after the first (tp=3, fp=1, fn=2): 10/14
    assert broken is not None and broken.fresh == pytest.approx(0.8) and broken.after_reset == pytest.approx(10 / 14)
    # Counts in raw tf.Variable attributes: metric.variables is empty, reset_state() does nothing.
    raw = carried_state(resolve(RawVariableF1), 1, "binary")
    assert resolve(RawVariableF1).fresh_metric().variables == []
    assert raw is not None and {("tp", "3"), ("fp", "1"), ("fn", "2")} <= set(raw.leftovers)


@pytest.mark.parametrize("forgets, kept, after", [("tp", "3", 10 / 11), ("fp", "1", 4 / 6), ("fn", "2", 4 / 7)])
def test_a_reset_that_forgets_any_one_count_is_found(forgets, kept, after):
    subject = type(f"Forgets{forgets}", (PartialResetF1,), {"forgets": forgets})
    found = carried_state(resolve(subject), 1, "binary")
    assert found is not None and found.fresh == pytest.approx(0.8) and found.after_reset == pytest.approx(after)
    assert found.leftovers == ((forgets, kept),)  # named once, though tracked and an attribute's value


def _semantics(task, average, zero_division, threshold, score, beta):
    values = {"task": task, "average": None if task != "binary" and average == "binary" else average,
              "zero_division": zero_division, "threshold": threshold, "score": score}
    if score == "fbeta":
        values["beta"] = beta
    if score == "mcc" and task == "multilabel":
        values["task"] = "multiclass"
    return names.semantics(values, names.argument_source)


SEMANTICS = st.builds(
    _semantics,
    st.sampled_from(names.TASKS),
    st.sampled_from(names.AVERAGES),
    st.sampled_from([0, 1, "nan", "warn"]),
    st.sampled_from([0.5, 0.3]),
    st.sampled_from(names.SCORES),
    st.sampled_from([0.5, 2.0]),
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(semantics=SEMANTICS, data=st.data())
def test_count_reference_agrees_with_sklearn(semantics, data):
    chosen = names.CheckSettings(semantics=semantics)
    y, s = data.draw(strategies.data_for(chosen, max_size=3000))
    semantics = semantics.with_classes(y.shape[1])
    partition = data.draw(strategies.partitions(len(y), max_batches=8))
    confusion = reference.Confusion(y, s, semantics)
    order = partition.indices()
    fed = order[: partition.fed]
    expected_seen = reference.reference(y[fed], s[fed], semantics)
    expected_all = reference.reference(y, s, semantics)
    for got, expected in ((confusion.fed(order, partition.fed), expected_seen), (confusion.all, expected_all)):
        assert got == pytest.approx(expected, abs=1e-12, nan_ok=True)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(semantics=SEMANTICS, data=st.data())
def test_the_weighted_count_reference_is_sklearns_with_sample_weight(semantics, data):
    from dataclasses import replace

    semantics = replace(semantics, weighted=True)
    y, s = data.draw(strategies.data_for(names.CheckSettings(semantics=semantics), max_size=2000))
    semantics = semantics.with_classes(y.shape[1])
    w = data.draw(strategies.sample_weights(len(y)))
    assume(w.sum() > 0)
    expected = reference.reference(y, s, semantics, w)  # sklearn's, called with sample_weight=w
    assert reference.Confusion(y, s, semantics, w).all == pytest.approx(expected, abs=1e-9, nan_ok=True)


def test_the_weighted_reference_is_sklearns_and_keeps_its_invariances():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(4)
    y = (rng.random((400, 1)) < 0.3).astype("float32")
    s = rng.random((400, 1)).astype("float32")
    w = rng.choice([0.0, 1.0, 2.0, 3.0], size=400).astype("float32")
    weighted = names.Semantics(weighted=True)
    value = reference.reference(y, s, weighted, w)
    assert value == pytest.approx(f1_score(y.ravel(), s.ravel() > 0.5, sample_weight=w), abs=1e-12)
    assert reference.reference(y, s, names.Semantics(), w) != value  # an unweighted target ignores the weights
    keep = w > 0  # a zero weight removes the sample
    assert reference.reference(y[keep], s[keep], weighted, w[keep]) == pytest.approx(value, abs=1e-12)
    repeated = np.repeat(np.arange(400), w.astype(int))  # an integer weight repeats it
    assert reference.reference(y[repeated], s[repeated], names.Semantics()) == pytest.approx(value, abs=1e-12)
    assert reference.reference(y, s, weighted, 7.5 * w) == pytest.approx(value, abs=1e-12)  # scaling changes nothing
