"""The main job, ``python -m f1check demo``, as a new user runs it."""

import contextlib
import io
import re

import pytest

from f1check.__main__ import cases, main

APPROACHES = ("naive metric function", "count metrics + callback", "predict callback (sklearn)",
              "keras.metrics.F1Score", "streaming TP/FP/FN metric", "validation counts callback",
              "F1Score, weighted loop", "streaming, weights ignored", "streaming, (n,) int64 y",
              "no reshape, (n,) int64 y", "at 0.3, after load_model", "0.3 not in get_config")
WRONG = ("naive metric function", "streaming, weights ignored", "no reshape, (n,) int64 y", "0.3 not in get_config")


def rows_of(out: str) -> dict[str, list[str]]:
    """Each approach's rows (its first row names it; the rows under it, blank in that column, are its too)."""
    found, current = {}, None
    for line in out.splitlines():
        name = next((a for a in APPROACHES if line.startswith(f"  {a}")), None)
        if name:
            current = name
        elif not line.startswith("   ") or not re.search(r"\d\.\d{6}", line):
            current = None if not line.strip() else current
            continue
        found.setdefault(current, []).append(line)
    return found


@pytest.fixture(scope="module")
def seed_0():
    """The demo as the README runs it, through the command line's entry point (at 100 samples)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--samples", "100", "--seed", "0"]) == 0
    return out.getvalue()


@pytest.mark.long  # with the next test: they share the demo's 40 loops (a module fixture), started first
def test_demo_prints_every_approach_on_every_partition(seed_0):
    out = seed_0
    assert all(len(line) <= 100 for line in out.splitlines())
    naive = next(line for line in out.splitlines() if line.startswith("  naive metric function"))
    # The worked example: Keras logs the mean of batch F1 (0.643939) while sklearn says 122/151 = 0.807947.
    assert "0.643939" in naive and f"{122 / 151:.6f}" in naive and "FAIL aggregation -0.164008" in naive
    rows = rows_of(out)
    assert sorted(rows) == sorted(APPROACHES)
    for approach, lines in rows.items():
        assert len(lines) == 5, approach  # the worked example's partition and four of the random data
        verdicts = ["FAIL" if "FAIL" in line else "PASS" for line in lines]
        assert ("FAIL" in verdicts) is (approach in WRONG), (approach, lines)
    ignored = ["FAIL" if "FAIL" in line else "PASS" for line in rows["streaming, weights ignored"]]
    assert ignored == ["FAIL"] * 5  # at 100 samples the unweighted F1 is off by 0.10 on every partition
    lost = ["FAIL" if "FAIL" in line else "PASS" for line in rows["0.3 not in get_config"]]
    assert lost == ["PASS"] + ["FAIL"] * 4  # the worked example has no score in (0.3, 0.5]: both thresholds agree
    assert "60 runs, 19 failed" in out


@pytest.mark.long
def test_the_seed_changes_the_random_data_and_not_the_worked_example(seed_0):
    assert "--f1check-seed=0" in seed_0
    (_, worked_0, _), (_, random_0, partitions_0) = cases(0, 100)
    (_, worked_1, _), (_, random_1, partitions_1) = cases(1, 100)
    assert all((a == b).all() for a, b in zip(worked_0, worked_1))  # the worked example does not depend on it
    assert not (random_0[1] == random_1[1]).all() and partitions_0 != partitions_1


@pytest.mark.parametrize("argv, message", [([], "the following arguments are required: command"),
                                           (["demo", "--samples", "1"], "--samples must be at least 2")])
def test_bad_command_lines_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
