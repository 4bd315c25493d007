"""f1check: is the F1 your Keras training loop prints true?

Importing f1check is cheap: the pytest plugin loads this package in every
pytest run, so the public names below are imported on first use, and Keras
(with TensorFlow, JAX or torch behind it), numpy and scikit-learn only when a
check runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "check": "check",
    "assert_f1": "check",
    "Example": "check",
    "Report": "check",
    "Result": "check",
    "Partition": "partitions",
    "prepare_replicas": "backend",
    "ConfigError": "errors",
    "DataError": "errors",
    "F1CheckError": "errors",
    "F1CheckFailure": "errors",
    "PartitionError": "errors",
    "SubjectError": "errors",
    "TargetError": "errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])


# Submodules reachable as attributes (``f1check.strategies``), imported on first use.
_SUBMODULES = {"data", "examples", "options", "reference", "report", "strategies"}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'f1check' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*__all__, *_SUBMODULES])


if TYPE_CHECKING:
    from .backend import prepare_replicas
    from .check import Example, Report, Result, assert_f1, check
    from .errors import (
        ConfigError,
        DataError,
        F1CheckError,
        F1CheckFailure,
        PartitionError,
        SubjectError,
        TargetError,
    )
    from .partitions import Partition
