"""The count-metrics-plus-log-callback approach against a predict callback, settled with numbers.

A reported 2-3 % gap between F1 computed from epoch-averaged count metrics
(TP, actual and predicted positives, a callback dividing them) and F1 from a
predict callback was blamed on ``fit_generator`` dropping the remainder batch,
or on rounding. This script trains the small model of f1check's fit driver
(logistic regression, SGD, two epochs) with both subjects over many
dropped-remainder partitions (``fit-dropped``, judge ``total``) and prints
the gap with its attribution:

- gap = log-callback F1 - predict-callback F1 (= sklearn on all samples with
  the end-of-epoch model, since the predict callback is exact);
- loop, aggregation, coverage, drift: the terms of that gap (they add up).

The same study for the validation pass: the seed's validation-count callback
(``val_f1`` from ``val_true_positives``, ``val_possible_positives``,
``val_predicted_positives``) in ``validation`` and ``validation-dropped``
(``validation_steps = N // batch_size``), fed as a ``PyDataset`` and as a
Python generator (which a real ``fit_generator`` loop would run on from one
epoch to the next: rotation).

Usage: python benchmarks/count_metrics.py [--samples 2000] [--datasets 3]
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BATCH_SIZES = (32, 64, 100, 128, 150, 200, 256, 300, 384, 512, 700)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--datasets", type=int, default=3)
    args = parser.parse_args()

    import numpy as np

    import f1check
    from f1check import Partition, examples
    from f1check.core.settings import Semantics
    from f1check.data import synthetic

    training = (examples.F1FromLogs, {"callback_key": "f1", "callback_metrics": list(examples.COUNT_METRICS)})
    validation = (examples.ValidationF1FromLogs,
                  {"callback_key": "val_f1", "callback_metrics": list(examples.VALIDATION_COUNT_METRICS)})
    studies = [("fit-dropped", "pydataset", training), ("fit", "pydataset", training),
               ("validation-dropped", "pydataset", validation), ("validation-dropped", "generator", validation),
               ("validation", "pydataset", validation)]
    rows = []
    for dataset in range(args.datasets):
        y, s = synthetic(args.samples, Semantics(), np.random.default_rng(dataset), positive_rate=0.2)
        n = args.samples
        dropped = [Partition.floor_steps(n, bs) for bs in BATCH_SIZES]
        # the same batch sizes with the remainder fed as a last, smaller batch: no coverage term
        fed = [Partition([bs] * (n // bs) + ([n % bs] if n % bs else [])) for bs in BATCH_SIZES]
        for mode, feed, (log_callback, counts) in studies:
            partitions = dropped if mode.endswith("-dropped") else fed
            common = {"data": (y, s), "partitions": partitions, "modes": [mode], "judge": "total", "seed": dataset,
                      "feeds": [feed]}
            log = f1check.check(log_callback, **counts, **common).results[0].runs
            predict = f1check.check(examples.predict_f1_callback, callback_key="val_f1", **common).results[0].runs
            for a, b in zip(log, predict):
                rows.append((dataset, f"{mode} ({feed})", a, b))
    print(f"{args.samples} samples, 20% positive; {args.datasets} datasets x {len(BATCH_SIZES)} batch sizes x "
          f"{len(studies)} studies; the worst epoch of 2 of the log callback is shown")
    print("| data | mode | batch size | dropped | log F1 | sklearn, all (predict callback) | gap | loop | aggregation | coverage | drift |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for dataset, mode, a, b in rows:
        e = a.error
        print(f"| {dataset} | {mode} | {a.batch_sizes[0]} | {a.dropped} | {a.reported:.4f} | {a.f1_all:.4f} | "
              f"{a.reported - a.f1_all:+.4f} | {e.loop:+.4f} | {e.aggregation:+.4f} | {e.coverage:+.4f} | {e.drift:+.4f} |")
    print()
    for mode in dict.fromkeys(m for _, m, _, _ in rows):
        picked = [(a, b) for _, m, a, b in rows if m == mode]
        gaps = [abs(a.reported - a.f1_all) for a, _ in picked]
        mean = lambda xs: statistics.mean(abs(x) for x in xs)  # noqa: E731
        print(f"{mode}: mean |gap| {statistics.mean(gaps):.4f} (max {max(gaps):.4f}); mean |loop| "
              f"{mean(a.error.loop for a, _ in picked):.5f}, |aggregation| {mean(a.error.aggregation for a, _ in picked):.5f}, "
              f"|coverage| {mean(a.error.coverage for a, _ in picked):.4f}, |drift| {mean(a.error.drift for a, _ in picked):.4f}; "
              f"predict callback vs sklearn: max |error| {max(abs(b.reported - b.f1_all) for _, b in picked):.2g}")


if __name__ == "__main__":
    main()
