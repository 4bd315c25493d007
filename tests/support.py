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
