"""Run by tests/test_backends.py in a subprocess, once per Keras backend (KERAS_BACKEND is fixed at import).

Prints one JSON object: for every example subject, the verdict and the logged
values of evaluate-mode checks over fixed partitions of fixed data, and the
verdict of a short fuzzed search.
"""

import json
import sys

import numpy as np

import f1check
from f1check import Partition, examples
from f1check.core import backend
from f1check.data import worked_example

COUNTS = {"callback_key": "f1", "callback_metrics": list(examples.COUNT_METRICS)}
SUBJECTS = {  # name -> (subject, extra check() arguments)
    "naive_f1": (examples.naive_f1, {}),
    "StreamingF1": (examples.StreamingF1, {}),
    "F1FromLogs": (examples.F1FromLogs, COUNTS),
    "predict_f1_callback": (examples.predict_f1_callback, {"callback_key": "val_f1"}),
    "predict_first_samples_callback": (examples.predict_first_samples_callback, {"callback_key": "val_f1"}),
}


def fixed_cases():
    y, s = worked_example()
    rng = np.random.default_rng(3)
    ties = (rng.random((40, 1)) < 0.5).astype(np.float32), np.full((40, 1), 0.5, np.float32)
    ties[1][::3] = rng.random((14, 1)).astype(np.float32)
    return [
        ((y, s), [Partition([100, 100, 100]), Partition([1, 299]), Partition([64, 64, 64, 64], dropped=44)]),
        (ties, [Partition([8, 8, 8, 8, 8]), Partition([40])]),
    ]


def main(fuzzed_examples: int) -> dict:
    """Every case; with ``fuzzed_examples`` 0 only those whose logged values are compared across backends (the
    fuzzed searches are compared with the expected verdicts, which TensorFlow's own tests hold)."""
    out = {"backend": backend.keras().backend.backend(), "subjects": {}}
    for name, (subject, extra) in SUBJECTS.items():
        fixed = []
        for data, parts in fixed_cases():
            report = f1check.check(subject, data=data, partitions=parts, seed=0, **extra)
            fixed.append({"passed": report.passed, "reported": [e.reported for e in report.results[0].runs]})
        out["subjects"][name] = {"fixed": fixed}
        if fuzzed_examples:
            out["subjects"][name]["fuzzed_passed"] = f1check.check(subject, examples=fuzzed_examples, seed=0,
                                                                   **extra).passed
    y, s = worked_example()
    keep = np.r_[0:200, 250:300]
    phantom = f1check.check(examples.naive_f1, data=(y[keep], s[keep]), partitions=[Partition([100, 100, 50])],
                            feeds=["generator-no-steps"]).results[0].worst
    out["generator_without_steps_naive_reported"] = phantom.reported
    out["fit"] = {}
    for name in ("naive_f1", "F1FromLogs") if fuzzed_examples else ():
        subject, extra = SUBJECTS[name]
        for mode in ("fit", "fit-dropped"):
            result = f1check.check(subject, modes=[mode], examples=fuzzed_examples, seed=0, **extra).results[0]
            out["fit"][f"{name}:{mode}"] = {"passed": result.passed,
                                            "most_batches": max(len(e.fed_batch_sizes) for e in result.runs)}
    from f1check.loops.replay import CompiledReplay
    from f1check.subjects.targets import resolve

    out["compiled_replay"] = CompiledReplay.build([resolve(examples.StreamingF1)], (y[:2], s[:2])) is not None
    out["weighted"] = weighted_cases(fuzzed_examples)
    return out


def weighted_cases(fuzzed_examples: int) -> dict:
    """Weighted loops: Keras's F1Score as a weighted metric, and a streaming F1 that ignores its weights."""
    y, s = worked_example()
    w = np.resize(np.asarray([0.0, 1.0, 2.0, 3.0, 0.5], np.float32), len(y))
    found = {}
    for name, subject in (("keras_f1_score", examples.keras_f1_score), ("StreamingF1", examples.StreamingF1)):
        fixed = f1check.check(subject, data=(y, s, w), partitions=[Partition([100, 100, 100])], weighted=True).results[0]
        found[name] = {"passed": fixed.passed, "reported": fixed.worst.reported, "f1_seen": fixed.worst.f1_seen}
        if fuzzed_examples:
            found[name]["fit_passed"] = f1check.check(subject, modes=["fit"], examples=3, seed=0, weighted=True,
                                                      weights=["sample", "class"]).passed
    return found


if __name__ == "__main__":
    json.dump(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10), sys.stdout)
