"""tests/warm.py's warm runs (a local opt-in, F1CHECK_WARM_RUNS=1) behave as the fresh interpreters they stand in
for: the same argv, sys.path, folder, environment, input, output, exit status and signal status as ``python -c``,
``python script`` and ``python -m pytest`` started with subprocess, the same end (threads joined, ``atexit``
handlers run), and a run's state dies with it. Under CI, and by default, every run is a fresh interpreter.

These tests turn warm runs on whatever the environment says (they test the opt-in itself)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import warm

pytest_plugins = ["pytester"]

PROBE = """
import atexit, json, os, sys, threading, time
print(json.dumps({"argv": sys.argv, "path0": sys.path[0], "cwd": os.getcwd(), "probe": os.environ.get("F1CHECK_PROBE"),
                  "stdin": sys.stdin.read(), "main": __name__, "imported": "f1check" in sys.modules}), flush=True)
print("to stderr", file=sys.stderr)
atexit.register(lambda: print("atexit ran", flush=True))
threading.Thread(target=lambda: (time.sleep(0.3), print("thread ended", flush=True))).start()  # not a daemon
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


@pytest.fixture(autouse=True, scope="module")
def warm_runs():
    """Warm runs on, from a warm interpreter of this module's own, started with this module's environment (one
    that an earlier test started while it had patched the environment would start these runs fresh)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(warm, "ENABLED", True)
        patch.setattr(warm, "_server", None)
        yield
        if warm._server is not None:
            warm._server.close()


def fresh_python(args, cwd, env, stdin_text=""):
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, input=stdin_text, capture_output=True,
                          text=True, check=False, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_python_c_and_a_script_see_what_a_fresh_interpreter_sees(tmp_path):
    env = dict(os.environ, F1CHECK_PROBE="seen")
    env.pop("PYTHONPATH", None)
    (tmp_path / "probe.py").write_text(PROBE)
    for code, script in ((PROBE, None), (None, tmp_path / "probe.py")):
        args = ["-c", PROBE, "3"] if code else [str(script), "3"]
        expected = fresh_python(args, tmp_path, env, "some input")
        got = warm.run_python(code, tmp_path, env, stdin_text="some input", script=script, args=["3"])
        assert got == expected
        assert expected[0] == 3 and '"probe": "seen"' in expected[1] and '"imported": false' in expected[1]
        assert expected[1].splitlines()[1:] == ["thread ended", "atexit ran"]


def test_python_m_pytest_matches_pytesters_subprocess_run(pytester):
    pytester.makepyfile(
        """
        import os, sys

        def test_where():
            print("PATH0", sys.path[0], "ARGV0", os.path.basename(sys.argv[0]))
            assert "f1check.plugin" in sys.modules  # the plugin, loaded by the run itself

        def test_fails():
            assert 1 == 2
        """
    )
    fresh = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    ours = warm.runpytest(pytester, "-s", "-p", "no:cacheprovider")
    assert ours.ret == fresh.ret == 1
    assert ours.parseoutcomes() == fresh.parseoutcomes() == {"passed": 1, "failed": 1}
    where = [line for line in fresh.stdout.lines if "PATH0" in line]
    assert where and where == [line for line in ours.stdout.lines if "PATH0" in line]


def test_a_signal_ends_a_run_as_it_ends_a_subprocess(tmp_path):
    sleeper = "import time\nprint('started', flush=True)\ntime.sleep(3600)\n"  # cut by the signal, never by time
    fresh = subprocess.Popen([sys.executable, "-c", sleeper], stdout=subprocess.PIPE, text=True)
    ours = warm.start(tmp_path, dict(os.environ), tmp_path / "out", tmp_path / "err", code=sleeper)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
                (tmp_path / "out").exists() and "started" in (tmp_path / "out").read_text()):
            time.sleep(0.05)
        assert fresh.stdout.readline() == "started\n"
        for process in (fresh, ours):
            process.send_signal(signal.SIGTERM)
        assert ours.wait(timeout=60) == fresh.wait(timeout=60) == -signal.SIGTERM
    finally:
        for process in (fresh, ours):
            process.send_signal(signal.SIGKILL)


def test_a_runs_state_dies_with_it(tmp_path):
    changes = "import os, keras\nos.environ['F1CHECK_LEAK'] = '1'\nkeras.config.set_epsilon(0.5)\n"
    assert warm.run_python(changes, tmp_path, dict(os.environ))[0] == 0
    after = "import os, keras\nprint(os.environ.get('F1CHECK_LEAK'), keras.config.epsilon())\n"
    assert warm.run_python(after, tmp_path, dict(os.environ))[1].split() == ["None", "1e-07"]


def test_another_backend_or_platform_gets_a_fresh_interpreter(tmp_path, monkeypatch):
    code = "import sys\nprint('keras' in sys.modules)\nsys.exit(4)\n"  # the warm interpreter imported Keras
    assert warm.run_python(code, tmp_path, dict(os.environ, KERAS_BACKEND="tensorflow"))[:2] == (4, "True\n")
    assert warm.run_python(code, tmp_path, dict(os.environ, KERAS_BACKEND="jax"))[:2] == (4, "False\n")
    assert warm.run_python(code, tmp_path, dict(os.environ, TF_USE_LEGACY_KERAS="1"))[:2] == (4, "False\n")
    # what an interpreter reads as it starts: another value than the warm interpreter's is a fresh start
    assert warm.run_python(code, tmp_path, dict(os.environ, PYTHONWARNINGS="error::UserWarning"))[:2] == (4, "False\n")
    assert warm.run_python(code, tmp_path, dict(os.environ, HOME=str(tmp_path)))[:2] == (4, "False\n")
    assert warm.run_python(code, tmp_path, dict(os.environ, KERAS_HOME=str(tmp_path)))[:2] == (4, "False\n")
    # a run not waited for: the next one does not wait behind it
    sleeper = warm.start(tmp_path, dict(os.environ), tmp_path / "out", tmp_path / "err",
                         code="import time\ntime.sleep(3600)\n")
    try:
        assert warm.run_python(code, tmp_path, dict(os.environ), timeout=120)[:2] == (4, "False\n")
    finally:
        sleeper.send_signal(signal.SIGKILL)
        sleeper.wait(timeout=120)
    assert warm.run_python(code, tmp_path, dict(os.environ))[:2] == (4, "True\n")  # warm again once it has ended
    monkeypatch.setattr(sys, "platform", "darwin")
    assert warm.run_python(code, tmp_path, dict(os.environ, KERAS_BACKEND="tensorflow"))[:2] == (4, "False\n")


@pytest.mark.parametrize(("variables", "enabled"), [
    ({}, False), ({"F1CHECK_WARM_RUNS": "1"}, True), ({"F1CHECK_WARM_RUNS": "1", "CI": "true"}, False),
    ({"CI": "true"}, False), ({"F1CHECK_WARM_RUNS": "0"}, False)])
def test_runs_are_fresh_unless_asked_for_and_always_under_ci(variables, enabled):
    env = {name: value for name, value in os.environ.items() if name not in ("CI", "F1CHECK_WARM_RUNS")}
    tests = Path(warm.__file__).parent
    code = "import sys; sys.path.insert(0, sys.argv[1]); import warm; print(warm.ENABLED)"
    done = subprocess.run([sys.executable, "-c", code, str(tests)], env={**env, **variables}, capture_output=True,
                          text=True, check=True, timeout=120)
    assert done.stdout.strip() == str(enabled)
