"""f1check: is the F1 your Keras training loop prints true?

Importing f1check is cheap: the pytest plugin loads this package in every
pytest run, so nothing here imports Keras (with TensorFlow, JAX or torch
behind it), numpy, scikit-learn or hypothesis; they load when a check runs.
``f1check.examples`` (example subjects, written with Keras) loads on first
use.
"""

from __future__ import annotations

import importlib

from . import data, strategies
from ._version import __version__
from .api import assert_f1, check
from .core import settings
from .core.backend import prepare_replicas
from .core.errors import ConfigError, DataError, F1CheckError, F1CheckFailure, PartitionError, SubjectError, TargetError
from .core.partitions import Partition
from .judging import reference
from .judging.results import Example, Result
from .reporting import report
from .reporting.report import Report

__all__ = [
    "ConfigError",
    "DataError",
    "Example",
    "F1CheckError",
    "F1CheckFailure",
    "Partition",
    "PartitionError",
    "Report",
    "Result",
    "SubjectError",
    "TargetError",
    "__version__",
    "assert_f1",
    "check",
    "prepare_replicas",
]


def __getattr__(name: str):
    if name == "examples":  # imports Keras: loaded on first use only
        return importlib.import_module(".examples", __name__)
    raise AttributeError(f"module 'f1check' has no attribute {name!r}")
