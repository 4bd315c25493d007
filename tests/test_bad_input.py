"""Every kind of bad input raises an F1CheckError that says what is wrong and what to do."""

import numpy as np
import pytest

import f1check
from f1check import ConfigError, DataError, F1CheckError, Partition, PartitionError, SubjectError, TargetError

Y = np.asarray([1, 0, 1, 0], "float32")
S = np.asarray([0.9, 0.2, 0.4, 0.6], "float32")
GOOD = "f1check.examples:StreamingF1"

BAD_CALLS = [
    ("partition that does not fit", dict(data=(Y, S), partitions=[Partition([3])]), PartitionError, "covers 3 samples .* data has 4"),
    ("partitions not Partition values", dict(data=(Y, S), partitions=[[2, 2]]), PartitionError, "must hold f1check.Partition"),
    ("labels not 0/1", dict(data=([0, 2, 1, 0], S)), DataError, "labels must be 0 or 1, found 2"),
    ("multiclass not one-hot", dict(task="multiclass", data=([[1, 1], [0, 1]], [[0.5, 0.5], [0.1, 0.9]])), DataError, "one-hot, but row 0 has 2 ones"),
    ("multiclass class ids", dict(task="multiclass", data=([0, 1], [[0.5, 0.5], [0.1, 0.9]])), DataError, "to_categorical"),
    ("scores above 1", dict(data=(Y, [0.9, 0.2, 1.5, 0.6])), DataError, r"probabilities in \[0, 1\], found 1.5.*sigmoid"),
    ("scores NaN", dict(data=(Y, [0.9, np.nan, 0.4, 0.6])), DataError, "scores contain NaN"),
    ("shapes disagree", dict(data=(Y, S[:3])), DataError, r"labels have shape \(4, 1\) but scores have shape \(3, 1\)"),
    ("binary with two columns", dict(data=(np.eye(2)[[0, 1]], np.eye(2)[[0, 1]])), DataError, "task='multiclass'"),
    ("classes disagree with data", dict(task="multiclass", classes=3, data=(np.eye(2)[[0, 1]], np.eye(2)[[0, 1]])), DataError, "classes=3 but the data has 2 columns"),
    ("negative tolerance", dict(tolerance=-0.1), ConfigError, "Invalid tolerance -0.1 .*cannot be negative"),
    ("unknown mode", dict(modes=["evalute"]), ConfigError, "Invalid mode 'evalute'.*Did you mean 'evaluate'"),
    ("unknown average", dict(average="macr"), ConfigError, "Invalid average 'macr'.*Did you mean 'macro'"),
    ("binary average for multiclass", dict(task="multiclass", average="binary"), ConfigError, "'binary' averaging needs task='binary'"),
    ("unknown task", dict(task="multiclas"), ConfigError, "Invalid task 'multiclas'.*Did you mean 'multiclass'"),
    ("unknown judge", dict(judge="all"), ConfigError, "Invalid judge 'all'.*'seen', 'total'"),
    ("bad threshold", dict(threshold=1.5), ConfigError, r"Invalid threshold 1.5.*\[0, 1\]"),
    ("bad zero_division", dict(zero_division=2), ConfigError, "Invalid zero_division 2"),
    ("zero examples", dict(examples=0), ConfigError, "Invalid examples 0"),
]


@pytest.mark.parametrize("what, kwargs, error, match", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_arguments(what, kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        f1check.check(GOOD, **kwargs)
    assert isinstance(info.value, F1CheckError)
    assert info.value.__cause__ is None  # our message, not a framework traceback


BAD_SUBJECTS = [
    ("neither metric nor callback", "fixtures.subjects:NOT_A_SUBJECT", {}, TargetError, "is neither a metric nor a callback"),
    ("module does not import", "no_such_package.metrics:f1", {}, TargetError, "does not import: ModuleNotFoundError"),
    ("attribute missing", "f1check.examples:naive_f2", {}, TargetError, "has no attribute 'naive_f2'. Did you mean 'naive_f1'"),
    ("no colon", "f1check.examples.naive_f1", {}, TargetError, "not of the form 'module:attr'"),
    ("metric raises", "fixtures.subjects:raising_metric", {}, SubjectError, "raised ValueError: boom"),
    ("metric returns a vector", "fixtures.subjects:TwoNumbers", {}, SubjectError, r"returned shape \(2,\), not a scalar"),
    ("callback never writes its key", "fixtures.subjects:WritesOtherKey", {"callback_key": "f1"}, SubjectError, r"never wrote logs\['f1'\].*Did you mean 'f1_score'"),
    ("callback writes None", "fixtures.subjects:WritesNone", {"callback_key": "f1"}, SubjectError,
     r"logs\['f1'\] is None, not a number.*returns nothing"),
    ("callback without a key", "f1check.examples:F1FromLogs", {}, TargetError, "callback_key="),
    ("factory returns something else", "fixtures.subjects:returns_a_string", {}, TargetError, "returned str"),
    ("metric class needs arguments", "fixtures.subjects:NeedsArguments", {}, TargetError, "needs constructor arguments"),
    ("companion metrics on a metric", "f1check.examples:StreamingF1", {"callback_metrics": ["f1check.examples:true_positives"]}, TargetError, "companion metrics belong to a callback"),
    ("metric function with a third argument", "fixtures.subjects:f1_with_threshold", {}, TargetError,
     r"f1_with_threshold\(y_true, y_pred, threshold\) takes 3 required arguments, but Keras calls a metric "
     r"function with \(y_true, y_pred\) only: give threshold a default"),
    ("one required argument", "fixtures.subjects:make_metric", {}, TargetError, "takes 1 required argument:"),
    (".numpy() in a metric", "fixtures.subjects:numpy_f1", {}, SubjectError,
     "has no attribute 'numpy'.*Keras runs metrics compiled.*keras.ops"),
    ("Keras 2 backend on Keras 3", "fixtures.subjects:keras2_backend_f1", {}, SubjectError,
     "has no attribute 'sum'.*Keras 3's keras.backend has no sum.*keras.ops.sum.*TF_USE_LEGACY_KERAS=1"),
    ("a package the module imports is missing", "fixtures.needs_a_package:f1", {}, TargetError,
     r"No module named 'tensorflow_addons_not_installed' \(at .*needs_a_package.py:3: import "
     r"tensorflow_addons_not_installed as tfa.*\)\. The module 'fixtures.needs_a_package' imports "
     r"'tensorflow_addons_not_installed', which is not installed here"),
    ("a typo in the module path", "fixtures.subjcts:nan_f1", {}, TargetError,
     "'fixtures' imports, but has no module 'subjcts'. Did you mean 'subjects'"),
]


@pytest.mark.parametrize("what, subject, kwargs, error, match", BAD_SUBJECTS, ids=[c[0] for c in BAD_SUBJECTS])
def test_bad_subjects(what, subject, kwargs, error, match):
    # Data with a batch that has no positive label and no positive prediction, for the NaN case.
    y = np.asarray([0, 0, 1, 1], "float32")
    s = np.asarray([0.1, 0.2, 0.9, 0.8], "float32")
    with pytest.raises(error, match=match) as info:
        f1check.check(subject, data=(y, s), partitions=[Partition([2, 2])], **kwargs)
    assert info.value.__cause__ is None



def test_a_typo_below_a_package_that_imports_is_not_told_to_change_sys_path():
    """The top package imports: the advice names the missing module and the nearest one, never pythonpath; the
    pythonpath line is for a top package that is in the repository but not on sys.path."""
    from pathlib import Path

    from f1check.subjects.targets import import_target

    root = Path(__file__).parent.parent  # the rootdir, where fixtures/ sits and is importable
    with pytest.raises(TargetError) as caught:
        import_target("fixtures.subjecs:StreamingF1", roots=[root])
    assert "'fixtures' imports, but has no module 'subjecs'. Did you mean 'subjects'?" in str(caught.value)
    assert "pythonpath" not in str(caught.value)
    with pytest.raises(TargetError, match=r"'repo_metrics' is in .*model_repo, which is not on sys.path.*pythonpath"):
        import_target("repo_metrics.metrcs:f1", roots=[root / "fixtures" / "model_repo"])
