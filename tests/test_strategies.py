"""f1check.strategies: argument validation, what the draws cover, and the shapes they shrink to."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings

from f1check import ConfigError, Partition, strategies
from f1check.strategies import InvalidStrategyArgument

BAD = [
    (lambda: strategies.partitions(0), "n=0 must be a whole number >= 1"),
    (lambda: strategies.partitions(10, min_batches=3, max_batches=2), "min_batches=3 is larger than max_batches=2"),
    (lambda: strategies.partitions(3, min_batches=5), "min_batches=5 is larger than n=3"),
    (lambda: strategies.partitions(10, max_batch_size=0), "max_batch_size=0 must be a whole number >= 1"),
    (lambda: strategies.partitions(10, max_batches=2, max_batch_size=3, drop=False), "do not fit in max_batches=2"),
    (lambda: strategies.partitions(10, drop="yes"), "drop='yes' must be True, False or None"),
    (lambda: strategies.partitions(2.5), "n=2.5 must be a whole number"),
    (lambda: strategies.binary_data(min_size=0), "min_size=0 must be a whole number >= 1"),
    (lambda: strategies.binary_data(min_size=10, max_size=5), "min_size=10 is larger than max_size=5"),
    (lambda: strategies.binary_data(threshold=1.5), r"threshold=1.5 must be a number in \[0, 1\]"),
    (lambda: strategies.multiclass_data(classes=1), "classes=1 must be a whole number >= 2"),
    (lambda: strategies.multilabel_data(classes=True), "classes=True must be a whole number >= 2"),
    (lambda: strategies.multiclass_data(scores="logits"), "scores='logits' must be one of 'softmax'"),
]


@pytest.mark.parametrize("build, match", BAD, ids=[b[1] for b in BAD])
def test_bad_arguments_are_refused_when_the_strategy_is_built(build, match):
    with pytest.raises(InvalidStrategyArgument, match=match) as info:
        build()
    assert isinstance(info.value, ConfigError)  # an F1CheckError


def draws(strategy, count=200, seed_value=0):
    found = []

    @seed(seed_value)
    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value):
        found.append(value)

    collect()
    return found


@pytest.mark.parametrize("n", [1, 2, 17, 1000])
def test_partitions_cover_the_data(n):
    for p in draws(strategies.partitions(n)):
        assert isinstance(p, Partition) and p.n == n
        p.check_fits(n)


def test_partition_bounds_and_forms():
    uneven = draws(strategies.partitions(100, min_batches=2, max_batches=5, drop=False))
    assert all(2 <= p.steps <= 5 and p.dropped == 0 for p in uneven)
    floor = draws(strategies.partitions(100, drop=True))
    assert all(len(set(p.batch_sizes)) == 1 and p.dropped == 100 % p.batch_sizes[0] for p in floor)
    assert any(p.dropped for p in floor)
    capped = draws(strategies.partitions(50, max_batch_size=8))
    assert all(max(p.batch_sizes) <= 8 for p in capped)
    both = draws(strategies.partitions(100))
    assert any(p.shuffled_order for p in both) and any(not p.shuffled_order for p in both)


def test_binary_data_covers_the_awkward_cases():
    found = draws(strategies.binary_data(), count=400)
    sizes = [len(y) for y, _ in found]
    assert min(sizes) == 1 and max(sizes) > 1000
    assert np.mean(np.asarray(sizes) <= 24) >= 0.3  # small sizes stay common
    assert all(y.shape == s.shape and y.shape[1] == 1 and y.dtype == np.float32 for y, s in found)
    assert all(set(np.unique(y)) <= {0.0, 1.0} and s.min() >= 0 and s.max() <= 1 for y, s in found)
    assert any((s == 0.5).any() for _, s in found)  # ties at the threshold
    assert any((s == 0).any() and (s == 1).any() for _, s in found)
    assert any(y.sum() == 0 for y, _ in found) and any(y.min() == 1 for y, _ in found)
    assert any(len(y) > 100 and y[: len(y) // 2].sum() == 0 < y.sum() for y, _ in found)  # bunched positives


def test_large_sizes_reach_realistic_validation_sets():
    found = draws(strategies.binary_data(min_size=10_000), count=60)
    assert max(len(y) for y, _ in found) > 15_000 and all(len(y) <= 20_000 for y, _ in found)


def top_ties(found):
    return [((s == s.max(axis=1, keepdims=True)).sum(axis=1) > 1).any() for _, s in found]


def test_multiclass_data_is_one_hot_softmax_rows_without_ties_by_default():
    found = draws(strategies.multiclass_data(classes=4), count=300)
    assert all(y.shape[1] == 4 and (y.sum(axis=1) == 1).all() for y, _ in found)
    assert all(np.allclose(s.sum(axis=1), 1, atol=1e-5) for _, s in found)  # rows of a softmax
    assert not any(top_ties(found))  # a softmax head essentially never ties its top classes
    assert any(len(np.unique(y.argmax(1))) < 4 for y, _ in found if len(y) > 30)  # absent classes
    assert any((s.max(axis=1) <= 0.5).any() for _, s in found)  # rows whose top class is below one half


def test_multiclass_ties_and_independent_scores_come_when_asked_for():
    tied = draws(strategies.multiclass_data(classes=4, scores="softmax-ties"), count=300)
    assert any(top_ties(tied))
    independent = draws(strategies.multiclass_data(classes=4, scores="independent"), count=200)
    assert any(not np.allclose(s.sum(axis=1), 1, atol=1e-3) for _, s in independent)


def test_multilabel_data_has_independent_columns():
    found = draws(strategies.multilabel_data(classes=3), count=200)
    assert all(y.shape[1] == 3 for y, _ in found)
    assert any((y.sum(axis=1) > 1).any() for y, _ in found)
    assert any((y.sum(axis=0) == 0).any() for y, _ in found if len(y) > 5)  # an absent label


def test_cut_points_shrink_to_one_and_the_rest():
    from hypothesis import find

    found = find(
        strategies.partitions(10, drop=False, shuffle=False),
        lambda p: p.steps >= 2,
        settings=settings(database=None, max_examples=200),
    )
    assert found.batch_sizes == (1, 9)


def test_orders_shrink_to_the_identity():
    from hypothesis import find

    found = find(
        strategies.partitions(10, drop=False), lambda p: p.steps >= 2, settings=settings(database=None, max_examples=200)
    )
    assert not found.shuffled_order


def test_ci_profile_is_registered_deterministic_and_quiet():
    from hypothesis import Verbosity

    profile = settings.get_profile("f1check-ci")  # registered by the hypothesis entry point, at hypothesis's import
    assert profile.database is None and profile.derandomize is True
    assert profile.verbosity == Verbosity.quiet and profile.deadline is None
