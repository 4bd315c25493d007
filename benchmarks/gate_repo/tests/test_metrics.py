"""The repository's own quick test (plain pytest; f1check adds the F1 items under --f1check)."""

import numpy as np


def test_f1_of_one_batch():
    from gate_metrics.metrics import f1

    y = np.array([[1.0], [0.0], [1.0], [1.0]], "float32")
    s = np.array([[0.9], [0.8], [0.2], [0.7]], "float32")
    assert abs(float(f1(y, s)) - 2 / 3) < 1e-5
