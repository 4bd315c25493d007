"""The main job, ``python -m f1check demo``, as a new user runs it."""

import io
import re

import pytest

from f1check.__main__ import demo, main

APPROACHES = ("naive metric function", "count metrics + callback", "predict callback (sklearn)",
              "keras.metrics.F1Score", "streaming TP/FP/FN metric", "validation counts callback")


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
    out = io.StringIO()
    assert demo(seed=0, samples=100, out=out) == 0
    return out.getvalue()


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
        verdicts = {"FAIL" if "FAIL" in line else "PASS" for line in lines}
        assert verdicts == ({"FAIL"} if approach == "naive metric function" else {"PASS"}), (approach, lines)
    assert "30 runs, 5 failed" in out


def test_the_command_line_runs_the_demo_and_its_seed_changes_the_random_data(seed_0, capsys):
    assert main(["demo", "--samples", "100", "--seed", "1"]) == 0
    seed_1 = capsys.readouterr().out
    assert "--f1check-seed=0" in seed_0 and "--f1check-seed=1" in seed_1
    worked = [out.split("random:")[0].splitlines()[-8:] for out in (seed_0, seed_1)]
    random_rows = [out.split("random:")[1].splitlines()[2:] for out in (seed_0, seed_1)]
    assert worked[0] == worked[1]  # the worked example does not depend on the seed
    assert random_rows[0] != random_rows[1]


@pytest.mark.parametrize("argv, message", [([], "the following arguments are required: command"),
                                           (["demo", "--samples", "1"], "--samples must be at least 2")])
def test_bad_command_lines_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
