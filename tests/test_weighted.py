"""Weighted loops through the real Keras loop: sample weights, class weights and weighted_metrics, judged against
sklearn with ``sample_weight`` (the golden numbers below are sklearn's)."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

import f1check
from f1check import Partition, examples

W = "fixtures.weighted"
N = 257


@pytest.fixture(scope="module")
def imbalanced():
    """257 samples, a third positive, weights 0 to 3 and five at 0.5: fed in batches of 32 and a last one of 1."""
    rng = np.random.default_rng(11)
    y = (rng.random(N) < 0.33).astype("float32")
    s = np.clip(0.5 + (y - 0.5) * rng.uniform(-0.6, 1.0, N), 0, 1).astype("float32")
    w = rng.integers(0, 4, N).astype("float32")
    w[rng.choice(N, 5, replace=False)] = 0.5
    return y, s, w


THIRTY_TWO = Partition([32] * 8 + [1])


def test_sklearns_weighted_value_is_the_reference_and_an_ignoring_metric_is_named(imbalanced):
    y, s, w = imbalanced
    weighted, unweighted = f1_score(y, s > 0.5, sample_weight=w), f1_score(y, s > 0.5)
    assert abs(weighted - unweighted) > 0.01  # the weights matter on this data
    right = f1check.check(examples.keras_f1_score, data=(y, s, w), partitions=[THIRTY_TWO], weighted=True,
                          weights=["sample"]).results[0]
    assert right.passed and right.worst.reported == pytest.approx(weighted, abs=1e-5)
    assert right.worst.f1_seen == pytest.approx(weighted, abs=1e-12)
    ignoring = f1check.check(examples.StreamingF1, data=(y, s, w), partitions=[THIRTY_TWO], weighted=True,
                             weights=["sample"]).results[0]
    assert not ignoring.passed and ignoring.worst.reported == pytest.approx(unweighted, abs=1e-5)
    assert [r.code for r in ignoring.why] == ["ignores-sample-weights"]
    assert f"{unweighted:.6f}" in ignoring.why[0].text
    # an unweighted target in a weighted loop gets no weights from Keras, and is judged unweighted: it passes
    plain = f1check.check(examples.StreamingF1, data=(y, s, w), partitions=[THIRTY_TWO], weights=["sample"])
    assert plain.passed and plain.results[0].worst.f1_seen == pytest.approx(unweighted, abs=1e-12)


def test_class_weights_reach_weighted_metrics_in_fit_and_not_the_validation_pass(imbalanced):
    y, s, _ = imbalanced
    class_weight = {0: 1.0, 1: 2.5}
    for mode in ("fit", "validation"):
        right = f1check.check(examples.keras_f1_score, modes=[mode], data=(y, s), partitions=[THIRTY_TWO],
                              weighted=True, weights=["class"], class_weight=class_weight).results[0]
        assert right.passed, (mode, str(right.worst))
        ignoring = f1check.check(examples.StreamingF1, modes=[mode], data=(y, s), partitions=[THIRTY_TWO],
                                 weighted=True, weights=["class"], class_weight=class_weight).results[0]
        # Keras weighs the training pass by class, never the validation pass
        assert ignoring.passed is (mode == "validation"), (mode, ignoring.why)
        if mode == "fit":
            assert [r.code for r in ignoring.why] == ["ignores-sample-weights"]


@pytest.mark.parametrize("subject, code", [
    ("MaskWeightedF1", "weights-as-mask"), ("SquaredWeightedF1", "weights-applied-twice"),
    ("TruePositiveWeightedF1", "weights-on-true-positives"),
])
@pytest.mark.parametrize("mode", ["evaluate", "fit", "validation"])
def test_each_weighting_bug_fails_from_the_first_examples_with_its_reason(subject, code, mode):
    result = f1check.check(f"{W}:{subject}", modes=[mode], examples=4, seed=1, weighted=True,
                           weights=["sample"]).results[0]
    assert not result.passed and [r.code for r in result.why] == [code]


@pytest.mark.parametrize("mode", ["evaluate", "fit", "validation"])
def test_right_weighted_subjects_pass_fuzzed_weighted_loops(mode):
    kinds = ["none", "sample", "class"] if mode != "evaluate" else ["none", "sample"]
    for subject in (f"{W}:WeightedF1", f"{W}:keras_f1"):
        assert f1check.check(subject, modes=[mode], examples=8, weighted=True, weights=kinds).passed, subject
    counts = {"callback_key": "val_f1" if mode == "validation" else "f1",
              "callback_metrics": [f"{W}:tp", f"{W}:fp", f"{W}:fn"]}
    assert f1check.check(f"{W}:F1FromWeightedCounts", modes=[mode], examples=8, weighted=True, weights=kinds,
                         **counts).passed
    # a factory (model, x, y, sample_weight) that scores with sklearn, given the weights of the data it scores
    assert f1check.check(f"{W}:weighted_sklearn_f1", modes=[mode], examples=8, weighted=True, weights=kinds,
                         callback_key="val_f1").passed


def test_a_per_batch_function_under_weighted_metrics_is_an_error_that_says_what_to_write():
    with pytest.raises(f1check.SubjectError, match="metric function under weighted_metrics.*stateful") as info:
        f1check.check(f"{W}:per_batch_f1", weighted=True, weights=["sample"], examples=2)
    assert info.value.code == "weighted-function"


def test_a_weighted_counterexample_reproduces_with_its_weights():
    result = f1check.check(f"{W}:MaskWeightedF1", examples=4, weighted=True, weights=["sample"]).results[0]
    assert "data=(y_true, scores, sample_weight)" in result.reproduce and "weighted=True" in result.reproduce
    assert f1check.reporting.report.result_json(result)["counterexample"]["weights"] == "sample"
    with pytest.raises(f1check.F1CheckFailure, match=f"{result.counterexample.reported:.6f}"):
        exec(result.reproduce, {})


# -- callback factories that take the weights: (model, x, y, sample_weight) -------------------------------------

VAL = {"modes": ["validation"], "callback_key": "val_f1", "examples": 4, "seed": 1}


@pytest.fixture
def seen():
    """What `recording_sklearn_f1` is given, emptied before and after the test."""
    from fixtures import weighted

    weighted.SEEN.clear()
    yield weighted.SEEN
    weighted.SEEN.clear()


def test_a_weighted_sklearn_callback_factory_is_judged_weighted_and_one_dropping_its_weights_fails():
    for right in ("weighted_sklearn_f1", "weighted_sklearn_f1_by_keyword", "weighted_sklearn_f1_keyword_only",
                  "weighted_sklearn_f1_positional"):
        assert f1check.check(f"{W}:{right}", weighted=True, weights=["sample"], **VAL).passed, right
    dropping = f1check.check(f"{W}:sklearn_f1_dropping_weights", weighted=True, weights=["sample"], **VAL).results[0]
    assert not dropping.passed and dropping.worst.reported != pytest.approx(dropping.worst.f1_all, abs=1e-6)
    # its reason weighs the data as the judged pass does: "ignores its sample weights" among the readings left, and
    # no reading that only the unweighted numbers made match (zero_division, the weights as a mask, applied twice)
    said = " ".join(reason.text for reason in dropping.why)
    assert "ignores its sample weights" in said, said
    assert not {r.code for r in dropping.why} & {"zero-division", "weights-as-mask", "weights-applied-twice"}, said
    assert "as a 0/1 mask" not in said and "weight squared" not in said and "zero_division = 1" not in said, said


def test_a_factory_gets_the_weights_of_the_data_it_is_given_in_every_mode(imbalanced, seen):
    y, s, w = imbalanced
    for mode in ("evaluate", "fit", "validation"):
        seen.clear()
        result = f1check.check(f"{W}:recording_sklearn_f1", modes=[mode], data=(y, s, w), partitions=[THIRTY_TWO],
                               weighted=True, weights=["sample"], callback_key="val_f1").results[0]
        assert result.passed, (mode, str(result.worst))
        assert seen and all(given is not None and np.array_equal(given, w) for given in seen), mode


def test_under_class_weights_a_factory_gets_them_where_keras_weighs_by_class_and_none_in_validation(imbalanced, seen):
    y, s, _ = imbalanced
    class_weight = {0: 1.0, 1: 2.5}
    for mode in ("fit", "validation"):
        seen.clear()
        result = f1check.check(f"{W}:recording_sklearn_f1", modes=[mode], data=(y, s), partitions=[THIRTY_TWO],
                               weighted=True, weights=["class"], class_weight=class_weight,
                               callback_key="val_f1").results[0]
        assert result.passed, (mode, str(result.worst))
        expected = np.where(y == 1, 2.5, 1.0) if mode == "fit" else None
        assert seen and all(given is None if expected is None else np.array_equal(given, expected)
                            for given in seen), mode


def test_a_factory_taking_weights_gets_none_in_an_unweighted_check(seen):
    assert f1check.check(f"{W}:recording_sklearn_f1", weights=["sample"], **VAL).passed
    assert seen and all(given is None for given in seen)


def test_a_three_argument_factory_still_gets_the_model_and_data():
    unweighted = {"callback_key": "f1", "modes": ["validation"], "examples": 4, "seed": 1}
    assert f1check.check(f"{W}:unweighted_predict_f1", weights=["sample"], **unweighted).passed
    assert not f1check.check(f"{W}:unweighted_predict_f1", weighted=True, weights=["sample"], **unweighted).passed


def test_the_search_replays_a_factory_with_the_weights_the_loop_gives_it(imbalanced):
    """Candidates are judged by replay before the loop confirms them: the factory built there gets the weights too."""
    from f1check.core.modes import Mode
    from f1check.core.settings import argument_source, build
    from f1check.core.weights import Weights, WeightsKind
    from f1check.loops import LoopSettings
    from f1check.loops.drivers import Driver
    from f1check.search.candidates import Candidate, Replayer
    from f1check.subjects.context import CheckInputs

    y, s, w = imbalanced
    chosen = build({"modes": ["validation"], "weights": ["sample"], "weighted": True}, argument_source)
    context = CheckInputs.build(f"{W}:weighted_sklearn_f1", chosen, callback_key="val_f1").context(Mode.VALIDATION)
    candidate = Candidate(y.reshape(-1, 1), s.reshape(-1, 1), THIRTY_TWO, LoopSettings(weights=WeightsKind.SAMPLE),
                          Weights(sample=w))
    judged = Replayer(context, Driver(context)).assess([candidate])[0]
    assert judged.f1_all == pytest.approx(f1_score(y, s > 0.5, sample_weight=w), abs=1e-12)
    assert judged.passed and judged.replayed == pytest.approx(judged.f1_all, abs=1e-9)
