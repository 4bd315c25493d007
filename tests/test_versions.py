"""The declared version range (issue 25): outside it, one line at start that says what to install.

The range itself is run by ``benchmarks/compat.py`` (``.ci/run`` runs its oldest corner); here, the check that
stops a run outside it, with the installed versions replaced.
"""

import pytest
from pytest import ExitCode

from f1check.core import versions
from f1check.core.errors import ConfigError

pytest_plugins = ["pytester"]


def faked(monkeypatch, **found):
    table = {"keras": "3.15.1", "numpy": "2.4.6", "tensorflow": "2.21.0", "tf-keras": "2.21.0", "jax": "0.10.2"}
    table.update({k.replace("_", "-"): v for k, v in found.items()})
    monkeypatch.setattr(versions, "installed", lambda package: table.get(package))


@pytest.mark.parametrize("found, says", [
    ({"keras": "3.6.0"}, "f1check needs keras >= 3.7 and < 4 (found 3.6.0): pip install -U 'keras>=3.7,<4'"),
    ({"keras": "4.0.0"}, "f1check needs keras >= 3.7 and < 4 (found 4.0.0)"),
    ({"tensorflow": "2.15.1"}, "f1check needs tensorflow >= 2.16 and < 3 (found 2.15.1)"),
    ({"numpy": "1.23.5"}, "f1check needs numpy >= 1.24 and < 3 (found 1.23.5)"),
])
def test_a_version_outside_the_range_is_one_sentence_with_the_install_that_fixes_it(monkeypatch, found, says):
    faked(monkeypatch, **found)
    with pytest.raises(ConfigError) as raised:
        versions.check_range(legacy=False, backend="tensorflow")
    assert str(raised.value).startswith(says)


def test_only_the_packages_the_run_uses_are_checked(monkeypatch):
    faked(monkeypatch, jax="0.4.20", tf_keras="2.15.0")
    versions.check_range(legacy=False, backend="tensorflow")  # neither JAX nor tf-keras runs
    with pytest.raises(ConfigError, match=r"jax >= 0\.4\.30 .*found 0\.4\.20.*jaxlib"):
        versions.check_range(legacy=False, backend="jax")
    with pytest.raises(ConfigError, match=r"tf-keras >= 2\.16 .*found 2\.15\.0"):
        versions.check_range(legacy=True)
    monkeypatch.setattr(versions, "installed", lambda package: None)
    versions.check_range(legacy=False, backend="tensorflow")  # not installed: the import says so


def test_the_installed_set_is_in_range():
    assert versions.out_of_range(legacy=False, backend="tensorflow") == []
    assert versions.out_of_range(legacy=True, backend="tensorflow") == []
    assert versions.out_of_range(legacy=False, backend="jax") == []


def test_a_run_outside_the_range_stops_before_any_test(pytester, monkeypatch):
    faked(monkeypatch, keras="3.6.0")
    pytester.makepyprojecttoml('[tool.f1check]\ntargets = ["f1check.examples:StreamingF1"]\n')
    pytester.makepyfile("def test_never_runs(): raise AssertionError('ran')")
    result = pytester.runpytest_inprocess("--f1check", "-p", "no:cacheprovider")
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*f1check: f1check needs keras >= 3.7 and < 4 (found 3.6.0): pip install -U*"])
    result.stdout.no_fnmatch_line("*test_never_runs*")


def test_keras_38_one_sample_predict_warning_is_filtered_around_the_subjects_code_and_only_tensorflows():
    import warnings

    from f1check.subjects import call_user

    message = "Conversion of an array with ndim > 0 to a scalar is deprecated, and will error in future."

    def warn_from(module: str):
        warnings.warn_explicit(message, DeprecationWarning, f"{module}.py", 315, module=module)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        call_user("t", "on_epoch_end", warn_from, "tensorflow.python.framework.ops")  # Keras 3.8's, in TF's __float__
        assert seen == []
        call_user("t", "on_epoch_end", warn_from, "repo_metrics.callbacks")  # the user's own float(): theirs to see
        assert [str(w.message) for w in seen] == [message]
