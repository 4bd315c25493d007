import pytest

import f1check
from f1check import Partition, PartitionError


def test_identity_partition_feeds_in_order():
    p = Partition([2, 3], dropped=1)
    assert (p.n, p.fed, p.steps, p.dropped) == (6, 5, 2, 1)
    assert [b.tolist() for b in p.batches()] == [[0, 1], [2, 3, 4]]
    assert p.dropped_indices().tolist() == [5]


def test_order_decides_which_samples_each_batch_feeds():
    p = Partition([1, 2], order=[2, 0, 1])
    assert [b.tolist() for b in p.batches()] == [[2], [0, 1]]


def test_identity_order_is_the_same_partition_as_no_order():
    assert Partition([2, 1], order=[0, 1, 2]) == Partition([2, 1])
    assert hash(Partition([2, 1], order=[0, 1, 2])) == hash(Partition([2, 1]))


def test_floor_steps_is_the_fit_generator_partition():
    p = Partition.floor_steps(10, 3)
    assert p.batch_sizes == (3, 3, 3) and p.dropped == 1


def test_shuffled_order_is_the_documented_numpy_permutation():
    import numpy as np

    p = Partition.shuffled([4, 4], order_seed=7, dropped=2)
    assert list(p.order) == np.random.default_rng(7).permutation(10).tolist()
    assert "numpy.random.default_rng(7).permutation(10)" in p.literal(max_order=4)


@pytest.mark.parametrize("sizes, spelled", [
    ([128] * 156 + [32], "batch_sizes=[128] * 156 + [32]"),
    ([3, 8, 1], "batch_sizes=[3, 8, 1]"),
    ([5, 2, 2, 2, 2, 9, 9, 9], "batch_sizes=[5] + [2] * 4 + [9, 9, 9]"),
])
def test_long_runs_of_equal_batch_sizes_are_spelled_as_products_and_rebuild_the_partition(sizes, spelled):
    p = f1check.Partition(sizes, dropped=3)
    assert spelled in p.literal()
    assert eval(p.literal(), {"f1check": f1check}) == p


def test_literal_rebuilds_the_partition():
    p = Partition([3, 1], order=[3, 1, 0, 2, 4], dropped=1)
    assert eval(p.literal(), {"f1check": f1check}) == p


def test_partition_is_immutable():
    with pytest.raises(AttributeError):
        Partition([1]).dropped = 3


def test_short_names_batches_and_drop():
    assert Partition([100, 100, 50]).short() == "100+100+50"
    assert Partition.floor_steps(1000, 128).short() == "7x128, 104 dropped"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: Partition([]), "batch_sizes is empty"),
        (lambda: Partition([3, 0]), r"has 0: every batch size must be a whole number >= 1"),
        (lambda: Partition([2.5]), "has 2.5"),
        (lambda: Partition(5), "is not a sequence"),
        (lambda: Partition([2], dropped=-1), "dropped=-1"),
        (lambda: Partition([2], order=[0, 0]), r"not a permutation of range\(2\)"),
        (lambda: Partition([2], order=[0, 1, 2]), r"not a permutation of range\(2\)"),
        (lambda: Partition.floor_steps(3, 5), "batch_size=5 is larger than n=3"),
        (lambda: Partition([2, 2]).check_fits(5), "covers 4 samples .* but the data has 5"),
    ],
)
def test_bad_partitions_say_what_is_wrong(call, match):
    with pytest.raises(PartitionError, match=match):
        call()
