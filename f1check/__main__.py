"""``python -m f1check demo``: the approaches people use, through real Keras loops, a row as each completes."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from . import Partition, check
from .core.backend import environment
from .core.settings import Semantics
from .data import synthetic, worked_example
from .plugin import merge
from .reporting.report import fmt
from .scaffold import add_command as add_init
from .scaffold import main as init

ROW = "  {:<26} {:<16} {:>8} {:>8} {:>8}  {}"  # approach, partition, reported, f1_seen, f1_all, verdict: 100 columns


def approaches(examples) -> list[tuple[str, object, dict]]:
    return [
        ("naive metric function", examples.naive_f1, {}),
        ("count metrics + callback", examples.F1FromLogs,
         {"callback_key": "f1", "callback_metrics": examples.COUNT_METRICS}),
        ("predict callback (sklearn)", examples.predict_f1_callback, {"callback_key": "val_f1"}),
        ("keras.metrics.F1Score", examples.keras_f1_score, {}),
        ("streaming TP/FP/FN metric", examples.StreamingF1, {}),
        ("validation counts callback", examples.ValidationF1FromLogs,
         {"callback_key": "val_f1", "callback_metrics": examples.VALIDATION_COUNT_METRICS,
          "modes": ["validation"]}),
        ("F1Score, weighted loop", examples.keras_f1_score, WEIGHTED),
        ("streaming, weights ignored", examples.StreamingF1, WEIGHTED),
        ("streaming, (n,) int64 y", examples.StreamingF1, FLAT),
        ("no reshape, (n,) int64 y", examples.ColumnOnlyF1, FLAT),
        ("at 0.3, after load_model", examples.streaming_f1_at_03, RELOADED),
        ("0.3 not in get_config", examples.unsaved_f1_at_03, RELOADED),
    ]


# The checkpoint rows: compiled at threshold 0.3, trained an epoch, model.save, load_model, then evaluate and fit
RELOADED = {"threshold": 0.3, "modes": ["reloaded"]}


# The label-form rows: the labels fed as df["label"].values gives them, (n,) int64
FLAT = {"labels": ["flat"], "label_dtypes": ["int64"]}


# The weighted rows: the subject in compile(weighted_metrics=...), the data with per-sample weights 0, 1, 2, 3, 0.5
WEIGHTED = {"weighted": True, "weights": ["sample"]}
SAMPLE_WEIGHTS = (0.0, 1.0, 2.0, 3.0, 0.5)


def with_weights(data, kwargs: dict):
    """The data of an approach: with per-sample weights for the weighted rows."""
    import numpy as np

    if not kwargs.get("weighted"):
        return data
    return (*data, np.resize(np.asarray(SAMPLE_WEIGHTS, np.float32), len(data[0])))


def cases(seed: int, samples: int):
    """(title, data, partitions): the worked example, then random data with uneven and floor-steps partitions."""
    import numpy as np

    rng = np.random.default_rng(seed)
    y, s = synthetic(samples, Semantics(), rng, positive_rate=0.1)
    cuts = sorted(rng.choice(np.arange(1, samples), size=min(9, samples - 1), replace=False).tolist())
    uneven = [b - a for a, b in zip([0, *cuts], [*cuts, samples])]
    return [
        ("worked example: 300 samples", worked_example(), [Partition([100, 100, 100])]),
        (f"random: {samples} samples, 10% positive", (y, s), [
            Partition(uneven),
            Partition.shuffled(uneven[::-1], order_seed=seed),
            Partition.floor_steps(samples, max(1, samples // 15 - 3)),
            Partition.floor_steps(samples, max(1, samples * 3 // 10)),
        ]),
    ]


def short(partition, width: int = 16) -> str:
    """The partition in at most ``width`` characters: ``46+118+...(10)`` when its batches do not fit."""
    text = partition.short()
    if len(text) <= width:
        return text
    sizes = partition.batch_sizes
    tail = f"+...({len(sizes)})"
    head = ""
    for size in sizes:
        if len(head) + len(str(size)) + 1 + len(tail) > width:
            break
        head = f"{head}+{size}" if head else str(size)
    return head + tail


def verdict(example) -> str:
    if example.passed:
        return "PASS"
    return f"FAIL {example.blame} {fmt(getattr(example.error, example.blame), True)}"


def demo(seed: int = 0, samples: int = 1000, out=None) -> int:
    """Print the table to ``out`` (stdout); Keras is imported through f1check, which holds back TensorFlow's start-up lines."""
    return _demo(seed, samples, out or sys.stdout)


def _demo(seed: int, samples: int, out) -> int:
    examples = importlib.import_module("f1check.examples")  # imports Keras and its backend
    env = environment(seed)
    started, runs, failures = time.perf_counter(), 0, 0
    print("f1check demo: is the F1 your Keras loop logs true?", file=out)
    print(env.header(), file=out)
    print("Each row is one real Keras loop over one partition (model.evaluate; one epoch of fit for a", file=out)
    print("callback; fit with validation_data for the validation row; for the load_model rows, the", file=out)
    print("evaluate and the fit epoch after model.save and load_model), judged against sklearn's F1 on", file=out)
    print("what the loop fed (f1_seen) and on all samples (f1_all): the verdict bounds", file=out)
    print("|reported - f1_seen| by 0.001 and names the largest error term when it fails.", file=out)
    for title, data, partitions in cases(seed, samples):
        print(f"\n{title}", file=out)
        print(ROW.format("approach", "partition", "reported", "f1_seen", "f1_all", "verdict"), file=out, flush=True)
        for name, subject, kwargs in approaches(examples):
            result = check(subject, data=with_weights(data, kwargs), partitions=partitions, seed=seed,
                           **kwargs).results[0]
            for e in result.runs:
                runs, failures = runs + 1, failures + (not e.passed)
                print(ROW.format(name, short(e.partition), fmt(e.reported), fmt(e.f1_seen), fmt(e.f1_all),
                                 verdict(e)), file=out, flush=True)
                name = ""
    print("\nReading it: the naive function logs the mean of per-batch F1 (aggregation); the count", file=out)
    print("metrics, the predict callback and the stateful metrics are exact on what was fed; a dropped", file=out)
    print("remainder leaves samples unfed (f1_all differs: judge 'total' would fail it). In a weighted", file=out)
    print("loop F1Score weighs each sample as sklearn's sample_weight does; a metric that ignores its", file=out)
    print("weights logs the unweighted F1. Fed (n,) labels, a metric that multiplies them by its (n, 1)", file=out)
    print("predictions without a reshape counts over a (b, b) outer product; with one it is exact. A", file=out)
    print("metric whose get_config leaves out its threshold comes back from load_model at 0.5.", file=out)
    print(f"{runs} runs, {failures} failed, {time.perf_counter() - started:.1f} s.", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m f1check", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("demo", help="run the approaches through real Keras loops and print a table")
    run.add_argument("--seed", type=int, default=0, help="seed for data and partitions. Default: %(default)r")
    run.add_argument("--samples", type=int, default=1000, help="size of the random dataset. Default: %(default)r")
    merge.add_parser(commands)
    add_init(commands)
    args = parser.parse_args(argv)
    if args.command == "merge":
        return merge.main(args)
    if args.command == "init":
        return init(args)
    if args.samples < 2:
        parser.error("--samples must be at least 2")
    return demo(seed=args.seed, samples=args.samples)


if __name__ == "__main__":
    sys.exit(main())
