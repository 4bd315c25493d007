"""Power from the first examples: the classic per-batch F1 against seeds 0-19 at examples=5, in every mode.

A gate must fail a wrong metric whatever the seed.  Every check starts from
fixed examples (uneven batches with an all-negative batch, a one-sample
batch, scores at the threshold, a dropped remainder), so the per-batch F1
fails at once; this sweep records it.

Usage: python benchmarks/seed_sweep.py [--seeds 20] [--examples 5] [--modes evaluate fit ...]
Prints a markdown table: per mode, how many seeds failed the subject, the
counterexamples' sizes, and the seconds per check.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--examples", type=int, default=5)
    parser.add_argument("--modes", nargs="*", default=["evaluate", "fit", "fit-dropped", "validation",
                                                         "validation-dropped"])
    args = parser.parse_args()

    import f1check
    from f1check import examples

    f1check.check(examples.StreamingF1, examples=2)  # Keras's first loop, outside the timings
    print(f"| mode | seeds | failed | counterexample n (min-max) | dominant term | s per check (median) |")
    print("|---|---:|---:|---|---|---:|")
    for mode in args.modes:
        failed, sizes, terms, seconds = 0, [], set(), []
        for seed in range(args.seeds):
            started = time.perf_counter()
            result = f1check.check(examples.naive_f1, modes=[mode], examples=args.examples, seed=seed).results[0]
            seconds.append(time.perf_counter() - started)
            if not result.passed:
                failed += 1
                sizes.append(result.counterexample.n)
                terms.add(result.counterexample.blame)
        span = f"{min(sizes)}-{max(sizes)}" if sizes else "-"
        print(f"| {mode} | {args.seeds} | {failed} | {span} | {', '.join(sorted(terms))} | "
              f"{statistics.median(seconds):.2f} |", flush=True)


if __name__ == "__main__":
    main()
