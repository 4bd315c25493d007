"""The loop's compile settings (issue 23): steps per execution, XLA and 16-bit dtype policies, drawn per example.

Subjects are in ``fixtures/loop_settings.py``; golden numbers come from sklearn on the predictions the loop fed (under
a 16-bit policy, the scores rounded to float16/bfloat16 as the model outputs them) and from DESIGN.md's worked example.
"""

import dataclasses
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from sklearn.metrics import f1_score

import f1check
from f1check import Partition
from f1check.core.errors import ConfigError
from f1check.data import worked_example
from f1check.loops import LoopSettings

sys.path.insert(0, str(Path(__file__).parent.parent / "fixtures"))
L = "loop_settings"
SETTINGS = {
    "steps_per_execution": {"steps_per_execution": [3]},
    "xla": {"jit_compile": [True]},
    "float16": {"dtype_policies": ["mixed_float16"]},
    "bfloat16": {"dtype_policies": ["mixed_bfloat16"]},
}
CAST = {"mixed_float16": np.float16, "mixed_bfloat16": ml_dtypes.bfloat16}
MEAN_OF_BATCH_F1 = 0.643939  # DESIGN.md: the per-batch F1 over three batches of 100 of the worked example


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_right_metrics_log_sklearns_value_and_the_per_batch_function_fails_under_each_setting(setting):
    y, s = worked_example()
    kwargs = {"data": (y, s), "partitions": [Partition([100, 100, 100])], **SETTINGS[setting]}
    policy = SETTINGS[setting].get("dtype_policies", ["float32"])[0]
    fed = s if policy == "float32" else s.astype(CAST[policy]).astype(np.float32)
    expected = f1_score(y.ravel(), fed.ravel() > 0.5)
    for subject in (f"{L}:StreamingF1", f"{L}:keras_f1"):
        result = f1check.check(subject, **kwargs).results[0]
        assert result.passed, (subject, str(result))
        assert result.worst.reported == pytest.approx(expected, abs=1e-6)
        assert result.worst.loop.json()["dtype_policy"] == policy
    wrong = f1check.check(f"{L}:per_batch_f1", **kwargs).results[0]
    assert not wrong.passed and [r.code for r in wrong.why] == ["per-batch-mean"]
    assert wrong.worst.reported == pytest.approx(MEAN_OF_BATCH_F1, abs=1e-5)
    assert wrong.worst.f1_seen == pytest.approx(expected, abs=1e-9)
    described = wrong.worst.loop.describe()
    assert {"steps_per_execution": "steps_per_execution=3", "xla": "jit_compile=True (XLA)"}.get(
        setting, f"dtype policy {policy}") in described


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_a_metric_counting_in_16_bits_fails_under_each_16_bit_policy_from_the_first_examples(policy):
    report = f1check.check(f"{L}:PolicyCountsF1", modes=["evaluate", "validation"], examples=4,
                           dtype_policies=["float32", policy])
    assert [r.passed for r in report.results] == [False, False]  # the validation pass too, after a training epoch
    assert [r.why[0].code for r in report.results] == ["counts-in-16-bit"] * 2
    result = report.results[0]
    worst = result.worst
    assert worst.loop.dtype_policy == policy and worst.n == 20000  # the fixed 16-bit example
    fed = worst.scores.astype(CAST[policy]).astype(np.float32)
    expected = f1_score(worst.y_true.ravel(), fed.ravel() > 0.5)
    assert worst.f1_seen == pytest.approx(expected, abs=1e-9)
    assert abs(worst.reported - expected) > 5e-3  # by hand with plain Keras: 0.838213 (float16), 0.821752 (bfloat16)
    assert [r.code for r in result.why] == ["counts-in-16-bit"]  # right when fed the same values as float32
    assert f"dtype_policies=[{policy!r}]" in result.reproduce


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_a_metric_whose_variables_are_float16_whatever_the_policy_is_told_so_by_its_numbers(policy):
    result = f1check.check(f"{L}:Float16CountsF1", modes=["evaluate"], examples=4, dtype_policies=[policy]).results[0]
    worst = result.worst
    assert not result.passed and worst.n == 20000
    fed = worst.scores.astype(CAST[policy]).astype(np.float32)
    assert worst.f1_seen == pytest.approx(f1_score(worst.y_true.ravel(), fed.ravel() > 0.5), abs=1e-9)
    assert worst.reported == pytest.approx(0.838213, abs=1e-6)  # plain Keras evaluate by hand, float16 counts
    assert [r.code for r in result.why] == ["counts-in-16-bit"]
    assert "summed batch by batch in float16 give 0.838213" in result.why[0].text


def test_counts_summed_in_16_bits_give_what_plain_keras_logs_for_such_a_metric():
    from f1check.core.settings import Semantics
    from f1check.judging.readings import counted_in
    from f1check.search.adversarial import SIXTEEN_BIT_BATCH, counting_past_16_bits

    y, s = counting_past_16_bits(1)
    batches = [(y[i:i + SIXTEEN_BIT_BATCH], s[i:i + SIXTEEN_BIT_BATCH]) for i in range(0, len(y), SIXTEEN_BIT_BATCH)]
    semantics = Semantics()
    assert f1_score(y.ravel(), s.ravel() > 0.5) == pytest.approx(0.846491, abs=1e-6)
    assert counted_in(batches, semantics, "float16") == pytest.approx(0.838213, abs=1e-6)  # plain Keras, by hand
    assert counted_in(batches, semantics, "bfloat16") == pytest.approx(0.821752, abs=1e-6)
    assert np.isnan(counted_in(batches[:10], semantics, "float16"))  # 1,280 samples: float16 counts them exactly
    assert not np.isnan(counted_in(batches[:10], semantics, "bfloat16"))  # past 256


def test_the_same_metric_passes_under_float32():
    assert f1check.check(f"{L}:PolicyCountsF1", modes=["evaluate", "validation"], examples=4).passed


def test_a_note_counts_the_samples_the_16_bit_cast_moved_across_the_threshold():
    rng = np.random.default_rng(3)
    y = (rng.random((300, 1)) < 0.5).astype(np.float32)
    s = rng.uniform(0.0, 1.0, (300, 1)).astype(np.float32)
    s[::10] = 0.5002  # float16 rounds it to 0.5: no longer above the threshold
    fed = s.astype(np.float16).astype(np.float32)
    moved = int(((s > 0.5) != (fed > 0.5)).sum())
    result = f1check.check(f"{L}:StreamingF1", data=(y, s), partitions=[Partition([128, 128, 44])],
                           dtype_policies=["mixed_float16"]).results[0]
    assert result.passed and moved == 30
    assert result.worst.f1_seen == pytest.approx(f1_score(y.ravel(), fed.ravel() > 0.5), abs=1e-9)
    assert any(f"{moved} of 300 samples changed side" in note and "0.5002 -> 0.5" in note
               for note in result.worst.notes), result.worst.notes


def test_a_fuzzed_search_draws_every_setting_and_right_subjects_pass():
    report = f1check.check(f"{L}:StreamingF1", modes=["evaluate", "fit"], examples=8, steps_per_execution=[1, 4],
                           jit_compile=[False, True], dtype_policies=["float32", "mixed_bfloat16"])
    assert report.passed, str(report)
    drawn = {run.loop.compile_key for result in report.results for run in result.runs}
    assert len(drawn) > 2, drawn


def test_a_metric_that_multiplies_labels_by_16_bit_predictions_is_an_error_that_names_the_policy_and_the_cast():
    with pytest.raises(f1check.F1CheckError) as raised:
        f1check.check(f"{L}:uncast_f1", data=worked_example(), partitions=[Partition([100, 100, 100])],
                      dtype_policies=["mixed_float16"])
    text = str(raised.value)
    assert "dtype policy mixed_float16" in text and "keras.ops.cast(y_pred, y_true.dtype)" in text
    assert "leave mixed_float16 out of dtype_policies" in text


def test_the_global_dtype_policy_is_the_users_again_after_a_check():
    import keras

    before = keras.config.dtype_policy().name
    f1check.check(f"{L}:StreamingF1", data=worked_example(), partitions=[Partition([100, 200])],
                  dtype_policies=["mixed_bfloat16"])
    assert keras.config.dtype_policy().name == before


@pytest.mark.parametrize("key, value, says", [
    ("steps_per_execution", [0], "whole number >= 1"),
    ("steps_per_execution", [], "at least one value"),
    ("jit_compile", ["yes"], "true or false"),
    ("dtype_policies", ["mixed_float61"], "did you mean 'mixed_float16'"),
    ("output", "two words", "python identifier"),
])
def test_bad_settings_are_configuration_errors_that_name_the_key(key, value, says):
    with pytest.raises(ConfigError) as raised:
        f1check.check(f"{L}:StreamingF1", **{key: value})
    assert key in str(raised.value) and says in str(raised.value).lower()


def test_on_one_head_of_a_two_output_model_the_logged_key_is_the_heads_and_both_structures_are_drawn():
    y, s = worked_example()
    expected = f1_score(y.ravel(), s.ravel() > 0.5)
    for feed in ("numpy", "tf.data-unknown"):  # labels as arrays, and a generator's signature in structure
        right = f1check.check(f"{L}:StreamingF1", data=(y, s), partitions=[Partition([100, 100, 100])],
                              output="label", feeds=[feed]).results[0]
        assert right.passed and right.worst.reported == pytest.approx(expected, abs=1e-6), feed
        assert right.worst.loop.outputs == "dict"
    wrong = f1check.check(f"{L}:per_batch_f1", data=(y, s), partitions=[Partition([100, 100, 100])],
                          output="label").results[0]
    assert not wrong.passed and wrong.worst.reported == pytest.approx(MEAN_OF_BATCH_F1, abs=1e-5)
    fuzzed = f1check.check(f"{L}:keras_f1", modes=["validation"], examples=6, output="label")
    assert fuzzed.passed, str(fuzzed)
    assert "output='label'" in f1check.check(f"{L}:per_batch_f1", output="label", examples=3).results[0].reproduce


def test_callbacks_on_a_head_read_the_heads_keys_and_get_the_models_output_structure():
    counts = {"callback_metrics": [f"{L}:tp", f"{L}:fp", f"{L}:fn"]}
    assert f1check.check(f"{L}:HeadCountsF1", modes=["fit"], examples=4, output="label",
                         callback_key="f1", **counts).passed
    assert f1check.check(f"{L}:head_predict_f1", modes=["validation"], examples=4, output="label",
                         callback_key="val_f1").passed
    wrong = f1check.check(f"{L}:other_head_predict_f1", modes=["evaluate"], examples=4, output="label",
                          callback_key="val_f1").results[0]
    assert not wrong.passed  # it scores the other head: sklearn on the judged head's predictions disagrees


def test_a_callback_reading_single_output_keys_on_a_head_is_told_the_heads_key():
    with pytest.raises(f1check.F1CheckError) as raised:
        f1check.check("f1check.examples:F1FromLogs", modes=["evaluate"], examples=2, output="label",
                      callback_key="f1", callback_metrics=list(f1check.examples.COUNT_METRICS))
    assert "<head>_<metric>" in str(raised.value)


# A value other than the default for every LoopSettings field: each must come back from its own check() arguments.
NON_DEFAULT = {"feed": "numpy", "weights": "sample", "steps_per_execution": 2, "jit_compile": True,
               "dtype_policy": "mixed_bfloat16", "outputs": "list", "labels": "flat", "label_dtype": "int64"}
HELD = {"labels": "column"}  # a check's loops always name the form their labels come in: the data's own here


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(LoopSettings)])
def test_every_loop_setting_is_drawn_back_from_the_arguments_its_reproduction_writes(name):
    assert set(NON_DEFAULT) == {f.name for f in dataclasses.fields(LoopSettings)}  # a new field needs a value here
    original = LoopSettings(**{**HELD, name: NON_DEFAULT[name]})
    assert original != LoopSettings(**HELD)
    arguments = eval(f"dict({', '.join(original.arguments())})")  # the keywords as the snippet writes them
    rng = np.random.default_rng(5)
    y = (rng.random((12, 1)) < 0.5).astype(np.float32)
    s = rng.random((12, 1)).astype(np.float32)
    head = {"output": "label"} if name == "outputs" else {}  # two outputs come with a head
    result = f1check.check(f"{L}:StreamingF1", data=(y, s), partitions=[Partition([4, 4, 4])], **head,
                           **arguments).results[0]
    assert result.passed and {run.loop for run in result.runs} == {original}, [run.loop for run in result.runs]


def test_the_outputs_of_a_two_output_model_are_pinned_by_the_outputs_argument_and_need_a_head():
    result = f1check.check(f"{L}:per_batch_f1", data=worked_example(), partitions=[Partition([100, 100, 100])],
                           output="label", outputs=["list"]).results[0]
    assert not result.passed and result.counterexample.loop.outputs == "list"
    assert "outputs=['list']" in result.reproduce
    with pytest.raises(ConfigError, match="outputs.*set output too"):
        f1check.check(f"{L}:StreamingF1", outputs=["list"])
    with pytest.raises(ConfigError, match="Did you mean 'dict'"):
        f1check.check(f"{L}:StreamingF1", output="label", outputs=["dcit"])
