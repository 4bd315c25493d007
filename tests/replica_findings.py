"""Run by tests/test_replicas.py in a process of its own (a warm run, tests/warm.py): replicas need TensorFlow's
devices split before it starts.

Prints one JSON object: the worked example of the README (batches of 100)
through ``evaluate`` under 2 replicas for each example subject, short fuzzed
checks under replicas, and what Keras's own ``predict_on_batch`` returns there.
"""

import json
import sys
import time

import f1check

f1check.prepare_replicas(2)  # before anything starts TensorFlow

import numpy as np  # noqa: E402
from f1check.reporting.report import example_json  # noqa: E402

from f1check import Partition, examples  # noqa: E402
from f1check.data import worked_example  # noqa: E402

COUNTS = {"callback_key": "f1", "callback_metrics": list(examples.COUNT_METRICS)}
SUBJECTS = {
    "naive_f1": (examples.naive_f1, {}),
    "keras_f1_score": (examples.keras_f1_score, {}),
    "StreamingF1": (examples.StreamingF1, {}),
    "F1FromLogs": (examples.F1FromLogs, COUNTS),
    "predict_f1_callback": (examples.predict_f1_callback, {"callback_key": "val_f1"}),
}


def main(fuzzed_examples: int) -> dict:
    y, s = worked_example()
    out = {"worked": {}, "fuzzed": {}}
    start = time.perf_counter()
    for name, (subject, extra) in SUBJECTS.items():
        result = f1check.check(subject, data=(y, s), partitions=[Partition([100, 100, 100])], replicas=2,
                               **extra).results[0]
        e = result.worst
        out["worked"][name] = {"passed": result.passed, "reported": e.reported, "replayed": e.replayed,
                               "f1_seen": e.f1_seen, "blame": e.blame, "diagnosis": [r.text for r in e.diagnosis],
                               "fed_batch_sizes": list(e.fed_batch_sizes), "json": example_json(e)}
    out["seconds_worked"] = time.perf_counter() - start
    for name, mode in (("naive_f1", "evaluate"), ("StreamingF1", "fit")):
        subject, extra = SUBJECTS[name]
        result = f1check.check(subject, modes=[mode], examples=fuzzed_examples, seed=0, replicas=2,
                               **extra).results[0]
        out["fuzzed"][name] = {"mode": mode, "passed": result.passed,
                               "batch_sizes": [list(e.fed_batch_sizes) for e in result.runs]}
    out["seconds_total"] = time.perf_counter() - start
    import keras

    from f1check.core.backend import replica_strategy

    with replica_strategy(2).scope():
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    out["predict_on_batch_rows"] = int(model.predict_on_batch(np.zeros((4, 1), np.float32)).shape[0])
    out["predict_rows"] = int(model.predict(np.zeros((4, 1), np.float32), verbose=0).shape[0])
    return out


if __name__ == "__main__":
    json.dump(main(int(sys.argv[1]) if len(sys.argv) > 1 else 4), sys.stdout)
