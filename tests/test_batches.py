"""`chainrule.train.batches`: batches, split_indices and sample_weights."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.errors import InputError
from chainrule.train.batches import batches, sample_weights, split_indices


def numbered(n: int, dtype=np.float64):
    """Rows that carry their own index: X[i] = (i, -i), y[i] = 10 i, weight 100 i."""
    index = np.arange(n, dtype=dtype)
    return np.column_stack([index, -index]), (10 * index)[:, None], 100.0 * index


def collect(n, batch_size, seed):
    """The row indices of every batch (copied: shuffled batches live in reused buffers)."""
    X, y, w = numbered(n)
    rng = None if seed is None else np.random.default_rng(seed)
    out = []
    for X_b, y_b, w_b in batches(X, y, batch_size, rng, w):
        rows = X_b[:, 0].astype(int)
        np.testing.assert_array_equal(X_b[:, 1], -rows)  # both columns from the same row
        np.testing.assert_array_equal(y_b[:, 0], 10 * rows)  # targets follow the rows
        np.testing.assert_array_equal(w_b, 100 * rows)  # ... and so do the weights
        out.append(rows.copy())
    return out


@pytest.mark.parametrize("n", [1, 7, 10, 33])
@pytest.mark.parametrize("batch_size", [1, 3, 10, 32])
@pytest.mark.parametrize("seed", [None, 0, 5])
def test_batches_cover_every_row_exactly_once(n, batch_size, seed):
    parts = collect(n, batch_size, seed)
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(n))
    sizes = [part.size for part in parts]
    if batch_size < n:
        assert sizes == [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    else:
        assert sizes == [n]


def test_unshuffled_batches_are_views_in_order():
    X, y, w = numbered(10)
    got = list(batches(X, y, 4, None, w))
    assert [b[0][:, 0].tolist() for b in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(np.shares_memory(X_b, X) and np.shares_memory(y_b, y) for X_b, y_b, _ in got)


def test_shuffled_order_is_the_generators_permutation():
    parts = collect(23, 5, seed=42)
    np.testing.assert_array_equal(np.concatenate(parts), np.random.default_rng(42).permutation(23))
    assert not np.array_equal(np.concatenate(collect(23, 5, seed=43)), np.concatenate(parts))


def test_shuffled_batches_do_not_copy_the_data_set_whole():
    X, y, _ = numbered(12)
    seen = set()
    for X_b, y_b, w_b in batches(X, y, 5, np.random.default_rng(0)):
        assert w_b is None
        assert not np.shares_memory(X_b, X) and not np.shares_memory(y_b, y)
        seen.add(X_b.__array_interface__["data"][0])
    assert len(seen) == 1  # every batch is written into the same buffer


@pytest.mark.parametrize("batch_size", [None, 10, 50])
def test_one_batch_is_the_data_itself(batch_size):
    X, y, w = numbered(10)
    ((X_b, y_b, w_b),) = list(batches(X, y, batch_size, np.random.default_rng(0), w))
    assert X_b is X and y_b is y and w_b is w


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batches_keep_the_dtype(dtype):
    X, y, _ = numbered(9, dtype)
    for X_b, y_b, _ in batches(X, y, 4, np.random.default_rng(0)):
        assert X_b.dtype == dtype and y_b.dtype == dtype


# ------------------------------------------------------------------------- split_indices
def test_split_is_disjoint_complete_and_of_the_right_size():
    y = np.random.default_rng(0).normal(size=(50, 1))
    train, val = split_indices(y, 0.2, stratify=False, rng=np.random.default_rng(1))
    assert val.size == 10 and train.size == 40
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(50))
    np.testing.assert_array_equal(val, np.sort(val))  # validation rows in data order
    assert not np.array_equal(train, np.sort(train))  # training rows shuffled


def test_split_depends_on_the_generator_only():
    y = np.zeros((30, 1))
    a = split_indices(y, 0.3, False, np.random.default_rng(7))
    b = split_indices(y, 0.3, False, np.random.default_rng(7))
    c = split_indices(y, 0.3, False, np.random.default_rng(8))
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("seed", range(5))
def test_stratified_split_holds_out_each_class_share(seed):
    labels = np.repeat([0, 1, 2], [30, 60, 10])
    y = np.eye(3)[labels]
    train, val = split_indices(y, 0.1, stratify=True, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(np.bincount(labels[val], minlength=3), [3, 6, 1])
    np.testing.assert_array_equal(np.bincount(labels[train], minlength=3), [27, 54, 9])


def test_stratified_split_of_a_binary_column():
    y = np.array([0.0] * 16 + [1.0] * 4)[:, None]
    _, val = split_indices(y, 0.25, stratify=True, rng=np.random.default_rng(0))
    assert sorted(y[val, 0].tolist()) == [0.0] * 4 + [1.0]


@pytest.mark.parametrize(("n", "stratify"), [(2, False), (3, False), (5, True), (9, True)])
def test_tiny_data_still_holds_out_one_row(n, stratify):
    y = (np.arange(n) % 2).astype(float)[:, None]
    train, val = split_indices(y, 0.05, stratify=stratify, rng=np.random.default_rng(0))
    assert val.size == 1 and train.size == n - 1
    if stratify:  # from the largest class
        assert y[val[0], 0] == 0.0


def test_one_row_cannot_be_split():
    with pytest.raises(InputError, match="no validation or no training"):
        split_indices(np.zeros((1, 1)), 0.5, False, np.random.default_rng(0))


def test_a_split_that_leaves_no_training_rows_is_refused():
    y = np.eye(2)  # two classes of one row each: 60% of each rounds to the whole class
    with pytest.raises(InputError, match="no validation or no training"):
        split_indices(y, 0.6, stratify=True, rng=np.random.default_rng(0))


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5])
def test_split_fraction_must_be_strictly_between_0_and_1(fraction):
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_indices(np.zeros((10, 1)), fraction, False, np.random.default_rng(0))


# ------------------------------------------------------------------------- sample_weights
def test_sample_weights_become_a_float_vector():
    weights = sample_weights([[1], [2], [0]], 3)
    assert weights.dtype == np.float64 and weights.tolist() == [1.0, 2.0, 0.0]


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ([1.0, 2.0], "2 values for 3 samples"),
        ([1.0, -1.0, 1.0], "non-negative"),
        ([0.0, 0.0, 0.0], "not all zero"),
        ([1.0, np.nan, 1.0], "finite"),
        ([1.0, np.inf, 1.0], "finite"),
    ],
)
def test_bad_sample_weights_are_refused(values, match):
    with pytest.raises(InputError, match=match):
        sample_weights(values, 3)
