"""Label forms: labels fed flat, as a column, one-hot or as class indices, in float32, int64 or bool.

The subjects are ``fixtures/labels.py``; each verdict below was first measured with plain Keras and sklearn
(``benchmarks/labels_handcheck.py``, its table in ``benchmarks/labels_handcheck.txt``), and the ground truth of the
ones that matter most is measured again here with plain Keras against sklearn, so a test fails if a fixture stops
being what it claims.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import f1check
from f1check.core.errors import ConfigError, SubjectError
from f1check.core.labels import LabelForm, label_pairs

L = "fixtures.labels"
MULTICLASS = {"task": "multiclass", "classes": 4}


# -- the type -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_every_form_and_dtype_gives_back_the_held_labels(task):
    rng = np.random.default_rng(0)
    if task == "multiclass":
        y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 30)]
    else:
        y = (rng.random((30, 1 if task == "binary" else 3)) < 0.4).astype(np.float32)
    for form, dtype in label_pairs(LabelForm.for_task(task), ("float32", "int64", "bool")):
        fed = form.encode(y, dtype)
        assert fed.dtype == np.dtype(dtype)
        assert fed.shape == {"(n,)": (30,), "(n, 1)": (30, 1), "(n, C)": y.shape}[form.shape]
        np.testing.assert_array_equal(form.decode(fed, y.shape[1]), y)


def test_class_indices_are_never_bool_and_the_held_form_comes_first():
    pairs = label_pairs(LabelForm.for_task("multiclass"), ("float32", "int64", "bool"))
    assert pairs[0] == (LabelForm.ONE_HOT, "float32")
    assert (LabelForm.SPARSE, "bool") not in pairs and (LabelForm.ONE_HOT, "bool") in pairs


def test_a_misspelled_form_is_told_with_the_forms_of_the_task():
    with pytest.raises(ConfigError, match=r"unknown label form 'flta'.*Did you mean 'flat'"):
        f1check.check(f"{L}:ReshapingF1", labels=["flta"])
    with pytest.raises(ConfigError, match=r"'sparse' is a form of multiclass labels; binary labels come as"):
        f1check.check(f"{L}:ReshapingF1", labels=["sparse"])
    with pytest.raises(ConfigError, match=r"class indices .* are never bool"):
        f1check.check(f"{L}:SparseMacroF1", labels=["sparse"], label_dtypes=["bool"], **MULTICLASS)


# -- the ground truth of the fixtures, with plain Keras and sklearn ----------------------------------------------


def _plain_keras(metric, y, scores, loss):
    import keras

    model = keras.Sequential([keras.Input(shape=(scores.shape[1],)), keras.layers.Identity()])
    model.compile(loss=loss, metrics=[metric])
    logs = model.evaluate(scores, y, batch_size=16, return_dict=True, verbose=0)
    return float(np.asarray(logs[metric.name]).reshape(-1)[0])


def test_the_broadcasting_fixture_is_wrong_on_flat_labels_only_by_plain_keras_and_sklearn():
    from sklearn.metrics import f1_score

    import fixtures.labels as subjects

    rng = np.random.default_rng(7)
    y = (rng.random(97) < 0.4).astype(np.int64)
    scores = np.clip(0.5 + (y - 0.5) * rng.uniform(-0.4, 1.0, 97), 0, 1).astype(np.float32)[:, None]
    truth = f1_score(y, (scores[:, 0] > 0.5).astype(int))
    column = _plain_keras(subjects.BroadcastingF1(), y[:, None], scores, "binary_crossentropy")
    flat = _plain_keras(subjects.BroadcastingF1(), y, scores, "binary_crossentropy")
    assert abs(column - truth) < 1e-5
    assert abs(flat - truth) > 0.01  # silently wrong, as the issue's own 0.538182 against 0.552381


def test_keras_f1score_given_column_indices_logs_a_wrong_number_by_plain_keras_and_sklearn():
    import keras
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(8)
    index = rng.integers(0, 4, 97)
    scores = rng.dirichlet(np.ones(4), 97).astype(np.float32)
    truth = f1_score(index, scores.argmax(1), average="macro", labels=range(4), zero_division=0)
    one_hot = _plain_keras(keras.metrics.F1Score(average="macro", name="f1"), np.eye(4, dtype=np.float32)[index],
                           scores, "categorical_crossentropy")
    column = _plain_keras(keras.metrics.F1Score(average="macro", name="f1"), index[:, None], scores,
                          "sparse_categorical_crossentropy")
    assert abs(one_hot - truth) < 1e-5
    assert abs(column - truth) > 0.05


# -- f1check's verdicts ----------------------------------------------------------------------------------------


def _one(subject, **kwargs):
    return f1check.check(f"{L}:{subject}", modes=kwargs.pop("modes", ["evaluate"]), examples=kwargs.pop("examples", 12),
                         **kwargs).results[0]


def test_a_metric_that_broadcasts_flat_labels_fails_at_the_fixed_examples_and_is_told_so():
    result = _one("BroadcastingF1", examples=4)  # the fixed examples alone
    assert not result.passed
    assert result.counterexample.loop.labels is LabelForm.FLAT
    assert result.main_reason == "labels-broadcast"
    assert "labels=['flat']" in result.reproduce
    document = json.loads(json.dumps(f1check.reporting.report.result_json(result)))
    assert document["counterexample"]["labels"] == "flat"
    assert document["refused"] == []


def test_the_same_metric_fed_the_column_its_repo_feeds_passes():
    assert _one("BroadcastingF1", labels=["column"], label_dtypes=["float32", "int64"]).passed


@pytest.mark.parametrize("subject", ["ReshapingF1", "EqualsOneF1"])
def test_metrics_that_reshape_pass_every_form_and_dtype(subject):
    result = _one(subject)
    assert result.passed and result.refused == ()


def test_a_metric_that_refuses_int64_is_judged_on_what_it_takes_and_the_refusal_is_recorded():
    result = _one("UncastF1")
    assert result.passed
    refused = {(r["labels"], r["dtype"]) for r in result.refused}
    assert refused == {("column", "int64"), ("flat", "int64"), ("column", "bool"), ("flat", "bool")}
    assert all(r["error"] for r in result.refused)
    assert {e.loop.label_dtype for e in result.runs} == {"float32"}


@pytest.mark.parametrize("subject, reason", [("keras_macro_f1", "indices-read-as-one-hot"),
                                             ("OneHotMacroF1", "indices-read-as-one-hot")])
def test_one_hot_metrics_given_column_indices_fail_and_refuse_flat_indices(subject, reason):
    result = _one(subject, **MULTICLASS)
    assert not result.passed
    assert result.counterexample.loop.labels is LabelForm.SPARSE_COLUMN
    assert result.main_reason == reason
    assert {r["labels"] for r in result.refused} == {"sparse"}


def test_keras_f1score_refusing_flat_indices_quotes_keras():
    result = _one("keras_macro_f1", **MULTICLASS)
    assert any("FBetaScore expects 2D inputs" in r["error"] for r in result.refused)


@pytest.mark.parametrize("subject, refused", [("SparseMacroF1", {"one-hot"}), ("AnyFormMacroF1", set())])
def test_metrics_that_read_indices_pass_on_the_forms_they_take(subject, refused):
    result = _one(subject, **MULTICLASS)
    assert result.passed
    assert {r["labels"] for r in result.refused} == refused


def test_a_subject_that_raises_on_every_form_allowed_is_an_error_that_quotes_it_and_the_labels_fed():
    with pytest.raises(SubjectError, match=r"(?s)FBetaScore expects 2D inputs.*\(n,\) float32 class indices \(sparse\)"):
        f1check.check(f"{L}:keras_macro_f1", modes=["evaluate"], examples=4, labels=["sparse"], **MULTICLASS)


@pytest.mark.parametrize("mode", ["fit", "validation"])
def test_the_training_loops_feed_the_drawn_form_too(mode):
    result = _one("BroadcastingF1", modes=[mode], examples=4)
    assert not result.passed and result.counterexample.loop.labels is LabelForm.FLAT
    assert _one("ReshapingF1", modes=[mode], examples=6).passed


def test_a_refused_form_leaves_no_tensorflow_log_line_behind(tmp_path):
    # OneHotMacroF1 raises inside TensorFlow's graph on (n,) indices: the error is recorded as a refusal, and
    # TensorFlow's C++ "Local rendezvous is aborting" line that repeats it is not the user's to read. A repo whose
    # module imports Keras (and TensorFlow) before f1check can set TensorFlow's log level, under pytest --f1check.
    import os
    import pathlib
    import shutil
    import subprocess
    import sys

    shutil.copy(pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "labels.py", tmp_path / "lbl.py")
    (tmp_path / "pyproject.toml").write_text('[tool.f1check]\nexamples = 8\nmodes = ["evaluate"]\n'
                                             'task = "multiclass"\nclasses = 4\ntargets = ["lbl:keras_macro_f1", "lbl:OneHotMacroF1"]\n')
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user's shell has it
    done = subprocess.run([sys.executable, "-m", "pytest", "--f1check", "-p", "no:cacheprovider", "-q"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert "2 failed" in done.stdout, done.stdout[-2000:]  # both misread (n, 1) indices; (n,) ones they refuse
    assert "refused: sparse float32" in done.stdout, done.stdout[-3000:]
    assert "rendezvous" not in done.stdout + done.stderr, (done.stdout + done.stderr)[-2000:]


@pytest.mark.parametrize("mode", ["evaluate", "fit", "fit-dropped"])
def test_a_tie_counted_positive_is_caught_at_the_fixed_examples_in_every_mode_that_can_have_one(mode):
    # where the loop trains, a score sits on the threshold only before the first update: a fixed run puts the tied
    # samples in its first batch (examples=4: the fixed examples alone, nothing drawn)
    result = f1check.check("f1check.examples:TiesPositiveF1", modes=[mode], examples=4, seed=0).results[0]
    assert not result.passed and result.main_reason == "threshold-tie"
