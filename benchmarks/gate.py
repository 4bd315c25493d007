"""The gate's cost: what ``pytest --f1check`` costs a model repo, in plain Keras units, and where it goes.

Three parts, each printed as markdown tables:

a. **Plain unit.**  One plain ``model.fit`` epoch plus one ``model.evaluate``
   on 1,000 samples (8 features, batch 64) of a compiled ``Dense`` logistic
   regression with ``keras.metrics.F1Score(threshold=0.5)`` compiled in,
   after a warm-up (which traces), median of ``--unit-runs``.  Every other
   time is also given in these units, so that numbers from different machines
   or loads can be compared: "this item costs 40 plain fit+evaluate".

b. **Profile of one item of each kind** (``--items``): one
   ``f1check.check(subject, modes=[mode], examples=N, seed=0, ...)`` call,
   plus ``str(report)``, in a fresh subprocess per item (no TensorFlow state
   carried over).  The subprocess first imports Keras, f1check, sklearn,
   hypothesis and the subjects' modules and starts the backend (*import*),
   then runs one plain unit (*warm-up*: the one-time cost of a process's
   first Keras loop, which a pytest session pays once; ``--cold`` skips it);
   both are outside the item's time.  The item's wall time is split
   into buckets by **timers wrapped around functions** (monkeypatching, not
   cProfile: exact, and cheap enough not to distort), each elapsed time
   charged to the **innermost** open bucket only (a bucket's time excludes
   the time of buckets opened inside it), so the buckets add up:

   - *setup*: Keras model construction and compile (``Functional.__init__``,
     ``keras.Model.compile``, symbolic ``keras.Layer.__call__`` outside any
     loop), and, *inside a Keras loop*, every TensorFlow trace
     (``tracing_compilation._create_concrete_function``) and the first call of
     every new ``ConcreteFunction`` (its instantiation and first step);
   - *loop*: the rest of ``keras.Model.fit/evaluate/predict/predict_on_batch/
     train_on_batch/test_on_batch`` (the steps, Keras's loop machinery,
     callbacks the subject brings);
   - *replay*: f1check functions whose module or qualified name contains
     "replay" (the compiled replay, and feeding the subject directly after
     a loop run to split the error);
   - *reference*: f1check functions in modules whose name contains
     "reference", and ``sklearn.metrics.f1_score``/``fbeta_score`` when called
     outside loop/replay/setup (a predict callback's own sklearn call is the
     subject's, not the reference);
   - *reporting*: f1check functions in modules whose name starts with "report",
     and functions named like ``render``/``failure_message``/``summary_rows``;
   - *shrinking*: everything after the first failure inside hypothesis runs:
     from the first test execution that raises a non-hypothesis exception to
     the end of that ``run_engine``, and every later hypothesis run of the
     check (the re-search that shrinks, a loop search that shrinks a
     loop-only failure).  Bucket time inside these windows counts here, not in
     its bucket; a second table splits it.  0 for a passing subject.
   - *other*: the rest (hypothesis drawing data and partitions, f1check's
     glue: harness resets, ``set_weights``, feeding, judging); "in hyp." is
     the part of *other* spent inside hypothesis runs before any failure.

   *Keras under replay* is the part of setup+loop spent in Keras calls that
   a replay function made (a predict callback replayed calls
   ``model.predict`` again); the innermost rule charges it to setup/loop.

   Rules match module/qualified-name *patterns* (``replay``, ``reference``,
   ``report``) over every ``f1check.*`` module, and stable Keras/TensorFlow/
   hypothesis entry points, so they survive a reorganisation of f1check's
   modules.  Where a TensorFlow internal is missing, traces stay in *loop*
   and the table says so.

c. **Repo run** (``--repo``): ``python -m pytest --f1check -p no:cacheprovider
   -q --durations=0 -n 0 --f1check-seed=0`` in ``benchmarks/gate_repo`` (a
   repo of 19 targets, 25 items, 7 wrong on purpose), in a subprocess with
   this checkout's f1check first on ``PYTHONPATH``: wall time, per-item
   durations (setup+call+teardown), the slowest items, verdict counts, in
   seconds and in plain units (the unit measured before and after the run,
   their mean).  Under ``-q`` pytest prints no header, so the first item also
   pays the session's Keras/TensorFlow import.

Usage::

    python benchmarks/gate.py [--examples 50] [--repo] [--items streaming:evaluate naive:fit ...]
    python benchmarks/gate.py --repo --items          # repo run only (no profiles)

Item ids: ``{streaming,naive,counts}:{evaluate,fit,fit-dropped}`` and
``predict:evaluate``.  Timings are for reading side by side within one run
(the machine is shared); nothing asserts on them.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent  # the f1check checkout this script belongs to
REPO = HERE / "gate_repo"
MARK = "GATE-JSON:"
MODES = ("evaluate", "fit", "fit-dropped")
COUNTS = [f"gate_metrics.metrics:{name}" for name in ("tp", "actual_positives", "predicted_positives")]
KINDS = {
    "streaming": ("metric StreamingF1 (right)", "gate_metrics.metrics:StreamingF1", {}),
    "naive": ("metric f1 per batch (wrong)", "gate_metrics.metrics:f1", {}),
    "counts": ("count metrics + F1FromLogs", "gate_metrics.callbacks:F1FromLogs",
               {"callback_key": "f1", "callback_metrics": COUNTS}),
    "predict": ("predict callback", "gate_metrics.callbacks:predict_f1", {"callback_key": "val_f1"}),
}
DEFAULT_ITEMS = [f"{k}:{m}" for k in ("streaming", "naive", "counts") for m in MODES] + ["predict:evaluate"]
BUCKETS = ("setup", "loop", "replay", "reference", "reporting")


# -- markdown ------------------------------------------------------------------


def markdown(header, rows, right=None) -> str:
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)]
    right = right if right is not None else [i > 0 for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)) + " |"

    sep = "| " + " | ".join(("-" * (w - 1) + ":") if r else "-" * w for w, r in zip(widths, right)) + " |"
    return "\n".join([line([str(h) for h in header]), sep, *(line(r) for r in rows)])


def env_with_checkout() -> dict:
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = env.get("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join([str(CHECKOUT), *filter(None, [env.get("PYTHONPATH")])])
    return env


# -- a. the plain unit ---------------------------------------------------------------


class PlainUnit:
    """One plain fit epoch + one evaluate, 1,000 samples, batch 64, compiled F1Score; traced once in warm-up."""

    def __init__(self):
        import keras
        import numpy as np

        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(1000, 8)).astype("float32")
        w = rng.normal(size=8)
        self.y = ((self.x @ w + rng.normal(size=1000)) > 0).astype("float32")[:, None]
        self.model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1, activation="sigmoid")])
        self.model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[keras.metrics.F1Score(threshold=0.5)])
        self.once()  # warm-up: traces the train and test functions

    def once(self) -> float:
        started = time.perf_counter()
        self.model.fit(self.x, self.y, epochs=1, batch_size=64, shuffle=False, verbose=0)
        self.model.evaluate(self.x, self.y, batch_size=64, verbose=0)
        return time.perf_counter() - started

    def measure(self, runs: int) -> list[float]:
        return [self.once() for _ in range(runs)]


# -- b. the profile (runs in a child process) -------------------------------------------


class Ledger:
    """Exclusive time per bucket, charged to the innermost open bucket; shrink windows kept apart."""

    def __init__(self):
        self.main = threading.get_ident()
        self.stack: list[list] = []  # [bucket, start, time of nested buckets]
        self.totals: dict[str, float] = defaultdict(float)
        self.in_shrink_totals: dict[str, float] = defaultdict(float)
        self.counts: Counter = Counter()
        self.under_replay: dict[str, float] = defaultdict(float)  # loop/setup time of Keras calls made by replay
        self.failed = False  # a hypothesis test execution has failed in this check
        self.in_window = False
        self.window_start = 0.0
        self.window = 0.0
        self.runs = 0
        self.run_start = self.run_buckets = None
        self.hypothesis_other = 0.0  # time inside hypothesis runs, before a failure, outside buckets
        self.notes: list[str] = []

    def top(self):
        return self.stack[-1][0] if self.stack else None

    def open(self, bucket):
        self.stack.append([bucket, time.perf_counter(), 0.0])

    def close(self):
        bucket, start, nested = self.stack.pop()
        total = time.perf_counter() - start
        (self.in_shrink_totals if self.in_window else self.totals)[bucket] += total - nested
        if bucket in ("loop", "setup") and not self.in_window and any(b[0] == "replay" for b in self.stack):
            self.under_replay[bucket] += total - nested
        if self.stack:
            self.stack[-1][2] += total

    def _bucketed(self) -> float:
        return sum(self.totals.values())

    # hypothesis runs
    def run_begin(self):
        self.runs += 1
        if self.failed:
            self._window_begin()
        else:
            self.run_start, self.run_buckets = time.perf_counter(), self._bucketed()

    def _window_begin(self):
        if not self.in_window:
            self.in_window, self.window_start = True, time.perf_counter()

    def _close_run_part(self):
        if self.run_start is not None:
            self.hypothesis_other += (time.perf_counter() - self.run_start) - (self._bucketed() - self.run_buckets)
            self.run_start = None

    def run_end(self):
        self._close_run_part()
        if self.in_window:
            self.window += time.perf_counter() - self.window_start
            self.in_window = False

    def test_failed(self):
        if not self.failed:
            self.failed = True
            self._close_run_part()
            self._window_begin()


LEDGER: Ledger | None = None


def timed(fn, bucket):
    """``fn`` with a timer; ``bucket`` is a name or a function of the innermost open bucket (None: transparent)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ledger = LEDGER
        if ledger is None or threading.get_ident() != ledger.main:
            return fn(*args, **kwargs)
        name = bucket(ledger.top()) if callable(bucket) else bucket
        if name is None:
            return fn(*args, **kwargs)
        if ledger.top() != name:
            ledger.counts[name] += 1  # entries into the bucket, not nested calls within it
        ledger.open(name)
        try:
            return fn(*args, **kwargs)
        finally:
            ledger.close()

    wrapper.__gate_timed__ = True
    return wrapper


def f1check_rule(module: str, qualname: str) -> str | None:
    """The bucket of an f1check function, by module and qualified-name patterns."""
    leaf = module.rsplit(".", 1)[-1]
    if "replay" in module.lower() or "replay" in qualname.lower():
        return "replay"
    if "reference" in module.lower():
        return "reference"
    if leaf.startswith("report") or re.search(r"render|failure_message|summary_rows", qualname):
        return "reporting"
    return None


def instrument_f1check() -> list[str]:
    """Wrap every f1check function a rule matches, in every f1check module; return what was wrapped."""
    import pkgutil

    import f1check

    for info in pkgutil.walk_packages(f1check.__path__, "f1check."):
        if info.name.endswith("__main__") or "legacy" in info.name:
            continue
        try:
            importlib.import_module(info.name)
        except Exception:  # an optional part that cannot import here
            continue
    modules = [m for name, m in list(sys.modules.items())
               if m is not None and (name == "f1check" or name.startswith("f1check."))]
    replaced, wrapped = {}, []
    keep = {"__init__", "__call__", "__str__"}
    for module in modules:
        for name, obj in list(vars(module).items()):
            if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not hasattr(obj, "__gate_timed__"):
                bucket = f1check_rule(module.__name__, obj.__qualname__)
                if bucket and not inspect.isgeneratorfunction(obj):
                    replaced[id(obj)] = timed(obj, bucket)
                    wrapped.append(f"{module.__name__}.{obj.__qualname__} -> {bucket}")
            elif inspect.isclass(obj) and obj.__module__ == module.__name__:
                for attr, raw in list(vars(obj).items()):
                    if attr.startswith("__") and attr not in keep:
                        continue
                    kind = type(raw) if isinstance(raw, (staticmethod, classmethod)) else None
                    fn = raw.__func__ if kind else raw
                    if not inspect.isfunction(fn) or hasattr(fn, "__gate_timed__") or inspect.isgeneratorfunction(fn):
                        continue
                    bucket = f1check_rule(module.__name__, f"{obj.__qualname__}.{attr}")
                    if bucket:
                        new = timed(fn, bucket)
                        setattr(obj, attr, kind(new) if kind else new)
                        wrapped.append(f"{module.__name__}.{obj.__qualname__}.{attr} -> {bucket}")
    for module in modules:  # every module-level name bound to a wrapped function (``from .x import f``)
        for name, obj in list(vars(module).items()):
            if id(obj) in replaced and inspect.isfunction(obj):
                setattr(module, name, replaced[id(obj)])
    return wrapped


def instrument_keras(ledger: Ledger) -> None:
    import keras

    def in_loop(top):
        return "setup" if top in ("loop", "setup") else None

    def outside(top):
        return "setup" if top in (None, "setup") else None

    for method in ("fit", "evaluate", "predict", "predict_on_batch", "train_on_batch", "test_on_batch"):
        setattr(keras.Model, method, timed(getattr(keras.Model, method), "loop"))
    keras.Model.compile = timed(keras.Model.compile, "setup")
    keras.Layer.__call__ = timed(keras.Layer.__call__, outside)
    try:
        from keras.src.models.functional import Functional

        Functional.__init__ = timed(Functional.__init__, "setup")
    except ImportError:
        ledger.notes.append("Functional.__init__ not found: functional model construction is in other")
    if keras.backend.backend() != "tensorflow":
        ledger.notes.append("not TensorFlow: traces are not separated from loop")
        return
    try:
        import weakref

        from tensorflow.python.eager.polymorphic_function import concrete_function, tracing_compilation

        create = timed(tracing_compilation._create_concrete_function, in_loop)

        def _create_concrete_function(*args, **kwargs):
            if ledger.top() in ("loop", "setup"):
                ledger.counts["traces"] += 1
            return create(*args, **kwargs)

        tracing_compilation._create_concrete_function = _create_concrete_function
        seen = weakref.WeakSet()
        call_flat = concrete_function.ConcreteFunction._call_flat
        first_call = timed(call_flat, in_loop)

        def _call_flat(self, *args, **kwargs):
            if self in seen:
                return call_flat(self, *args, **kwargs)
            seen.add(self)
            return first_call(self, *args, **kwargs)

        concrete_function.ConcreteFunction._call_flat = _call_flat
    except (ImportError, AttributeError) as exc:
        ledger.notes.append(f"TensorFlow tracing internals not found ({exc}): traces are not separated from loop")


def instrument_sklearn() -> None:
    import sklearn.metrics

    def reference_outside(top):
        return "reference" if top in (None, "reference", "reporting") else None

    for name in ("f1_score", "fbeta_score"):
        original = getattr(sklearn.metrics, name)
        wrapped = timed(original, reference_outside)
        setattr(sklearn.metrics, name, wrapped)
        classification = sys.modules.get("sklearn.metrics._classification")
        if classification is not None and getattr(classification, name, None) is original:
            setattr(classification, name, wrapped)


def instrument_hypothesis(ledger: Ledger) -> None:
    from hypothesis import core

    state = core.StateForActualGivenExecution
    run_engine, execute_once = state.run_engine, state.execute_once

    def timed_run_engine(self, *args, **kwargs):
        ledger.run_begin()
        try:
            return run_engine(self, *args, **kwargs)
        finally:
            ledger.run_end()

    def watched_execute_once(self, *args, **kwargs):
        try:
            return execute_once(self, *args, **kwargs)
        except BaseException as exc:
            if not type(exc).__module__.startswith("hypothesis") and isinstance(exc, Exception):
                ledger.test_failed()
            raise

    state.run_engine = timed_run_engine
    state.execute_once = watched_execute_once


def profile_one(item: str, examples: int, cold: bool = False) -> dict:
    """Run one item (``kind:mode``) instrumented; the numbers as a dict."""
    global LEDGER
    kind, mode = item.split(":")
    title, subject, kwargs = KINDS[kind]
    started = time.perf_counter()
    import hypothesis  # noqa: F401
    import keras
    import sklearn.metrics  # noqa: F401

    import f1check

    check = f1check.check  # the public function (before importing every submodule rebinds the name)
    sys.path.insert(0, str(REPO))  # as the plugin puts the rootdir first
    importlib.import_module("gate_metrics.metrics")
    importlib.import_module("gate_metrics.callbacks")
    keras.ops.convert_to_numpy(keras.ops.zeros(1) + 1)  # start the backend
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    if not cold:  # the process's one-time costs of a first Keras loop, paid once per pytest session
        PlainUnit()
    warm_s = time.perf_counter() - started

    ledger = Ledger()
    wrapped = instrument_f1check()
    instrument_keras(ledger)
    instrument_sklearn()
    instrument_hypothesis(ledger)
    LEDGER = ledger
    started = time.perf_counter()
    report = check(subject, modes=[mode], examples=examples, seed=0, **kwargs)
    checked = time.perf_counter()
    ledger.open("reporting")
    text = str(report)
    ledger.close()
    finished = time.perf_counter()
    LEDGER = None
    result = report.results[0]
    wall = finished - started
    buckets = {b: ledger.totals.get(b, 0.0) for b in BUCKETS}
    in_shrink = {b: ledger.in_shrink_totals.get(b, 0.0) for b in BUCKETS}
    other = wall - sum(buckets.values()) - ledger.window
    return {
        "item": item,
        "title": title,
        "mode": mode,
        "examples": result.examples,
        "passed": result.passed,
        "counterexample_n": result.counterexample.n if result.counterexample is not None else None,
        "import_s": import_s,
        "warm_s": warm_s,
        "wall_s": wall,
        "check_s": checked - started,
        "buckets": buckets,
        "shrinking": ledger.window,
        "in_shrink": in_shrink,
        "other": other,
        "hypothesis_other": ledger.hypothesis_other,
        "hypothesis_runs": ledger.runs,
        "under_replay": ledger.under_replay.get("loop", 0.0) + ledger.under_replay.get("setup", 0.0),
        "loop_calls": ledger.counts.get("loop", 0),
        "traces": ledger.counts.get("traces", 0),
        "report_chars": len(text),
        "notes": ledger.notes,
        "wrapped": len(wrapped),
    }


def run_child(item: str, examples: int, cold: bool = False) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--profile-one", item, "--examples", str(examples)]
    command += ["--cold"] if cold else []
    done = subprocess.run(command, capture_output=True, text=True, env=env_with_checkout(), cwd=str(REPO))
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"profile of {item} failed (rc {done.returncode}):\n"
                       f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def profile_tables(results: list[dict], unit: float) -> str:
    def s(v):
        return f"{v:.2f}"

    def pct(v, wall):
        return f"{v:.2f} ({100 * v / wall:.0f}%)" if wall else s(v)

    rows, shrink_rows = [], []
    for r in results:
        wall, b = r["wall_s"], r["buckets"]
        verdict = "PASS" if r["passed"] else f"FAIL (n={r['counterexample_n']})"
        rows.append([
            r["title"], r["mode"], verdict, r["examples"], s(r["import_s"]), s(r["warm_s"]), s(wall),
            pct(b["setup"], wall), pct(b["loop"], wall), pct(b["replay"], wall), pct(b["reference"], wall),
            pct(r["shrinking"], wall), pct(b["reporting"], wall), pct(r["other"], wall), s(r["hypothesis_other"]),
            s(r["under_replay"]),
            r["loop_calls"], r["traces"], f"{wall / unit:.0f}",
        ])
        if r["shrinking"] > 0:
            sb = r["in_shrink"]
            rest = r["shrinking"] - sum(sb.values())
            shrink_rows.append([r["title"], r["mode"], s(r["shrinking"]), s(sb["setup"]), s(sb["loop"]),
                                s(sb["replay"]),
                                s(sb["reference"]), s(rest), r["hypothesis_runs"]])
    header = ["item", "mode", "verdict", "examples", "import s", "warm-up s", "item s", "setup", "loop", "replay",
              "reference",
              "shrinking", "reporting", "other", "other in hyp.", "Keras under replay", "loop calls", "traces", "units"]
    out = [markdown(header, rows, right=[False, False, False] + [True] * (len(header) - 3))]
    if shrink_rows:
        out += ["", "Inside shrinking (seconds):", "",
                markdown(["item", "mode", "shrinking", "setup", "loop", "replay", "reference", "other",
                          "hypothesis runs"],
                         shrink_rows, right=[False, False] + [True] * 7)]
    notes = sorted({n for r in results for n in r["notes"]})
    if notes:
        out += ["", *[f"note: {n}" for n in notes]]
    return "\n".join(out)


# -- c. the repo run ----------------------------------------------------------------------


DURATION = re.compile(r"^\s*([\d.]+)s\s+(setup|call|teardown)\s+(\S.*?)\s*$")
OUTCOME = re.compile(r"(\d+) (failed|passed|skipped|errors?|xfailed|xpassed|deselected)")


def repo_run(examples: int | None) -> dict:
    import importlib.util

    command = [sys.executable, "-m", "pytest", "--f1check", "-p", "no:cacheprovider", "-q", "--durations=0",
               "--f1check-seed=0"]
    if importlib.util.find_spec("xdist") is not None:
        command += ["-n", "0"]
    if examples is not None:
        command.append(f"--f1check-examples={examples}")
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env_with_checkout(), cwd=str(REPO))
    wall = time.perf_counter() - started
    durations: dict[str, float] = defaultdict(float)
    for line in done.stdout.splitlines():
        m = DURATION.match(line)
        if m:
            durations[m.group(3)] += float(m.group(1))
    failed = {line.split()[1] for line in done.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))}
    summary = next((line for line in reversed(done.stdout.splitlines()) if " in " in line and OUTCOME.search(line)), "")
    lines = done.stdout.splitlines()
    first = None  # the first item run: the first row of f1check's summary table (items run in config order)
    for k, line in enumerate(lines[:-2]):
        if line.startswith("target") and " verdict " in line and lines[k + 1].startswith("---"):
            target, mode = lines[k + 2].split()[:2]
            first = f"f1check::{target}[{mode}]"
            break
    return {
        "command": " ".join(["python", *command[1:]]),
        "rc": done.returncode,
        "wall_s": wall,
        "durations": dict(durations),
        "failed": sorted(failed),
        "summary": summary.strip("= "),
        "first": first,
        "tail": done.stdout[-2000:] + done.stderr[-2000:],
    }


def repo_tables(run: dict, unit: float) -> str:
    durations = run["durations"]
    items = {k: v for k, v in durations.items() if k.startswith("f1check::")}
    others = {k: v for k, v in durations.items() if not k.startswith("f1check::")}
    f1_failed = [k for k in run["failed"] if k.startswith("f1check::")]
    in_items = sum(items.values())
    rows = [
        ["whole run (wall)", f"{run['wall_s']:.1f}", f"{run['wall_s'] / unit:.0f}"],
        [f"f1check items ({len(items)})", f"{in_items:.1f}", f"{in_items / unit:.0f}"],
        ["other tests", f"{sum(others.values()):.1f}", f"{sum(others.values()) / unit:.0f}"],
        ["session (start, import, collection, summary)", f"{run['wall_s'] - in_items - sum(others.values()):.1f}",
         f"{(run['wall_s'] - in_items - sum(others.values())) / unit:.0f}"],
    ]
    out = [markdown(["repo run", "seconds", "units"], rows), ""]
    out.append(f"Verdicts: f1check items {len(items) - len(f1_failed)} passed, {len(f1_failed)} failed; "
               f"pytest: {run['summary']}")
    if run.get("first") in items:
        first = run["first"]
        out.append(f"The first item, `{first.removeprefix('f1check::')}`, took {items[first]:.1f} s: under "
                   "`-q` it also pays the session's Keras/TensorFlow import.")
    out.append("")
    slow = sorted(items.items(), key=lambda kv: -kv[1])
    out.append(markdown(["slowest f1check items", "verdict", "seconds", "units", "share"],
                        [[k.removeprefix("f1check::"), "FAIL" if k in run["failed"] else "PASS", f"{v:.1f}",
                          f"{v / unit:.0f}", f"{100 * v / in_items:.0f}%"] for k, v in slow[:5]],
                        right=[False, False, True, True, True]))
    by_mode = defaultdict(lambda: [0, 0.0])
    for k, v in items.items():
        mode = k.rsplit("[", 1)[-1].rstrip("]")
        verdict = "FAIL" if k in run["failed"] else "PASS"
        by_mode[(mode, verdict)][0] += 1
        by_mode[(mode, verdict)][1] += v
    out += ["", markdown(["mode", "verdict", "items", "seconds", "s/item", "units/item"],
                         [[m, vd, n, f"{t:.1f}", f"{t / n:.1f}", f"{t / n / unit:.0f}"]
                          for (m, vd), (n, t) in sorted(by_mode.items(),
                                                        key=lambda kv: (MODES.index(kv[0][0]), kv[0][1]))],
                         right=[False, False, True, True, True, True])]
    return "\n".join(out)


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="examples per item. Default: %(default)r")
    parser.add_argument("--repo", action="store_true", help="also run pytest --f1check over benchmarks/gate_repo")
    parser.add_argument("--items", nargs="*", default=DEFAULT_ITEMS,
                        help="profiled items, kind:mode (none: no profiles). Default: all %(default)s")
    parser.add_argument("--unit-runs", type=int, default=5, help="plain units measured each time. Default: %(default)r")
    parser.add_argument("--cold", action="store_true",
                        help="profile each item as the first Keras work of its process (no plain warm-up loop)")
    parser.add_argument("--save", help="also write the raw numbers as JSON to this path")
    parser.add_argument("--profile-one", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.profile_one:
        print(MARK + json.dumps(profile_one(args.profile_one, args.examples, args.cold)), flush=True)
        return
    for item in args.items:
        kind, _, mode = item.partition(":")
        if kind not in KINDS or mode not in MODES:
            parser.error(f"unknown item {item!r}: kinds {sorted(KINDS)}, modes {list(MODES)}")

    import keras

    import f1check

    if not Path(f1check.__file__).resolve().is_relative_to(CHECKOUT):
        print(f"warning: f1check imports from {f1check.__file__}, not this checkout {CHECKOUT}", file=sys.stderr)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"keras {keras.__version__} ({keras.backend.backend()}), f1check from {Path(f1check.__file__).parent}")
    unit = PlainUnit()
    before = unit.measure(args.unit_runs)
    print(f"\n### Plain unit (1 fit epoch + 1 evaluate, 1,000 samples, batch 64, F1Score compiled in)\n")
    print(markdown(["measured", "median s", "min s", "max s", "runs"],
                   [["before", f"{statistics.median(before):.3f}", f"{min(before):.3f}", f"{max(before):.3f}",
                     len(before)]]),
          flush=True)
    units = [statistics.median(before)]
    saved = {"unit_before": before, "examples": args.examples}

    if args.items:
        results = []
        for item in args.items:
            results.append(run_child(item, args.examples, args.cold))
            print(f"  profiled {item}: {results[-1]['wall_s']:.1f} s", file=sys.stderr, flush=True)
        after = unit.measure(args.unit_runs)
        units.append(statistics.median(after))
        u = statistics.mean(units)
        print(f"\n### One item of each kind ({args.examples} examples, seed 0, a fresh process each; "
              f"unit {u:.3f} s = mean of the medians before ({units[0]:.3f}) and after ({units[1]:.3f}))\n")
        print("Seconds (share of the item's wall time); import is outside the item; units = item s / unit s.\n")
        print(profile_tables(results, u), flush=True)
        saved.update(unit_after=after, profiles=results)

    if args.repo:
        before_repo = statistics.median(unit.measure(args.unit_runs))
        run = repo_run(args.examples if args.examples != 50 else None)
        after_repo = statistics.median(unit.measure(args.unit_runs))
        u = (before_repo + after_repo) / 2
        print(f"\n### Repo run: `cd benchmarks/gate_repo && {run['command']}` (rc {run['rc']})\n")
        print(f"Unit {u:.3f} s (median before the run {before_repo:.3f}, after {after_repo:.3f}).\n")
        if not run["durations"]:
            print("no durations parsed; output tail:\n" + run["tail"])
        else:
            print(repo_tables(run, u))
        saved.update(repo=run, repo_unit=[before_repo, after_repo])
    if args.save:
        Path(args.save).write_text(json.dumps(saved, indent=1) + "\n")


if __name__ == "__main__":
    main()
