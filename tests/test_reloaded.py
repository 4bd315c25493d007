"""Saved and reloaded models: mode ``reloaded`` (model.save, keras.models.load_model) and the config probe.

The subjects are ``fixtures/reloaded.py`` (Keras 3) and ``fixtures/legacy_repo/legacy_metrics/checkpoint.py``
(tf-keras); each verdict was first measured with plain Keras and sklearn (``benchmarks/reloaded_handcheck.py``, its
table in ``benchmarks/reloaded_handcheck.txt``), and the ground truth of the threshold case is measured again here
with plain Keras against sklearn, so a test fails if a fixture stops being what it claims.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from support import require

import f1check
from f1check.core.errors import SubjectError
from f1check.core.modes import Mode

R = "fixtures.reloaded"
ROOT = Path(__file__).parent.parent
MULTICLASS = {"task": "multiclass", "classes": 4, "labels": ["one-hot"]}
EXAMPLES = 12


def _check(name, modes=("reloaded",), **settings):
    return {r.mode.value: r for r in f1check.check(f"{R}:{name}", modes=list(modes), examples=EXAMPLES,
                                                   **settings).results}


# -- the ground truth, with plain Keras and sklearn --------------------------------------------------------------


def test_the_threshold_fixture_logs_another_number_after_load_model_by_plain_keras_and_sklearn(tmp_path):
    import keras
    from sklearn.metrics import f1_score

    import fixtures.reloaded as subjects

    rng = np.random.default_rng(3)
    y = (rng.random(200) < 0.4).astype(np.float32)[:, None]
    scores = rng.random(200).astype(np.float32)[:, None]
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="identity", use_bias=False)(inputs))
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(0.0), metrics=[subjects.f1_at_03()])
    before = model.evaluate(scores, y, batch_size=32, verbose=0, return_dict=True)["f1"]
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", custom_objects={"StreamingF1": subjects.StreamingF1})
    after = loaded.evaluate(scores, y, batch_size=32, verbose=0, return_dict=True)["f1"]
    assert abs(before - f1_score(y[:, 0], scores[:, 0] > 0.3)) < 1e-5
    assert abs(after - f1_score(y[:, 0], scores[:, 0] > 0.5)) < 1e-5  # back at its default threshold
    assert abs(after - before) > 0.01


# -- the mode --------------------------------------------------------------------------------------------------


def test_the_mode_answers_for_itself():
    mode = Mode("reloaded")
    assert mode.trains and mode.reloads and not mode.validates and not mode.judges_training
    assert not mode.takes_class_weights and mode.epochs == 2
    assert mode.pass_said(0, 2) == "evaluate after load_model" and mode.said == "reloaded (after load_model)"


def test_a_metric_that_loses_its_threshold_fails_reloaded_and_passes_evaluate_with_a_note():
    results = _check("f1_at_03", modes=("evaluate", "reloaded"), threshold=0.3)
    reloaded, evaluate = results["reloaded"], results["evaluate"]
    assert reloaded.status == "fail" and reloaded.why[0].code == "config-loses-arguments"
    assert "threshold: 0.3 -> 0.5" in reloaded.why[0].text and "get_config" in reloaded.why[0].text
    assert reloaded.counterexample.epoch in (0, 1)
    assert evaluate.status == "pass" and not evaluate.why
    assert [n.code for n in evaluate.notes] == ["config-loses-arguments"]
    assert "threshold: 0.3 -> 0.5" in evaluate.notes[0].text
    assert "after load_model" in str(f1check.check(f"{R}:f1_at_03", modes=["reloaded"], examples=4,
                                                   threshold=0.3).results[0].counterexample.mode.said)


@pytest.mark.parametrize("name", ["saved_f1_at_03", "keras_f1_at_03"])
def test_a_metric_whose_config_keeps_its_threshold_passes_reloaded_without_a_note(name):
    result = _check(name, threshold=0.3)["reloaded"]
    assert result.status == "pass" and not result.notes and not result.why


def test_an_instance_is_checked_as_built_and_its_lost_threshold_is_found():
    results = _check("f1_at_03_instance", modes=("evaluate", "reloaded"), threshold=0.3)
    assert results["evaluate"].status == "pass"  # the instance's own 0.3, not its copy's default
    assert results["reloaded"].status == "fail" and results["reloaded"].why[0].code == "config-loses-arguments"


def test_a_lost_zero_division_fails_reloaded_naming_it():
    result = _check("empty_is_perfect", zero_division=1.0)["reloaded"]
    assert result.status == "fail" and result.why[0].code == "config-loses-arguments"
    assert "zero_division: 1.0 -> 0.0" in result.why[0].text


@pytest.mark.parametrize("name, average, attribute", [
    ("macro_f1_4", "macro", "num_classes: 4 -> 2"),
    ("micro_f1_4", "micro", "average: 'micro' -> 'macro'"),
])
def test_a_lost_class_count_or_average_fails_reloaded_naming_it(name, average, attribute):
    result = _check(name, average=average, **MULTICLASS)["reloaded"]
    assert result.status == "fail" and result.why[0].code == "config-loses-arguments"
    assert attribute in result.why[0].text


@pytest.mark.parametrize("name", ["saved_macro_f1_4", "keras_macro_f1_4"])
def test_multiclass_metrics_whose_config_is_whole_pass_reloaded(name):
    assert _check(name, **MULTICLASS)["reloaded"].status == "pass"


def test_a_metric_load_model_cannot_rebuild_is_an_error_that_names_the_fix():
    with pytest.raises(SubjectError, match=r"needs_classes_4 cannot be rebuilt from its config.*TypeError.*get_config"
                                           r".*register_keras_serializable.*custom_objects") as raised:
        _check("needs_classes_4", **MULTICLASS)
    assert raised.value.code == "config-loses-arguments"


def test_a_metric_function_is_found_again_by_name_and_judged_as_in_other_modes():
    result = _check("f1_function")["reloaded"]
    assert result.status == "fail" and result.why[0].code == "per-batch-mean" and not result.notes


def test_class_weights_never_reach_reloaded():
    with pytest.raises(f1check.ConfigError, match=r"reloaded.*class_weight"):
        f1check.check(f"{R}:saved_f1_at_03", modes=["reloaded"], weights=["class"], examples=2)


@pytest.mark.long
def test_the_reproduction_names_the_round_trip_and_fails_again(tmp_path):
    result = _check("f1_at_03", threshold=0.3)["reloaded"]
    snippet = result.reproduce
    assert "keras.models.load_model(path, custom_objects={'StreamingF1': fixtures.reloaded.StreamingF1})" in snippet
    assert "model.save(path)" in snippet and "modes=['reloaded']" in snippet
    script = tmp_path / "again.py"
    script.write_text(snippet)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    run = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode != 0 and "F1CheckFailure" in run.stderr
    assert "{'threshold': (0.3, 0.5)}" in run.stdout


# -- the config probe alone ------------------------------------------------------------------------------------


def test_the_probe_names_what_from_config_changes_and_nothing_for_a_whole_config():
    from f1check.core.settings import CheckSettings, Semantics
    from f1check.subjects.config import probe_config
    from f1check.subjects.context import CheckInputs

    y = np.asarray([[1.0], [0.0], [1.0], [0.0]], np.float32)
    s = np.asarray([[0.4], [0.45], [0.9], [0.1]], np.float32)  # two scores between 0.3 and 0.5
    for name, lost in (("f1_at_03", "threshold: 0.3 -> 0.5"), ("saved_f1_at_03", None)):
        subject = CheckInputs.build(f"{R}:{name}", CheckSettings(semantics=Semantics(threshold=0.3))).subject
        loss = probe_config(subject, [[(y, s)]])
        assert (loss is None) if lost is None else (lost in loss.attributes and loss.before != loss.after)


# -- the plugin -------------------------------------------------------------------------------------------------


@pytest.mark.long
def test_the_plugin_runs_reloaded_and_writes_the_note_and_the_mode_in_report_and_summary(pytester):
    (pytester.path / "ckpt_metrics.py").write_text((ROOT / "fixtures" / "reloaded.py").read_text())
    pytester.makepyprojecttoml(textwrap.dedent("""
        [tool.pytest.ini_options]
        pythonpath = ["."]
        [tool.f1check]
        examples = 6
        labels = ["column"]
        [[tool.f1check.targets]]
        metric = "ckpt_metrics:f1_at_03"
        threshold = 0.3
        modes = ["evaluate", "reloaded"]
    """))
    result = pytester.runpytest_subprocess("--f1check", "-p", "no:randomly", "--f1check-report=r.json",
                                           "--f1check-summary=s.md", "-n", "0")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*note: ckpt_metrics:f1_at_03 [[]evaluate[]]:*threshold: 0.3 -> 0.5*"])
    records = {r["mode"]: r for r in json.loads((pytester.path / "r.json").read_text())["results"]}
    assert records["reloaded"]["why"][0]["code"] == "config-loses-arguments"
    assert records["evaluate"]["notes"][0]["code"] == "config-loses-arguments" and not records["evaluate"]["why"]
    summary = (pytester.path / "s.md").read_text()
    assert "reloaded (after load_model)" in summary and "note: config-loses-arguments" in summary


# -- other backends ----------------------------------------------------------------------------------------------

VERDICTS = """
import json, sys
import f1check
found = {}
for target, settings in json.loads(sys.argv[1]):
    result = f1check.check(target, modes=["reloaded"], examples=6, **settings).results[0]
    found[target] = [result.status, [w.code for w in result.why]]
print(json.dumps(found))
"""


def _verdicts(env: dict, cwd: Path, cases: list) -> dict:
    run = subprocess.run([sys.executable, "-c", VERDICTS, json.dumps(cases)], cwd=cwd, capture_output=True,
                         text=True, timeout=900, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **env))
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.long
def test_jax_saves_and_loads_the_same_verdicts():
    require("jax", "pip install jax jaxlib")
    found = _verdicts({"KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)}, ROOT,
                      [[f"{R}:f1_at_03", {"threshold": 0.3}], [f"{R}:saved_f1_at_03", {"threshold": 0.3}]])
    assert found[f"{R}:f1_at_03"] == ["fail", ["config-loses-arguments"]]
    assert found[f"{R}:saved_f1_at_03"] == ["pass", []]


@pytest.mark.long
def test_tf_keras_saves_and_loads_the_same_verdicts():
    require("tf_keras", "pip install --no-deps tf-keras==2.21.0")
    repo = ROOT / "fixtures" / "legacy_repo"
    found = _verdicts({"TF_USE_LEGACY_KERAS": "1", "PYTHONPATH": str(repo)}, repo,
                      [["legacy_metrics.checkpoint:f1_at_03", {"threshold": 0.3}],
                       ["legacy_metrics.checkpoint:saved_f1_at_03", {"threshold": 0.3}]])
    assert found["legacy_metrics.checkpoint:f1_at_03"] == ["fail", ["config-loses-arguments"]]
    assert found["legacy_metrics.checkpoint:saved_f1_at_03"] == ["pass", []]
