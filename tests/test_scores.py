"""Precision, recall, F-beta and MCC through the same engine: sklearn references, verdicts, diagnosis."""

import numpy as np
import pytest
from sklearn.metrics import fbeta_score, matthews_corrcoef, precision_score, recall_score

import f1check
from f1check import Partition, examples
from f1check.data import worked_example

THIRDS = [Partition([100, 100, 100])]
SCORES = {  # score -> (beta, sklearn's function of (labels, predictions))
    "precision": (None, lambda t, p: precision_score(t, p, zero_division=0)),
    "recall": (None, lambda t, p: recall_score(t, p, zero_division=0)),
    "fbeta": (2.0, lambda t, p: fbeta_score(t, p, beta=2.0, zero_division=0)),
    "mcc": (None, matthews_corrcoef),
}
PER_BATCH = {"precision": examples.precision_m, "recall": examples.recall_m, "fbeta": examples.f2_m,
             "mcc": examples.mcc_m}
NAMES = {"precision": "precision", "recall": "recall", "fbeta": "F-beta (beta=2)", "mcc": "MCC"}


@pytest.mark.parametrize("score", sorted(SCORES))
def test_per_batch_scores_log_the_mean_of_sklearns_per_batch_values_on_the_worked_example(score):
    beta, sklearn = SCORES[score]
    y, s = worked_example()
    labels, predicted = y.ravel().astype(int), (s.ravel() > 0.5).astype(int)
    per_batch = np.mean([sklearn(labels[b], predicted[b]) for b in (slice(0, 100), slice(100, 200), slice(200, 300))])
    result = f1check.check(PER_BATCH[score], data=(y, s), partitions=THIRDS, score=score, beta=beta).results[0]
    worst = result.worst
    assert not result.passed
    assert worst.f1_all == pytest.approx(sklearn(labels, predicted), abs=1e-12)  # the reference is sklearn's
    assert worst.reported == pytest.approx(per_batch, abs=1e-5)
    assert any(f"the subject averages per-batch {NAMES[score]}" in reason.text for reason in worst.diagnosis)


@pytest.mark.parametrize("score", sorted(SCORES))
def test_per_batch_scores_fail_fuzzed_with_a_small_counterexample(score):
    beta = SCORES[score][0]
    result = f1check.check(PER_BATCH[score], score=score, beta=beta, examples=20, seed=0).results[0]
    assert not result.passed and result.counterexample.n <= 12
    assert result.score == score and result.counterexample.blame == "aggregation"


RIGHT = [("precision", examples.keras_precision), ("recall", examples.keras_recall), ("fbeta", examples.keras_f2),
         ("mcc", examples.StreamingMCC)]


@pytest.mark.parametrize("score, subject", RIGHT, ids=[r[0] for r in RIGHT])
def test_stateful_scores_pass_evaluate_fit_and_fit_dropped(score, subject):
    report = f1check.check(subject, score=score, beta=SCORES[score][0], modes=["evaluate", "fit", "fit-dropped"],
                           examples=8, seed=0)
    assert report.passed, str(report)
    assert [r.score for r in report.results] == [score] * 3


def test_bad_score_settings_are_refused():
    with pytest.raises(f1check.ConfigError, match="score='fbeta' needs beta"):
        f1check.check(examples.keras_f2, score="fbeta")
    with pytest.raises(f1check.ConfigError, match="beta belongs to score='fbeta'"):
        f1check.check(examples.keras_f2, score="precision", beta=2.0)
    with pytest.raises(f1check.ConfigError, match="matthews_corrcoef does not define MCC for multilabel"):
        f1check.check(examples.StreamingMCC, score="mcc", task="multilabel")
    with pytest.raises(f1check.ConfigError, match="Invalid score 'f2'.*Did you mean 'f1'"):
        f1check.check(examples.keras_f2, score="f2")
