"""Helpers the tests share."""

import importlib.util
import os

import pytest


def require(module: str, install: str) -> None:
    """Skip when an optional module is missing, except in CI (F1CHECK_CI=1), where it is a failure.

    Keras, scikit-learn and hypothesis are required dependencies and are imported directly: a broken
    install fails, it never skips.
    """
    if importlib.util.find_spec(module) is None:
        if os.environ.get("F1CHECK_CI"):
            pytest.fail(f"{module} is not installed, and CI (F1CHECK_CI=1) must run this test: {install}")
        pytest.skip(f"{module} is not installed ({install})")


def driver(subject, mode: str = "evaluate", semantics=None):
    """A real-loop driver of a resolved ``subject`` in ``mode`` (the context a check would give it)."""
    from f1check.context import CheckInputs
    from f1check.drivers import Driver
    from f1check.modes import Mode
    from f1check.settings import CheckSettings, Semantics

    inputs = CheckInputs(subject, CheckSettings(semantics=semantics or Semantics()))
    return Driver(inputs.context(Mode(mode)))


def fed(feed: str):
    """The loop settings of feed ``feed`` (a name), as ``Driver.run`` takes them."""
    from f1check.feeds import Feed
    from f1check.loops import LoopSettings

    return LoopSettings(Feed(feed))
