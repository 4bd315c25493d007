"""``python -m f1check demo``: the approaches people use, through real Keras loops."""

from __future__ import annotations

import argparse
import sys
import time


def demo(seed: int = 0, samples: int = 1000) -> int:
    import numpy as np

    from . import Partition, check, examples
    from .backend import environment
    from .data import synthetic, worked_example
    from .report import fmt, table
    from .settings import Semantics

    approaches = [
        ("naive metric function", examples.naive_f1, {}),
        (
            "count metrics + log callback",
            examples.F1FromLogs,
            {"callback_key": "f1", "callback_metrics": examples.COUNT_METRICS},
        ),
        ("predict callback (sklearn)", examples.predict_f1_callback, {"callback_key": "val_f1"}),
        ("keras.metrics.F1Score", examples.keras_f1_score, {}),
        ("streaming metric (TP/FP/FN)", examples.StreamingF1, {}),
    ]
    rng = np.random.default_rng(seed)
    y, s = synthetic(samples, Semantics(), rng, positive_rate=0.1)
    samples = len(y)
    cuts = sorted(rng.choice(np.arange(1, samples), size=min(9, samples - 1), replace=False).tolist())
    uneven = [b - a for a, b in zip([0, *cuts], [*cuts, samples])]
    cases = [
        ("worked example", worked_example(), [Partition([100, 100, 100])]),
        (
            f"random, {samples} samples, 10% positive",
            (y, s),
            [
                Partition(uneven),
                Partition.shuffled(uneven[::-1], order_seed=seed),
                Partition.floor_steps(samples, max(1, samples // 15 - 3)),
                Partition.floor_steps(samples, max(1, samples * 3 // 10)),
            ],
        ),
    ]
    started = time.perf_counter()
    header = ("data", "partition", "approach", "reported", "f1_seen", "f1_all", "loop", "aggregation", "coverage", "drift", "verdict")
    rows, failures, runs = [], 0, 0
    for data_label, data, partitions in cases:
        by_partition: dict = {p: [] for p in partitions}
        for name, subject, kwargs in approaches:
            result = check(subject, data=data, partitions=partitions, seed=seed, **kwargs).results[0]
            for e in result.runs:
                by_partition[e.partition].append((name, e))
        for partition, found in by_partition.items():
            partition_label = partition.short()
            for name, e in found:
                runs += 1
                failures += not e.passed
                rows.append(
                    (
                        data_label,
                        partition_label,
                        name,
                        fmt(e.reported),
                        fmt(e.f1_seen),
                        fmt(e.f1_all),
                        fmt(e.error.loop, True),
                        fmt(e.error.aggregation, True),
                        fmt(e.error.coverage, True),
                        fmt(e.error.drift, True),
                        "PASS" if e.passed else f"FAIL ({e.blame})",
                    )
                )
                data_label = partition_label = ""  # each data and partition is named once
            rows.append(("",) * len(header))
    env = environment(seed)
    print("f1check demo: is the F1 your Keras loop logs true?")
    print(env.header())
    print("Each row is one real model.evaluate (one epoch of fit for callbacks), judged against")
    print("sklearn.metrics.f1_score on what the loop fed (f1_seen) and on all samples (f1_all).")
    print("error terms add up to reported - f1_all; the verdict bounds |reported - f1_seen| by 0.001.")
    print()
    print("\n".join(table(rows[:-1], header)))
    print()
    print("Reading it: the naive function logs the mean of per-batch F1 (aggregation error); the count")
    print("metrics, the predict callback and the stateful metrics are exact on what was fed; a dropped")
    print("remainder shows as a coverage term (judge 'total' would fail it).")
    print(f"{runs} runs, {failures} failed, {time.perf_counter() - started:.1f} s.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m f1check", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("demo", help="run the approaches through real Keras loops and print a table")
    run.add_argument("--seed", type=int, default=0, help="seed for data and partitions. Default: %(default)r")
    run.add_argument("--samples", type=int, default=1000, help="size of the random dataset. Default: %(default)r")
    args = parser.parse_args(argv)
    if args.samples < 2:
        parser.error("--samples must be at least 2")
    return demo(seed=args.seed, samples=args.samples)


if __name__ == "__main__":
    sys.exit(main())
