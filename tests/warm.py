"""``python -m pytest``, ``python script`` and ``python -c`` runs for the end-to-end tests: fresh interpreters, or,
where a developer asks for it, forked children of one warm interpreter per test process.

**Fresh by default, and always under CI** (``CI`` set, as ``.ci/run`` runs): each run is ``subprocess.Popen`` of
``sys.executable``, what pytester's ``runpytest_subprocess`` does and what a user's CI job does. CI runs what users
run (issue 33).

**Warm runs, a local opt-in** (``F1CHECK_WARM_RUNS=1``, ignored when ``CI`` is set): a fresh interpreter that
imports TensorFlow and Keras costs ~5 CPU-seconds, and the end-to-end tests start dozens. A warm run is still a
process of its own — its own ``sys.modules`` after the fork, its own Keras state, signals, exit status and output
files — forked from ``tests/warm_server.py``, an interpreter that imported only third-party libraries (TensorFlow,
Keras, numpy, scikit-learn, matplotlib) and never ran a TensorFlow op. f1check and every pytest plugin are imported
by the run itself, as in a fresh one; the run ends as an interpreter does (its non-daemon threads joined, its
``atexit`` handlers run). What a fork cannot give, a fresh interpreter does: a run whose start-time variables
(``PYTHON*`` but ``PYTHONPATH``, ``HOME``, ``KERAS_*``, ``TF_*``, ``XLA_FLAGS``, ``MPL*``, ``CUDA_VISIBLE_DEVICES``)
differ from the warm interpreter's, a run under another backend (``KERAS_BACKEND``, ``TF_USE_LEGACY_KERAS``), a
run while another warm run has not been waited for, and any run off Linux (forking after TensorFlow's import is
safe on Linux only). tests/test_warm.py holds a warm run to what a fresh one sees.

What a warm run could never show is a start: what plain ``pytest`` imports, TensorFlow's start-up chatter and
import-time warnings, the device and backend chosen before the import, tf-keras. Those tests start their own fresh
interpreters whatever is asked for here (test_lazy_import, test_plugin_config's quiet starts, test_backends,
test_legacy, and in test_plugin_e2e the patterns repo and the plain-pytest imports).
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

SERVER = Path(__file__).with_name("warm_server.py")
_server: _Server | None = None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no")


# Warm runs only where a developer asks for them, never in CI (tests/test_warm.py sets this to test them anyway).
ENABLED = _truthy(os.environ.get("F1CHECK_WARM_RUNS")) and not _truthy(os.environ.get("CI"))
# What an interpreter reads as it starts (or TensorFlow, Keras and matplotlib as they are imported): a warm run
# whose values differ from the warm interpreter's starts fresh.
START_NAMES = ("HOME", "XLA_FLAGS", "CUDA_VISIBLE_DEVICES")
START_PREFIXES = ("PYTHON", "KERAS_", "TF_", "MPL")


def start_variables(env: dict) -> dict:
    found = {name: value for name, value in env.items() if name != "PYTHONPATH"
             and (name in START_NAMES or name.startswith(START_PREFIXES))}
    found.setdefault("KERAS_BACKEND", "tensorflow")  # Keras's default
    return found


class _Server:
    def __init__(self) -> None:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow")
        env.pop("TF_USE_LEGACY_KERAS", None)
        self.start_variables = start_variables(env)
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115  (the server's stderr, for its life)
        self.process = subprocess.Popen([sys.executable, str(SERVER)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.errors, env=env)
        self.buffer = b""
        self.running: WarmProcess | None = None

    def alive(self) -> bool:
        return self.process.poll() is None

    def serves(self, env: dict) -> bool:
        """Whether a run with ``env`` can be forked from this interpreter: it is free, and it started as the run would."""
        return self.running is None and start_variables(env) == self.start_variables

    def start(self, request: dict, stdout: Path, stderr: Path) -> WarmProcess:
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()
        self.running = WarmProcess(self, self.reply(timeout=300)["pid"], stdout, stderr)
        return self.running

    def reply(self, timeout: float | None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, 4096)
            if not chunk:
                self.errors.seek(0)
                raise RuntimeError("the warm interpreter (tests/warm_server.py) ended:\n"
                                   + self.errors.read().decode(errors="replace")[-4000:])
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


class WarmProcess:
    """A warm run, with the parts of :class:`subprocess.Popen` the tests use."""

    def __init__(self, server: _Server, pid: int, stdout: Path, stderr: Path) -> None:
        self.server, self.pid, self.stdout_path, self.stderr_path = server, pid, stdout, stderr
        self.returncode: int | None = None
        self.scratch: Path | None = None  # a folder of our own for the output files, removed once they are read

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:  # ended, not yet waited for
                pass

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            try:
                self.returncode = self.server.reply(timeout)["code"]
            except TimeoutError:
                os.kill(self.pid, signal.SIGKILL)
                self.returncode = self.server.reply(60)["code"]
                raise subprocess.TimeoutExpired(["warm run", str(self.pid)], timeout) from None
            finally:
                if self.returncode is not None:
                    self.server.running = None
        return self.returncode

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """The run's stdout and stderr (the same text when stderr went to stdout), once it has ended."""
        self.wait(timeout)
        out = Path(self.stdout_path).read_text(errors="replace")
        err = out if self.stderr_path == self.stdout_path else Path(self.stderr_path).read_text(errors="replace")
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
        return out, err


class FreshProcess(WarmProcess):
    """A run in a fresh interpreter (the server's is TensorFlow's Keras 3), with a warm run's interface."""

    def __init__(self, command: list[str], cwd: Path, env: dict, stdout: Path, stderr: Path,
                 stdin: Path | None) -> None:
        with open(stdin or os.devnull, "rb") as given, open(stdout, "wb") as out:
            errors = subprocess.STDOUT if Path(stderr) == Path(stdout) else open(stderr, "wb")  # noqa: SIM115
            try:
                self.process = subprocess.Popen(command, cwd=cwd, env=env, stdin=given, stdout=out, stderr=errors)
            finally:
                if errors is not subprocess.STDOUT:
                    errors.close()
        super().__init__(None, self.process.pid, Path(stdout), Path(stderr))

    def send_signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float | None = None) -> int:
        try:
            self.returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.returncode = self.process.wait()
            raise
        return self.returncode


def start(cwd: Path, env: dict, stdout: Path, stderr: Path, module: str | None = None, code: str | None = None,
          script: Path | None = None, args=(), stdin: Path | None = None) -> WarmProcess:
    """``python -m module *args`` (``python script *args``, ``python -c code *args``) in ``cwd`` with ``env``, its
    output to files."""
    global _server
    command = ["-m", module] if module else [str(script)] if script else ["-c", code]
    fresh = (not ENABLED or env.get("KERAS_BACKEND", "tensorflow") != "tensorflow" or env.get("TF_USE_LEGACY_KERAS")
             or not sys.platform.startswith("linux"))  # forking after TensorFlow's import: Linux only
    if not fresh and (_server is None or not _server.alive()):
        _server = _Server()
        atexit.register(_server.close)
    if fresh or not _server.serves(env):
        return FreshProcess([sys.executable, *command, *map(str, args)], cwd, env, stdout, stderr, stdin)
    request = {"cwd": str(cwd), "env": dict(env), "args": [str(a) for a in args], "stdout": str(stdout),
               "stderr": str(stderr), "stdin": str(stdin) if stdin else None}
    request.update({"module": module} if module else {"script": str(script)} if script else {"code": code})
    return _server.start(request, Path(stdout), Path(stderr))


def run_python(code: str | None, cwd: Path, env: dict, stdin_text: str = "", timeout: float = 600,
               script: Path | None = None, args=()) -> tuple[int, str, str]:
    """``python -c code *args`` (or ``python script *args``) with ``stdin_text`` on its stdin: (exit status, stdout,
    stderr)."""
    with tempfile.TemporaryDirectory() as folder:
        files = {name: Path(folder) / name for name in ("stdin", "stdout", "stderr")}
        files["stdin"].write_text(stdin_text)
        process = start(cwd, env, files["stdout"], files["stderr"], code=code, script=script, args=args,
                        stdin=files["stdin"])
        out, err = process.communicate(timeout)
        return process.returncode, out, err


def pytest_in(cwd: Path, *args: str, env: dict | None = None, output: Path | None = None,
              merge: bool = False) -> WarmProcess:
    """``python -m pytest *args`` in ``cwd``; its stdout and stderr to ``output``/stdout and ``output``/stderr
    (to a folder of its own, removed once read, without ``output``; stderr into stdout with ``merge``)."""
    scratch = None if output else Path(tempfile.mkdtemp(prefix="f1check-warm-"))
    folder = Path(output or scratch)
    stdout = folder / "stdout"
    process = start(cwd, dict(os.environ) if env is None else env, stdout, stdout if merge else folder / "stderr",
                    module="pytest", args=args)
    process.scratch = scratch
    return process


def runpytest(pytester: pytest.Pytester, *args: str, timeout: float = 600) -> pytest.RunResult:
    """What ``pytester.runpytest_subprocess(*args)`` does (a numbered --basetemp, ``PYTHONPATH`` with the current
    folder first, the output in ``stdout``/``stderr`` of the test folder), as a warm run."""
    from _pytest.pathlib import make_numbered_dir

    basetemp = make_numbered_dir(root=pytester.path, prefix="runpytest-", mode=0o700)
    args = (f"--basetemp={basetemp}", *args)
    for plugin in pytester.plugins:
        args = ("-p", plugin, *args)
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH", "")]))
    started = time.monotonic()
    process = pytest_in(Path.cwd(), *args, env=env, output=pytester.path)
    out, err = process.communicate(timeout)
    print(out, end="")
    print(err, end="", file=sys.stderr)
    return pytest.RunResult(process.returncode, out.splitlines(), err.splitlines(), time.monotonic() - started)
