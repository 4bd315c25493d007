"""The warm interpreter behind ``tests/warm.py``: imports the heavy third-party libraries once, then forks a child
for each run it is asked for (one JSON request a line on stdin; ``{"pid": ...}`` then ``{"code": ...}`` a line
each on stdout).

It imports no pytest plugin's package and nothing of f1check's: pytest marks plugins' packages for assertion
rewriting and warns about ones already imported, and f1check's own first import belongs to the run. Nothing here
runs a TensorFlow op, so TensorFlow's runtime (its thread pools, its devices) starts in each child, as in a fresh
interpreter.
"""

import ctypes
import gc
import json
import os
import runpy
import sys
import threading
import traceback
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The heavy third-party libraries, imported once (Keras with TensorFlow: ~5 CPU-seconds a start), and pytest's core.
import _pytest.config
import _pytest.pytester  # noqa: F401
import keras  # noqa: F401
import matplotlib.backends.backend_agg
import matplotlib.figure  # noqa: F401
import numpy  # noqa: F401
import sklearn.metrics  # noqa: F401

# What the imports buffered in C's stdio must not be written again by every child.
ctypes.CDLL(None).fflush(None)
sys.stdout.flush()
sys.stderr.flush()
gc.freeze()  # the imported objects out of the children's collections: no copy of their pages on the first one
BASE_PATH = [p for p in sys.path[1:] if p not in os.environ.get("PYTHONPATH", "").split(os.pathsep)]


def child(request: dict) -> int:
    """In the forked child: become ``python -m module ...``, ``python script ...`` or ``python -c code ...``."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path, flags in ((0, request.get("stdin") or os.devnull, os.O_RDONLY),
                            (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        if fd == 2 and path == request["stdout"]:  # stderr to stdout, as stderr=subprocess.STDOUT
            os.dup2(1, 2)
            continue
        opened = os.open(path, flags | os.O_NOCTTY, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115  (the child's own streams, for its life)
    sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    # what python -m, python script.py and python -c put first on sys.path
    first = os.getcwd() if "module" in request else os.path.dirname(request["script"]) if "script" in request else ""
    sys.path[:] = [first, *extra, *(p for p in BASE_PATH if p not in extra)]
    try:
        if "module" in request:
            sys.argv = [request["module"], *request["args"]]
            runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        elif "script" in request:
            sys.argv = [request["script"], *request["args"]]
            runpy.run_path(request["script"], run_name="__main__")
        else:
            sys.argv = ["-c", *request["args"]]
            main = types.ModuleType("__main__")
            main.__builtins__ = __builtins__
            sys.modules["__main__"] = main
            exec(compile(request["code"], "<string>", "exec"), main.__dict__)  # noqa: S102  (python -c)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException:  # noqa: BLE001  (as the interpreter does: the traceback, status 1)
        traceback.print_exc()
        return 1
    return 0


def finish(code: int) -> int:
    """End as an interpreter does: wait for the run's non-daemon threads, then run its ``atexit`` handlers."""
    import atexit

    try:
        threading._shutdown()  # what Py_FinalizeEx calls first
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
    atexit._run_exitfuncs()  # prints what a handler raises, as the interpreter does
    return code


def serve() -> None:
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                code = child(request)
                code = finish(code)
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        replies.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")


if __name__ == "__main__":
    serve()
