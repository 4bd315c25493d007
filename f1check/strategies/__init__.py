"""Hypothesis strategies over the data and partitions a check is fuzzed with.

Every argument is validated when the strategy is built, not when it draws
(:class:`InvalidStrategyArgument`).  Partitions (:mod:`.partitions`) shrink
to the simplest feed: sorted cut points shrink to ``[1, n-1]``, orders to the
identity.  Data (:mod:`.data`) is drawn sample by sample when small (so a
failure shrinks to a handful of samples) and as a few parameters and a seed
when large (realistic validation sets cost one numpy call); both include the
awkward cases: scores of exactly the threshold, 0 and 1, no positives at all,
positives bunched so that whole batches have none, classes absent from labels
and predictions.  Multiclass scores are softmax rows by default.

Importing this package is cheap: hypothesis and numpy load when a strategy is
built.
"""

from __future__ import annotations

from .data import LARGEST, binary_data, data_for, multiclass_data, multilabel_data
from .partitions import partitions, uniform_partitions
from .validate import InvalidStrategyArgument
from .weights import class_weights, sample_weights

__all__ = [
    "InvalidStrategyArgument",
    "binary_data",
    "class_weights",
    "data_for",
    "multiclass_data",
    "multilabel_data",
    "partitions",
    "register_profiles",
    "sample_weights",
    "uniform_partitions",
]


def register_profiles() -> None:
    """Hypothesis profiles for repos that use these strategies in their own ``@given`` tests.

    ``f1check-ci``: deterministic (derandomized), no example database, quiet,
    no deadline (Keras's first call traces); ``f1check-dev``: random, with the
    default database, for exploring.  Registered whenever hypothesis is
    imported (a ``hypothesis`` entry point); load one with
    ``hypothesis.settings.load_profile("f1check-ci")``.
    """
    from hypothesis import HealthCheck, Verbosity, settings

    settings.register_profile(
        "f1check-ci",
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=True,
        verbosity=Verbosity.quiet,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.register_profile("f1check-dev", deadline=None)
