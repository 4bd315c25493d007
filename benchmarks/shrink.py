"""How long the search takes to catch and shrink wrong subjects, and what it shrinks them to.

Usage: python benchmarks/shrink.py [--seeds 0 1 2]
Prints one row per subject and seed: wall time of ``f1check.check`` (search,
shrink and confirmation through the real loop), examples judged, and the
counterexample's size and partition.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()

    import keras

    import f1check
    from f1check import examples

    keras.ops.zeros(1)  # import and start the backend outside the timings
    subjects = [
        ("naive per-batch F1", examples.naive_f1, {}),
        ("ties at 0.5 counted positive", examples.TiesPositiveF1, {}),
        ("F1Score(threshold=None), multiclass", lambda: keras.metrics.F1Score(average="macro"), {"task": "multiclass"}),
    ]
    print("| subject | seed | seconds | examples | counterexample n | partition |")
    print("|---|---|---|---|---|---|")
    for name, subject, kwargs in subjects:
        for seed in args.seeds:
            started = time.perf_counter()
            result = f1check.check(subject, seed=seed, **kwargs).results[0]
            elapsed = time.perf_counter() - started
            ce = result.counterexample
            shape = f"{ce.n} | {ce.partition.short()}" if ce else "- | passed"
            print(f"| {name} | {seed} | {elapsed:.1f} | {result.examples} | {shape} |", flush=True)


if __name__ == "__main__":
    main()
