"""A framework's error, cut to what the user needs: the subject's own message and the file and line it came from.

Keras and TensorFlow wrap an error raised inside a compiled loop in their own
text: ``in user code:`` traces (a traced function), ``Graph execution error:
Detected at node ... defined at`` (a graph-side assert, a ``tf.py_function``
that raised), with runpy's, pytest's and Keras's frames in between.
:func:`cause` keeps the message and names the innermost frame that is not the
frameworks', pytest's or f1check's.
"""

from __future__ import annotations

import re

__all__ = ["cause"]

_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<function>[^\s*]+)')
FOREIGN = ("/tf_keras/", "/tensorflow/", "/keras/", "/jax/", "/f1check/", "/_pytest/", "/pytest/", "/pluggy/",
           "/hypothesis/", "<frozen ", "/site-packages/numpy/", "/site-packages/sklearn/")
_NODE = re.compile(r"^\[\[\{\{.*\}\}\]\]")  # TensorFlow's [[{{node ...}}]] trailer


def _own(match) -> bool:
    return not any(part in match["path"] for part in FOREIGN)


def cause(exc: BaseException, limit: int = 6) -> str:
    """The error's message, with `` (in function, path:line)`` for the innermost frame of the user's code."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return repr(exc)
    frames = [(k, _FRAME.search(line)) for k, line in enumerate(lines)]
    frames = [(k, m) for k, m in frames if m]
    if lines[0].startswith("in user code") and frames:
        return _traced(exc, lines, frames, limit)
    if lines[0].startswith("Graph execution error") and frames:
        return _graph(lines, frames, limit)
    text = "\n".join(lines[:limit])
    return text + ("\n..." if len(lines) > limit else "")


def _traced(exc, lines, frames, limit) -> str:
    """A ``tf.function``'s ``in user code:`` trace: the lines after its last frame, and the user's frame."""
    last = frames[-1][0]
    message = ("\n".join(lines[last + 2: last + 2 + limit]) or lines[-1]).removeprefix(f"{type(exc).__name__}: ")
    return message + _place([m for _, m in frames])


def _graph(lines, frames, limit) -> str:
    """``Graph execution error: Detected at node ... defined at``: the message after the frames (before a
    ``tf.py_function``'s own traceback or TensorFlow's node trailer), and the innermost frame of the user's code:
    where the py_function really raised if it did, else where the node was defined."""
    inner_at = next((k for k, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")),
                    len(lines))
    defined = [(k, m) for k, m in frames if k < inner_at]
    inner = [m for k, m in frames if k > inner_at]
    start = defined[-1][0] + 1 if defined else 1
    message = [line for line in lines[start:inner_at] if not _NODE.match(line)][:limit]
    if not message:
        message = [lines[-1]]
    return "\n".join(message) + _place(inner if any(_own(m) for m in inner) else [m for _, m in defined])


def _place(frames) -> str:
    own = [m for m in frames if _own(m)]
    if not own:
        return ""
    frame = own[-1]
    return f" (in {frame['function']}, {frame['path']}:{frame['line']})"
