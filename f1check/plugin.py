"""The pytest plugin: options, hooks and fixtures only; the work lives in the core.

Loaded through the ``pytest11`` entry point on every pytest run, so it must
import nothing heavy: Keras, TensorFlow and friends load only under
``--f1check``.
"""

from __future__ import annotations

OPTION = "--f1check"


def pytest_addoption(parser):
    """Register ``--f1check`` in its own option group."""
    group = parser.getgroup("f1check", "f1check: is the logged F1 true?")
    group.addoption(
        OPTION,
        action="store_true",
        default=False,
        help="Check the F1 targets in [tool.f1check] through real Keras loops. Default: off.",
    )
