"""How a check's cost grows with the data size and the number of batches, for a metric and a callback.

Three tables:

1. Given data of N = 10^3 ... 10^6 samples (fixed data, fuzzed partitions), one
   ``f1check.check`` of ``--examples`` examples per subject (a stateful
   metric; count metrics + a log callback) and mode (evaluate, fit): seconds,
   seconds per example, and that cost over one *pass*: the subject's metrics
   run once over the N samples in 16 batches inside a compiled function (the
   floor of any check of it).
2. Fuzzed data (up to 20,000 samples): the same checks, partitions and data drawn.
3. Batches per partition: N = 10,000, one explicit partition of k equal
   batches, through the real loop (``data=`` and ``partitions=`` given: the
   loop runs once, nothing is drawn): seconds per run.

Usage: python benchmarks/growth.py [--examples 20] [--sizes 1000 10000 100000 1000000]
Timings are for reading side by side within one run; nothing asserts on them.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def subjects():
    from f1check import examples

    counts = {"callback_key": "f1", "callback_metrics": list(examples.COUNT_METRICS)}
    return [("metric StreamingF1", examples.StreamingF1, {}, [examples.StreamingF1]),
            ("callback F1FromLogs + counts", examples.F1FromLogs, counts, list(examples.COUNT_METRICS))]


def one_pass(metrics, y, s) -> float:
    """Seconds for the metrics to see all N samples once, in 16 batches, in a compiled replay (after its trace)."""
    from f1check.loops.replay import CompiledReplay
    from f1check.subjects.targets import resolve

    replay = CompiledReplay.build([resolve(m) for m in metrics], (y[:2], s[:2]))
    sizes = tuple([len(y) // 16] * 15 + [len(y) - 15 * (len(y) // 16)])
    replay([(y, s, sizes, None)])
    started = time.perf_counter()
    replay([(y, s, sizes, None)])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16, 64, 256])
    args = parser.parse_args()

    import numpy as np

    import f1check
    from f1check import Partition
    from f1check.core.settings import Semantics
    from f1check.data import synthetic

    f1check.check(f1check.examples.StreamingF1, examples=2)  # the process's first Keras loop, outside the timings
    print(f"### Given data, {args.examples} examples per check\n")
    print("| subject | mode | N | seconds | s per example | one pass s | example / pass |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        y, s = synthetic(n, Semantics(), np.random.default_rng(n), positive_rate=0.3)
        for name, subject, extra, metrics in subjects():
            floor = one_pass(metrics, y, s)
            for mode in ("evaluate", "fit"):
                started = time.perf_counter()
                report = f1check.check(subject, modes=[mode], data=(y, s), examples=args.examples, seed=0, **extra)
                seconds = time.perf_counter() - started
                assert report.passed, str(report)
                per = seconds / report.results[0].examples
                print(f"| {name} | {mode} | {n:,} | {seconds:.2f} | {per:.3f} | {floor:.4f} | {per / floor:.0f}x |",
                      flush=True)
    print(f"\n### Fuzzed data (up to 20,000 samples), {args.examples} examples per check\n")
    print("| subject | mode | seconds | s per example |")
    print("|---|---|---:|---:|")
    for name, subject, extra, _ in subjects():
        for mode in ("evaluate", "fit"):
            started = time.perf_counter()
            report = f1check.check(subject, modes=[mode], examples=args.examples, seed=0, **extra)
            seconds = time.perf_counter() - started
            print(f"| {name} | {mode} | {seconds:.2f} | {seconds / report.results[0].examples:.3f} |", flush=True)
    print("\n### Batches per partition: N = 10,000, one loop run per check\n")
    print("| subject | mode | batches | seconds per run |")
    print("|---|---|---:|---:|")
    y, s = synthetic(10_000, Semantics(), np.random.default_rng(0), positive_rate=0.3)
    for name, subject, extra, _ in subjects():
        for mode in ("evaluate", "fit"):
            for k in args.batches:
                size = 10_000 // k
                partition = Partition([size] * (k - 1) + [10_000 - size * (k - 1)])
                f1check.check(subject, modes=[mode], data=(y, s), partitions=[partition], **extra)  # its traces
                started = time.perf_counter()
                f1check.check(subject, modes=[mode], data=(y, s), partitions=[partition], **extra)
                print(f"| {name} | {mode} | {k} | {time.perf_counter() - started:.3f} |", flush=True)


if __name__ == "__main__":
    main()
