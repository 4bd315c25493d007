"""The main job, ``python -m f1check demo``, as a new user runs it."""

import pytest

pytest.importorskip("keras")


def test_demo_prints_the_table_with_the_worked_example(capsys):
    from f1check.__main__ import main

    assert main(["demo", "--samples", "200"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    naive = next(line for line in lines if "worked example" in line and "naive metric function" in line)
    # The worked example: Keras logs the mean of batch F1 (0.643939) while sklearn says 122/151 = 0.807947.
    assert "0.643939" in naive and "0.807947" in naive and "FAIL (aggregation)" in naive
    for approach in ("count metrics + log callback", "predict callback", "keras.metrics.F1Score", "streaming metric"):
        assert any(approach in line and "PASS" in line for line in lines), approach
    assert "dropped" in out and "25 runs" in out


def test_demo_needs_a_command():
    from f1check.__main__ import main

    with pytest.raises(SystemExit):
        main([])
