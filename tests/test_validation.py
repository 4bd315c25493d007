"""The validation pass: val_ metrics and callbacks judged on what fit evaluates after each epoch."""

import numpy as np
import pytest
from support import driver, fed, sklearn_batch_mean

import f1check
from f1check import Partition, examples
from f1check.core.settings import Semantics
from f1check.data import worked_example
from f1check.search.diagnosis import unfed_note
from f1check.subjects.targets import resolve

VALIDATION_COUNTS = {"callback_key": "val_f1", "callback_metrics": list(examples.VALIDATION_COUNT_METRICS)}
SEM = Semantics()


def test_the_seeds_validation_count_callback_passes_validation():
    report = f1check.check(examples.ValidationF1FromLogs, modes=["validation"], examples=12, seed=0, **VALIDATION_COUNTS)
    assert report.passed, str(report)
    assert report.results[0].worst.epochs == 2  # every epoch's validation pass is judged


def test_validation_dropped_leaves_samples_unfed_judge_total_fails_on_coverage():
    y, s = worked_example()
    part = Partition.floor_steps(300, 120)  # validation_steps = 300 // 120 = 2: 60 samples are not fed
    kwargs = dict(modes=["validation-dropped"], data=(y, s), partitions=[part], **VALIDATION_COUNTS)
    assert f1check.check(examples.ValidationF1FromLogs, **kwargs).passed
    total = f1check.check(examples.ValidationF1FromLogs, judge="total", **kwargs).results[0]
    assert not total.passed and total.worst.blame == "coverage"
    assert abs(total.worst.error.coverage) > 0.001 and total.worst.error.aggregation == pytest.approx(0, abs=1e-6)


def test_a_naive_val_f1_logs_the_mean_of_the_validation_batches():
    y, s = worked_example()
    observation = driver(resolve(examples.naive_f1), "validation", SEM).run(y, s, Partition([100, 100, 100]))
    for epoch in observation.epochs:  # each epoch's val_naive_f1, against sklearn on the batches it evaluated
        assert epoch.reported == pytest.approx(sklearn_batch_mean(epoch.batches), abs=1e-5)
        assert epoch.batch_sizes == [100, 100, 100] and "val_naive_f1" in epoch.logs
        # the validation pass predicts with the end-of-epoch weights: what was fed is the end-of-epoch model's
        fed = np.concatenate([b[1] for b in epoch.batches])
        np.testing.assert_allclose(fed, epoch.end_scores[epoch.fed_indices], atol=1e-6)
    result = f1check.check(examples.naive_f1, modes=["validation"], examples=8, seed=0).results[0]
    assert not result.passed
    assert any("averages per-batch F1" in note for note in (r.text for r in result.counterexample.diagnosis))


@pytest.mark.parametrize("mode", ["validation", "validation-dropped"])
def test_a_streaming_f1_passes_both_validation_modes(mode):
    assert f1check.check(examples.StreamingF1, modes=[mode], examples=12, seed=0).passed


def test_counts_carried_from_the_training_epoch_into_validation_are_named():
    result = f1check.check(examples.NeverResetF1, modes=["validation"], examples=6, seed=0).results[0]
    assert not result.passed
    ce = result.counterexample
    assert ce.error.loop == pytest.approx(0, abs=1e-6)  # the subject's fault, not the loop's
    assert any(note.startswith("state carried across reset_state()") and "the training epoch just before" in note
               for note in (r.text for r in ce.diagnosis)), ce.diagnosis


def test_what_a_validation_generator_really_feeds_is_what_is_judged():
    y, s = worked_example()
    y, s = y[:12], s[:12]
    part = Partition([3, 3, 3, 3])  # validation_steps = 4 over a generator of these 4 batches, run on endlessly
    observation = driver(resolve(examples.StreamingF1), "validation", SEM).run(y, s, part, fed("generator"))
    first, second = (epoch.fed_indices.tolist() for epoch in observation.epochs)
    assert first == list(range(12))
    # Keras 3 does not run on through a Python generator from one validation pass to the next: later passes
    # re-feed batches it peeked at (batches 0, 1, 1, 2 in most of our runs; which ones depends on tf.data's
    # prefetching thread, so no exact list is pinned here): whatever it fed is what is judged
    assert len(second) == 12  # four steps of three
    for epoch in observation.epochs:  # f1_seen is over exactly what the recorder saw fed
        fed_y = np.concatenate([b[0] for b in epoch.batches])
        np.testing.assert_array_equal(fed_y, y[epoch.fed_indices])


def test_a_pass_that_fed_another_window_is_described_by_what_it_fed():
    # The second pass above: batch 1 fed twice, batch 3 never. Not "a dropped remainder", which it is not.
    note = unfed_note([0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8], 12, 0, " in epoch 2 of 2", fed("generator"))[1]
    assert note == ("3 of the 12 samples were never fed in epoch 2 of 2 and 3 were fed more than once: the loop fed "
                    "samples 0-5, 3-8 (a Python generator with steps), another window of the data than the partition's")
    # A generator run on across epochs, past a dropped remainder: the second pass starts at the remainder
    rotated = unfed_note([*range(240, 300), *range(60)], 300, 60, "", fed("generator"))[1]
    assert rotated.startswith("180 of the 300 samples were never fed and 0 were fed more than once") and \
        "samples 240-299, 0-59 " in rotated
    assert unfed_note(range(240), 300, 60, "", fed("generator")) == ("dropped-remainder",
                                                                     "60 samples were never fed (a dropped remainder)")


def test_judge_total_feeds_every_validation_sample_outside_the_dropped_mode():
    # fit(validation_data=...) without validation_steps validates every sample: judge 'total' must not fail a
    # right callback on samples f1check itself left out; validation-dropped still leaves the remainder unfed.
    # (Not fed by a Python generator: Keras 3 re-feeds some of its batches in a second validation pass, a real
    # gap that judge 'total' rightly fails; see the generator test above.)
    right = f1check.check(examples.ValidationF1FromLogs, modes=["validation"], judge="total", examples=8, seed=0,
                          feeds=["pydataset", "numpy", "tf.data"], **VALIDATION_COUNTS).results[0]
    assert right.passed and all(e.partition.dropped == 0 for e in right.runs), [e.partition for e in right.runs]


@pytest.mark.parametrize("mode", ["validation", "fit"])
def test_a_callback_that_keeps_state_across_epochs_is_named_and_the_loop_is_not_blamed(mode):
    # In fit the large fixed example starts the model far from the labels, so its two epochs score differently.
    result = f1check.check("fixtures.subjects:running_mean_f1", callback_key="val_f1", modes=[mode],
                           examples=6, seed=0).results[0]
    assert not result.passed
    worst = result.worst
    assert worst.epoch == 1 and worst.blame == "aggregation" and worst.error.loop == pytest.approx(0, abs=1e-6)
    assert any(r.text.startswith("the callback keeps state across epochs") for r in worst.diagnosis), worst.diagnosis
