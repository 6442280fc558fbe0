"""Select: k-winners-take-all, exactly k winners, ties to the lower index."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import brute_kwta

import compsparse as cs

INT_DTYPES = [np.int8, np.uint8, np.int16, np.int32, np.int64]


@st.composite
def activations(draw, max_dims=3):
    """Arrays with many ties: small integer ranges or floats drawn from a few values."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, max_side=7))
    if draw(st.booleans()):
        dtype = draw(st.sampled_from(INT_DTYPES))
        info = np.iinfo(dtype)
        lo, hi = (info.min, info.max) if draw(st.booleans()) else (max(info.min, -3), 3)
        elements = st.integers(int(lo), int(hi))
    else:
        dtype = draw(st.sampled_from([np.float32, np.float64]))
        elements = st.sampled_from([-1.5, 0.0, 0.25, 2.0]) | st.floats(-1e3, 1e3, width=32)
    return draw(hnp.arrays(dtype, shape, elements=elements))


@given(activations(), st.data())
def test_global_kwta_matches_brute_force(x, data):
    k = data.draw(st.integers(1, x.size))
    a = cs.kwta(x, k)
    assert a.nnz == k and a.shape == x.shape and a.values.dtype == x.dtype
    assert np.array_equal(a.indices, brute_kwta(x.ravel(), k))
    assert np.array_equal(a.values, x.ravel()[a.indices])
    dense = a.to_dense()
    assert np.array_equal(dense.ravel()[a.indices], x.ravel()[a.indices])
    assert np.count_nonzero(dense.ravel()[np.setdiff1d(np.arange(x.size), a.indices)]) == 0


@given(activations(), st.data())
def test_local_kwta_picks_k_per_position(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    k = data.draw(st.integers(1, x.shape[axis]))
    a = cs.kwta(x, k, axis=axis)
    assert a.nnz == k * x.size // x.shape[axis]
    assert np.all(np.diff(a.indices) > 0)
    winners = np.zeros(x.size, bool)
    winners[a.indices] = True
    winners = np.moveaxis(winners.reshape(x.shape), axis, -1).reshape(-1, x.shape[axis])
    columns = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    for column, won in zip(columns, winners, strict=True):
        assert np.array_equal(np.flatnonzero(won), brute_kwta(column, k))


def test_ties_go_to_the_lower_index():
    assert cs.kwta(np.array([1, 3, 3, 3, 0]), 2).indices.tolist() == [1, 2]
    assert cs.kwta(np.zeros(6, np.int8), 3).indices.tolist() == [0, 1, 2]
    x = np.zeros((4, 1, 2))
    x[3, 0, 1] = 1.0
    assert cs.kwta(x, 2, axis=0).to_dense()[:, 0, 1].nonzero()[0].tolist() == [3]
    assert np.flatnonzero(cs.kwta(x, 2, axis=0).to_dense()[:, 0, 0] == 0).size == 4


def test_extreme_int8_values_rank_correctly():
    x = np.array([-128, 127, -128, 127, 0], np.int8)
    assert cs.kwta(x, 3).indices.tolist() == [1, 3, 4]
    assert cs.kwta(x, 5).indices.tolist() == [0, 1, 2, 3, 4]


def test_negative_winners_keep_their_values():
    a = cs.kwta(np.array([-5.0, -1.0, -3.0]), 2)
    assert a.indices.tolist() == [1, 2] and a.values.tolist() == [-1.0, -3.0]


@pytest.mark.parametrize(
    ("x", "k", "axis", "message"),
    [
        (np.arange(5), 0, None, r"1 <= k <= 5"),
        (np.arange(5), 6, None, r"1 <= k <= 5"),
        (np.ones((4, 3)), 5, 0, r"1 <= k <= 4 \(the number of entries along axis 0\)"),
        (np.ones((4, 3)), 1, 2, "axis must be None or an int"),
        (np.array([1.0, np.nan]), 1, None, "NaN"),
        (np.array([]), 1, None, "empty"),
        (np.array(["a"]), 1, None, "real or integer"),
    ],
)
def test_bad_kwta_inputs(x, k, axis, message):
    with pytest.raises(ValueError, match=message):
        cs.kwta(x, k, axis=axis)


def test_sparse_activation_validates_and_round_trips():
    x = np.array([[0, 2, 0], [5, 0, 0]], np.int8)
    a = cs.SparseActivation.from_dense(x)
    assert a.indices.tolist() == [1, 3] and a.density == pytest.approx(2 / 6)
    assert np.array_equal(a.to_dense(), x)
    with pytest.raises(ValueError, match="strictly ascending"):
        cs.SparseActivation(indices=[3, 1], values=[1, 2], shape=(4,))
    with pytest.raises(ValueError, match="equal length"):
        cs.SparseActivation(indices=[1], values=[1, 2], shape=(4,))
