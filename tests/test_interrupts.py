"""Interrupts that reach a subject inside a compiled step (issue 41): pytest-timeout's signal and thread methods,
f1check's own budget and SIGTERM end a metric whose update_state blocks in a ``tf.py_function``, the item is
recorded, and the next item runs clean.

TensorFlow turns an exception raised inside a ``tf.py_function`` (where the alarm lands while it sleeps) into an op
error; before this, the loop took it for the subject's own error and the check went on (an item with
``--timeout=5`` ran 11 minutes and passed). Budgets are far from the work: the blocked subject sleeps an hour, the
items that must finish take 2-6 s and get a minute.
"""

import json
import os
import signal
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import warm
from support import require

METRICS = '''
import signal
import time

import keras
import tensorflow as tf


def _nap(x):
    time.sleep(3600)  # an hour, inside the compiled step
    return x


def _deaf_nap(x):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGINT, signal.SIGTERM})
    time.sleep(3600)  # an hour where no signal reaches this thread
    return x


class StreamingF1(keras.metrics.Metric):
    def __init__(self, name="streaming_f1", **kwargs):
        super().__init__(name=name, **kwargs)
        self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")
        self.fp = self.add_variable(shape=(), initializer="zeros", name="fp")
        self.fn = self.add_variable(shape=(), initializer="zeros", name="fn")

    def prediction(self, y_pred):
        return y_pred

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = self.prediction(y_pred)
        y_true = keras.ops.reshape(keras.ops.cast(y_true, "float32"), (-1, 1))
        p = keras.ops.cast(y_pred > 0.5, "float32")
        self.tp.assign_add(keras.ops.sum(y_true * p))
        self.fp.assign_add(keras.ops.sum((1 - y_true) * p))
        self.fn.assign_add(keras.ops.sum(y_true * (1 - p)))

    def result(self):
        return 2 * self.tp / keras.ops.maximum(2 * self.tp + self.fp + self.fn, 1e-7)

    def reset_state(self):
        for v in (self.tp, self.fp, self.fn):
            v.assign(0.0)


class BlockedF1(StreamingF1):
    """Sleeps an hour in a tf.py_function inside update_state."""

    def prediction(self, y_pred):
        y_pred = tf.py_function(_nap, [y_pred], tf.float32)
        y_pred.set_shape([None, 1])
        return y_pred


class DeafF1(StreamingF1):
    """Sleeps an hour in a tf.py_function whose thread blocks every signal."""

    def prediction(self, y_pred):
        y_pred = tf.py_function(_deaf_nap, [y_pred], tf.float32)
        y_pred.set_shape([None, 1])
        return y_pred
'''


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "__init__.py").write_text("")
    (tmp_path / "slow" / "metrics.py").write_text(METRICS)
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent('''
        [tool.pytest.ini_options]
        pythonpath = ["."]

        [tool.f1check]
        examples = 10
        modes = ["evaluate"]
        labels = ["column"]
        label_dtypes = ["float32"]
        targets = ["slow.metrics:BlockedF1", "slow.metrics:StreamingF1", "slow.metrics:DeafF1"]
    '''))
    return tmp_path


def start(repo: Path, *args: str) -> warm.WarmProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return warm.pytest_in(repo, "-p", "no:randomly", "-p", "no:cacheprovider", "--f1check", "--f1check-report=r.json",
                          *args, env=env, merge=True)


def run(repo: Path, *args: str) -> tuple[int, str, float]:
    started = time.monotonic()
    process = start(repo, *args)
    out, _ = process.communicate(900)
    return process.returncode, out, time.monotonic() - started


def records(repo: Path) -> tuple[dict, dict]:
    report = json.loads((repo / "r.json").read_text())
    return report, {r["target"]: r for r in report["results"]}


BLOCKED, RIGHT, DEAF = "f1check::slow.metrics:BlockedF1[evaluate]", "f1check::slow.metrics:StreamingF1[evaluate]", \
    "f1check::slow.metrics:DeafF1[evaluate]"


@pytest.mark.long
def test_pytest_timeouts_signal_method_ends_a_subject_blocked_in_the_compiled_step(repo):
    require("pytest_timeout", "pip install pytest-timeout")
    code, out, took = run(repo, "--timeout=60", BLOCKED, RIGHT)
    assert took < 600, out[-3000:]  # an hour of sleep, ended at the 60 s alarm
    report, found = records(repo)
    assert code == 1 and report["complete"] is True, out[-3000:]
    assert found["slow.metrics:BlockedF1"]["status"] == "error"
    assert "Timeout" in found["slow.metrics:BlockedF1"]["error"], found["slow.metrics:BlockedF1"]
    assert found["slow.metrics:StreamingF1"]["status"] == "pass", found["slow.metrics:StreamingF1"]  # runs clean


@pytest.mark.long
def test_f1checks_budget_and_sigterm_end_a_subject_blocked_in_the_compiled_step(repo):
    code, out, took = run(repo, "--f1check-timeout=60", BLOCKED, RIGHT)
    assert took < 600, out[-3000:]
    report, found = records(repo)
    assert code == 1 and report["complete"] is True, out[-3000:]
    assert "ran out of its time budget of 60 s" in found["slow.metrics:BlockedF1"]["error"]
    assert found["slow.metrics:StreamingF1"]["status"] == "pass"
    (repo / "r.json").unlink()
    process = start(repo, BLOCKED, RIGHT)
    time.sleep(30)  # BlockedF1 is asleep in its first batch by now (or still starting: SIGTERM ends that too)
    process.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    out, _ = process.communicate(300)
    assert time.monotonic() - sent < 120 and process.returncode == 2, out[-3000:]
    report, found = records(repo)
    assert report["complete"] is False and found["slow.metrics:BlockedF1"]["error"].startswith("f1check: interrupted")


@pytest.mark.long
def test_pytest_timeouts_thread_method_leaves_every_report(repo):
    require("pytest_timeout", "pip install pytest-timeout")
    # f1check's budget ends the blocked item under pytest-timeout's 60 s: the run goes on and ends as usual
    code, out, took = run(repo, "--timeout=60", "--timeout-method=thread", "--junitxml=j.xml", BLOCKED, RIGHT)
    assert took < 600 and "+++ Timeout +++" not in out, out[-3000:]
    report, found = records(repo)
    assert code == 1 and report["complete"] is True, out[-3000:]
    assert "ran out of its time budget of 55 s" in found["slow.metrics:BlockedF1"]["error"]
    assert found["slow.metrics:StreamingF1"]["status"] == "pass"
    # a subject no signal reaches: pytest-timeout ends the process, after f1check wrote the report and JUnit
    code, out, took = run(repo, "--timeout=60", "--timeout-method=thread", "--junitxml=j.xml",
                          "--f1check-summary=s.md", RIGHT, DEAF)
    assert took < 600 and "+++ Timeout +++" in out and code == 1, out[-3000:]
    report, found = records(repo)
    assert report["complete"] is False and report["expected"] == 2
    assert found["slow.metrics:StreamingF1"]["status"] == "pass"
    assert found["slow.metrics:DeafF1"]["error"].startswith("f1check: timed out: pytest-timeout's thread method")
    cases = {c.get("name"): c for c in ET.parse(repo / "j.xml").iter("testcase")}
    assert {"slow.metrics:StreamingF1[evaluate]", "slow.metrics:DeafF1[evaluate]"} <= set(cases), list(cases)
    assert cases["slow.metrics:DeafF1[evaluate]"].find("error") is not None
    assert "slow.metrics:DeafF1" in (repo / "s.md").read_text()


@pytest.mark.long
def test_ctrl_c_under_xdist_records_what_finished_and_what_was_running(repo):
    require("xdist", "pip install pytest-xdist")
    import subprocess
    import sys

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    args = ["-p", "no:randomly", "-p", "no:cacheprovider", "--f1check", "-n", "2", "--f1check-report=r.json", BLOCKED,
            RIGHT]
    # Ctrl-C as a terminal sends it: SIGINT to the whole process group, controller and workers, handled as Python
    # does by default (a test runner may have left SIGINT ignored, which a child would inherit)
    code = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            f"sys.argv = ['pytest', *{args!r}]; runpy.run_module('pytest', run_name='__main__')")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=repo, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # StreamingF1 (2-6 s) has its record; BlockedF1 sleeps in its first batch
        if (repo / "r.json").exists() and '"slow.metrics:StreamingF1"' in (repo / "r.json").read_text():
            break
        time.sleep(0.5)
    time.sleep(5)
    os.killpg(process.pid, signal.SIGINT)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 2, out[-3000:]
    report, found = records(repo)
    assert (report["complete"], report["expected"], report["exit_status"]) == (False, 2, 2)
    assert found["slow.metrics:StreamingF1"]["status"] == "pass"  # finished on a worker before the interrupt
    assert found["slow.metrics:BlockedF1"]["status"] == "error"  # running on the other worker
    assert found["slow.metrics:BlockedF1"]["error"].startswith("f1check: interrupted"), found


def test_an_alarm_that_lands_in_a_gc_callback_is_raised_after_it(monkeypatch):
    """CPython swallows an exception raised while the garbage collector runs (its callbacks, TensorFlow's
    _xla_gc_callback among them, and the weakref callbacks a collection calls), and a pytest-timeout alarm landing
    there left the next item an internal error: the relay waits until the collection is done and raises it then."""
    import gc
    import weakref

    import keras
    import numpy as np

    from f1check.core import timeouts

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])  # TensorFlow's own gc callback, as in a run
    model.compile(loss="mse")
    model.evaluate(np.zeros((8, 4)), np.zeros((8, 1)), verbose=0)

    class Key:
        pass

    kept = []
    for _ in range(200):  # cycles whose collection calls WeakKeyDictionary's callbacks, where the handler can run
        key = Key()
        key.itself = key
        kept.append(weakref.WeakKeyDictionary({key: 1}))
        del key
    landed = []

    def callback(phase, info):
        if phase == "start" and not landed:
            landed.append(True)
            os.kill(os.getpid(), signal.SIGALRM)  # the alarm arrives as the collection starts: its handler runs
            # at the next bytecode, in a weakref callback the collection calls

    swallowed = []
    monkeypatch.setattr("sys.unraisablehook", swallowed.append)  # where CPython reports what a gc callback raised
    caught, started = None, time.monotonic()
    gc.callbacks.append(callback)
    try:
        with timeouts.limit(3600, "the block"):
            gc.collect()
            time.sleep(60)  # the retried interrupt ends this within moments
    except timeouts.CheckTimeout as exc:
        caught = exc
    finally:
        gc.callbacks.remove(callback)
    assert landed and caught is not None and "the block ran out of its time budget" in str(caught)
    assert swallowed == [] and time.monotonic() - started < 30
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None) and signal.getitimer(signal.ITIMER_REAL)[0] == 0
