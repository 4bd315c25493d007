"""Issue 35: a reason is stated only where its numbers tell it apart from every other reading that matches, its
advice is stated only where it makes the failing example pass, and its numbers are those of an example the failure
shows.  The numbers below were first checked by hand with plain Keras (``update_state`` on the fixtures' metrics)
and sklearn."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

import f1check
from f1check.core.settings import Semantics
from f1check.core.weights import Batch
from f1check.judging import mixups, readings
from f1check.judging.explain import Explanation
from f1check.reasons import Reason
from f1check.search import discriminate

R = "fixtures.reasons"
WEIGHTED = Semantics(task="binary", average="binary", weighted=True)


def _reading(code, semantics=WEIGHTED):
    found = [r for r in readings.readings(semantics, False) + mixups.mixups(semantics) if r.code == code]
    return found[0]


def _value(code, batches, semantics=WEIGHTED):
    return _reading(code, semantics).of_batches([Batch(np.asarray(y, np.float32)[:, None],
                                                       np.asarray(s, np.float32)[:, None],
                                                       None if w is None else np.asarray(w, np.float32))
                                                 for y, s, w in batches])


def test_clipping_and_true_positives_only_meet_where_the_issue_said_and_part_where_weights_pass_1():
    # a true positive of weight 1 and a false positive of 1.5: ClippedWeightF1 logs 0.666667 (plain Keras),
    # sklearn 0.571429, and weighing the true positives only gives 0.666667 too
    meet = [([1, 0], [0.9, 0.8], [1.0, 1.5])]
    assert f1_score([1, 0], [1, 1], sample_weight=[1, 1.5]) == pytest.approx(0.571429, abs=1e-6)
    assert _value("clipped-weights", meet) == pytest.approx(2 / 3) == _value("weights-on-true-positives", meet)
    # a true positive of 3, a false positive of 0.5, a false negative of 1: clipped 0.571429, tp only 0.75
    part = [([1, 0, 1], [0.9, 0.8, 0.2], [3.0, 0.5, 1.0])]
    assert _value("clipped-weights", part) == pytest.approx(4 / 7)
    assert _value("weights-on-true-positives", part) == pytest.approx(0.75)


def test_broadcast_weights_cancel_on_one_batch_and_not_over_two():
    # plain Keras, BroadcastWeightF1: 0.5 on the first batch alone (the unweighted F1), 0.557377 over both, where
    # sklearn says 0.571429 unweighted and 0.636364 weighted: tp = 5 * 1 + 3.5 * 1, fp = 5 + 3.5, fn = 5 * 1
    batches = [([1, 0, 1], [0.9, 0.8, 0.2], [3, 1, 1]), ([1, 0, 0], [0.7, 0.1, 0.6], [0.5, 1, 2])]
    assert _value("weights-broadcast", batches[:1]) == pytest.approx(0.5) == _value("ignores-sample-weights",
                                                                                    batches[:1])
    assert _value("weights-broadcast", batches) == pytest.approx(0.557377, abs=1e-6)
    assert _value("ignores-sample-weights", batches) == pytest.approx(0.571429, abs=1e-6)
    # per-batch normalised weights: tp = 3/5 + 0.5/3.5, fp = 1/5 + 2/3.5, fn = 1/5 (plain Keras: 0.604651)
    assert _value("weights-normalised-per-batch", batches) == pytest.approx(0.604651, abs=1e-6)


def test_the_kaggle_fbeta_drops_a_positive_scored_exactly_one_half():
    # fixtures.reasons.kaggle_fbeta in plain Keras: 0.5 (tp 1, fp 1, fn 1); sklearn's F2 counts the 0.5 as a
    # false negative: 0.357143
    semantics = Semantics(task="binary", average="binary", score="fbeta", beta=2.0)
    batch = [([1, 1, 0, 1], [0.5, 0.9, 0.7, 0.2], None)]
    assert _value("rounded-differences", batch, semantics) == pytest.approx(0.5)
    assert _value(None, batch, semantics) == pytest.approx(0.357143, abs=1e-6)


def test_weighted_and_macro_meet_on_balanced_labels_only():
    balanced, predicted = np.array([1] * 6 + [0] * 6), np.array([1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    assert f1_score(balanced, predicted, average="weighted") == pytest.approx(
        f1_score(balanced, predicted, average="macro"))  # 0.748252 both
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.2).astype(int)
    p = np.where(rng.random(200) < 0.8, y, 1 - y)
    assert abs(f1_score(y, p, average="weighted") - f1_score(y, p, average="macro")) > 0.05  # 0.799 vs 0.707


def test_a_clipping_metric_is_no_longer_told_to_weigh_its_false_positives_and_the_evidence_is_named():
    result = f1check.check(f"{R}:ClippedWeightF1", modes=["evaluate"], examples=10, seed=0, weighted=True,
                           weights=["sample"]).results[0]
    assert [r.code for r in result.why] == ["clipped-weights"]
    text = result.why[0].text
    assert "weights-on-true-positives" in text and "Told apart on" in text
    shown = {"counterexample's": result.counterexample, "worst example's": result.worst}
    whose = [name for name in shown if f"These numbers are the {name}" in text]
    assert whose and f"{shown[whose[0]].reported:.6f}" in text  # the numbers quoted are of the example named


def test_class_weights_that_clip_to_the_true_positives_ratio_are_told_apart():
    # class_weight {0: 0.5, 1: 2}: clipped to 0.5 and 1, the ratio weighing the true positives only (2 : 1) has
    # where nothing is missed; a missed positive parts them (hand-checked: clipped 0.571429, tp only 0.666667,
    # sklearn 0.615385 on [1, 0, 1] scored [0.9, 0.8, 0.2])
    rng = np.random.default_rng(35)
    y = (rng.random(60) < 0.4).astype("float32")
    s = np.clip(0.5 + (y - 0.5) * rng.uniform(-0.6, 1.0, 60), 0, 1).astype("float32")
    result = f1check.check(f"{R}:ClippedWeightF1", modes=["fit"], data=(y, s), weighted=True, weights=["class"],
                           class_weight={0: 0.5, 1: 2.0}, examples=6, seed=0).results[0]
    assert not result.passed and [r.code for r in result.why] == ["clipped-weights"], result.why


def test_advice_to_change_a_setting_is_stated_only_where_it_makes_the_example_pass():
    per_batch_f2 = f1check.check(f"{R}:f2_score", modes=["evaluate"], examples=10, seed=0).results[0]
    assert [r.code for r in per_batch_f2.why] == ["per-batch-mean", "other-score"]
    assert "alone would not make this example pass" in per_batch_f2.why[1].text
    weighted = f1check.check(f"{R}:weighted_average_f1", modes=["evaluate"], callback_key="val_f1", examples=10,
                             seed=0).results[0]
    assert 'set the target\'s average = "weighted"' in weighted.why[0].text
    assert f1check.check(f"{R}:weighted_average_f1", modes=["evaluate"], callback_key="val_f1", examples=10,
                         seed=0, average="weighted").passed  # the advice fixes it


class _Context:
    """What tell_apart reads of a check: a subject that cannot be fed directly (a callback)."""

    class subject:
        direct = None
        scores_itself = True


def test_readings_no_example_tells_apart_are_named_together_never_one_at_random():
    a = Explanation((Reason("macro-average", "the subject averages over both classes."),), "whole", None)
    b = Explanation((Reason("weighted-average", "the subject weighs the classes by support."),), "whole", None)

    class Example:
        explanations, fed_batches, replayed, n = (a, b), (), 0.748252, 12

    other = Example()
    alive, evidence = discriminate.tell_apart(Example, a, [Example, other], _Context)
    assert len(alive) == 2 and evidence == []
    reasons = discriminate.either(alive, Example)
    assert [r.code for r in reasons] == ["one-of-readings"]
    assert reasons[0].text.startswith("either the subject averages over both classes; or the subject weighs")


@pytest.mark.parametrize("subject, kwargs, code", [
    ("ClippedWeightF1", {"weighted": True, "weights": ["sample"]}, "clipped-weights"),
    ("BroadcastWeightF1", {"weighted": True, "weights": ["sample"]}, "weights-broadcast"),
    ("weighted_average_f1", {"callback_key": "val_f1"}, "weighted-average"),
])
def test_the_reason_does_not_depend_on_the_order_the_readings_are_tried(monkeypatch, subject, kwargs, code):
    from f1check.judging import explain

    tried = explain.choices
    monkeypatch.setattr(explain, "choices", lambda semantics, tie, form=None: [
        tried(semantics, tie, form)[0], *reversed(tried(semantics, tie, form)[1:])])
    result = f1check.check(f"{R}:{subject}", modes=["evaluate"], examples=10, seed=0, **kwargs).results[0]
    assert [r.code for r in result.why] == [code], result.why


def test_readings_that_meet_on_all_of_the_users_data_are_told_apart_by_constructed_examples():
    # every weight 1 but the false positives' 1.5, and no positive missed: clipping, weighing the true positives
    # only, a 0/1 mask and ignoring the weights all give the unweighted F1 on every subset of this data (plain
    # Keras: ClippedWeightF1 logs 0.833333 on the whole, sklearn says 0.769231); only an example with other weights
    # parts them
    y = np.array([1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0] * 2, "float32")
    s = np.array([0.9, 0.8, 0.1, 0.7, 0.6, 0.2, 0.3, 0.8, 0.9, 0.1, 0.95, 0.4] * 2, "float32")
    w = np.where((y == 0) & (s > 0.5), 1.5, 1.0).astype("float32")
    assert f1_score(y, s > 0.5, sample_weight=w) == pytest.approx(0.769231, abs=1e-6)
    result = f1check.check(f"{R}:ClippedWeightF1", modes=["evaluate"], data=(y, s, w), weighted=True,
                           weights=["sample"], examples=8, seed=0).results[0]
    assert [r.code for r in result.why] == ["clipped-weights"], result.why
    assert "a constructed example" in result.why[0].text and "ignores-sample-weights" in result.why[0].text
