"""What a run leaves behind: JSON numbers that say NaN and infinity, snippets that stay small, Keras's globals kept."""

import math

import keras
import numpy as np
import pytest

import f1check
from f1check import examples
from f1check.core import backend
from f1check.core.modes import Mode
from f1check.core.partitions import Partition
from f1check.judging.reference import Attribution
from f1check.judging.results import Example
from f1check.plugin import config as f1config
from f1check.reporting import report
from f1check.plugin.runstate import RunState


def test_json_numbers_say_nan_and_infinity_as_strings_never_null():
    assert [report.json_float(v) for v in (math.nan, math.inf, -math.inf, 0.25, None)] == ["nan", "inf", "-inf", 0.25, None]
    example = Example(reported=math.inf, replayed=math.nan, f1_seen=0.5, f1_all=0.5,
                      error=Attribution(math.nan, math.inf, 0.0, 0.0), partition=Partition([2]), judged_error=math.inf,
                      passed=False, mode=Mode.EVALUATE)
    written = report.example_json(example)
    assert (written["reported"], written["replayed"], written["f1_seen"]) == ("inf", "nan", 0.5)
    assert written["error"] == {"loop": "nan", "aggregation": "inf", "coverage": 0.0, "drift": 0.0}


def test_a_large_counterexample_saves_its_order_with_its_data_and_the_snippet_stays_small(tmp_path):
    rng = np.random.default_rng(0)
    n = 5000
    y = (rng.random(n) < 0.3).astype("float32")
    s = np.clip(0.5 + (y - 0.5) * rng.uniform(-0.4, 1.0, n), 0, 1).astype("float32")
    result = f1check.check(examples.naive_f1, data=(y, s), examples=2, save_dir=tmp_path).results[0]
    ce = result.counterexample
    assert not result.passed and ce.n == n and ce.partition.order is not None  # the negatives-first fixed order
    assert len(result.reproduce) < 2000, result.reproduce  # not 5000 indices inline
    assert "order=saved['order0'].tolist()" in result.reproduce
    saved = np.load(next(tmp_path.glob("*.npz")))
    assert saved["order0"].tolist() == list(ce.partition.order)
    with pytest.raises(f1check.F1CheckFailure, match=f"{ce.reported:.6f}"):
        exec(result.reproduce, {})


def test_each_item_starts_from_keras_globals_as_they_are_once_every_target_is_imported(tmp_path, monkeypatch):
    # A target module that sets Keras's epsilon when imported changes every other target's logged value; the
    # run imports them all first, so an item's verdict does not depend on which items ran before it (-k, --lf).
    (tmp_path / "sets_epsilon.py").write_text(
        "import keras\nkeras.config.set_epsilon(0.25)\n\ndef f1(y_true, y_pred):\n    return y_true[0, 0]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    state = RunState(run=f1config.resolve({}, {"targets": ["sets_epsilon:f1", "not_a_module:f1"]}, {}, None), cli={})
    before = backend.keras_globals()
    try:
        state.prime(tmp_path)  # a target that does not import is the business of its own item
        assert state.keras_globals.epsilon == 0.25
        keras.config.set_epsilon(1e-3)
        backend.restore_keras_globals(state.keras_globals)
        assert keras.config.epsilon() == 0.25
    finally:
        backend.restore_keras_globals(before)


def test_the_progress_reports_the_worst_error_so_far_and_the_live_line_fits_its_room():
    from f1check.plugin.progress import status
    from f1check.search.explore import Tally

    seen = []
    tally = Tally(10, progress=lambda done, total, worst: seen.append(worst))
    for worst in (0.12, 0.0, 0.3, 2.6e-08):
        tally.note(1, worst)
    assert seen == [0.12, 0.12, 0.3, 0.3]  # never shrinks on a failing item
    assert status("pkg.metrics:f1[evaluate]", 3, 50, 0.3, 2, 80) == "  [pkg.metrics:f1[evaluate]: 3/50 examples, worst |error| 0.3, 2 s]"
    assert status(None, 3, 50, 0.3, 2, 80) == "  [3/50 examples, worst |error| 0.3, 2 s]"
    assert status("pkg.metrics:f1[evaluate]", 3, 50, 0.3, 2, 24) == "  [3/50, worst 0.3, 2 s]"
    assert status("x", 3, 50, 0.3, 2, 3) == ""
