"""Throughput of a fuzzed evaluate-mode check, against the plain way and the numpy floor.

One run prints a table at N = 1k, 10k, 100k for a stateful metric (StreamingF1):

- plain: the obvious way to test many partitions, one ``model.evaluate`` per
  partition over a model compiled once (a ``PyDataset`` feeding the partition);
- f1check search: the hypothesis search on the replay path, reference included;
- f1check check: the whole ``f1check.check`` call, confirmation runs through
  the real loop included;
- numpy floor: confusion counts and F1 per partition, nothing else.

Usage: python benchmarks/throughput.py [--examples 300] [--plain 20] [--sizes 1000 10000 100000]
Timings are for reading side by side within one run; nothing asserts on them.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def draw_partitions(n: int, count: int, seed: int):
    """``count`` partitions of ``n`` drawn by the search's own strategy, deterministically."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    from f1check import strategies
    from f1check.search.explore import MAX_BATCHES

    drawn = []

    @hseed(seed)
    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategies.partitions(n, max_batches=MAX_BATCHES))
    def collect(partition):
        drawn.append(partition)

    collect()
    return drawn[:count]


def plain_way(y, s, partitions) -> float:
    """Examples per second: one model.evaluate per partition, a plain Keras model compiled once.

    The model looks each sample's score up by its index (a frozen Embedding); a PyDataset feeds exactly
    the partition's batches.  Nothing of f1check's is in it.
    """
    import keras
    import numpy as np

    from f1check.examples import StreamingF1

    class Batches(keras.utils.PyDataset):
        def __init__(self, partition):
            super().__init__()
            self.batches = partition.batches()

        def __len__(self):
            return len(self.batches)

        def __getitem__(self, k):
            index = self.batches[k]
            return index[:, None].astype("int32"), y[index]

    model = keras.Sequential([
        keras.Input((1,), dtype="int32"),
        keras.layers.Embedding(len(y), 1, embeddings_initializer=keras.initializers.Constant(s.reshape(-1, 1)),
                               trainable=False),
        keras.layers.Reshape((1,)),
    ])
    model.compile(loss="binary_crossentropy", metrics=[StreamingF1()])
    model.evaluate(Batches(partitions[0]), steps=partitions[0].steps, verbose=0)  # trace once
    started = time.perf_counter()
    for p in partitions:
        model.evaluate(Batches(p), steps=p.steps, verbose=0)
    del np
    return len(partitions) / (time.perf_counter() - started)


def numpy_floor(y, s, partitions) -> float:
    from f1check.core.settings import Semantics
    from f1check.judging.reference import Confusion

    confusion = Confusion(y, s, Semantics())
    started = time.perf_counter()
    for p in partitions:
        confusion.fed(p.indices(), p.fed)
    return len(partitions) / (time.perf_counter() - started)


SUBJECTS = {  # score -> the stateful metric checked (f1check.examples)
    "f1": "StreamingF1",
    "precision": "keras_precision",
    "recall": "keras_recall",
    "mcc": "StreamingMCC",
}


def f1check_rates(y, s, examples: int, seed: int, score: str = "f1"):
    """(search examples/s, whole check examples/s, examples, replay traces)."""
    from f1check import check
    from f1check import examples as subjects
    from f1check.core.modes import Mode
    from f1check.core.settings import CheckSettings, Semantics
    from f1check.loops.drivers import Driver
    from f1check.search.candidates import Replayer
    from f1check.search.explore import Assessor, Explorer, Tally
    from f1check.search.runner import Runner
    from f1check.subjects.context import CheckInputs

    subject = getattr(subjects, SUBJECTS[score])
    settings = CheckSettings(examples=examples, seed=seed, semantics=Semantics(score=score))
    started = time.perf_counter()  # the replay's build and trace count
    context = CheckInputs.build(subject, settings, data=(y, s)).context(Mode.EVALUATE)
    driver = Driver(context)
    replayer = Replayer(context, driver)
    tally = Tally(examples)
    explorer = Explorer(context, Assessor(Runner(context, driver), replayer), tally)  # the search alone: no fixed runs
    assert explorer.search(examples) is None
    search_rate = tally.evaluated / (time.perf_counter() - started)
    started = time.perf_counter()
    report = check(subject, data=(y, s), examples=examples, seed=seed, score=score)
    check_rate = report.results[0].examples / (time.perf_counter() - started)
    assert report.passed, str(report)
    return search_rate, check_rate, report.results[0].examples, replayer.compiled_replay.traces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="f1check examples per size. Default: %(default)r")
    parser.add_argument("--plain", type=int, default=20, help="model.evaluate runs per size. Default: %(default)r")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scores", nargs="+", default=["f1"], choices=sorted(SUBJECTS))
    args = parser.parse_args()

    import keras
    import numpy as np

    from f1check.core.settings import Semantics
    from f1check.data import synthetic

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"keras {keras.__version__} ({keras.backend.backend()})")
    header = ("score", "N", "plain ex/s", "f1check search ex/s", "f1check check ex/s", "numpy floor ex/s", "search/plain",
              "check/plain", "traces")
    rows = []
    for n in args.sizes:
        rng = np.random.default_rng([args.seed, n])
        y, s = synthetic(n, Semantics(), rng, positive_rate=0.3)
        partitions = draw_partitions(n, max(args.plain, 200), args.seed)
        plain = plain_way(y, s, partitions[: args.plain])
        floor = numpy_floor(y, s, partitions)
        for score in args.scores:
            search, whole, examples, traces = f1check_rates(y, s, args.examples, args.seed, score)
            rows.append((score, f"{n:,}", f"{plain:.1f}", f"{search:.0f}", f"{whole:.0f}", f"{floor:.0f}",
                         f"{search / plain:.0f}x", f"{whole / plain:.0f}x", str(traces)))
            print(f"  {score}, N={n:,}: {examples} examples", flush=True)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |")


if __name__ == "__main__":
    main()
