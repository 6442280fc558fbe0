"""The dense baseline the chapters check against, and the packing statistics they quote."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import dense_conv2d as reference_conv2d

import compsparse as cs


@given(
    st.integers(1, 3),
    st.integers(1, 5),
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(0, 1),
    st.integers(0, 2**32 - 1),
)
def test_dense_conv2d_matches_the_reference(c_in, c_out, k, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-9, 10, (c_in, 6, 5)).astype(np.int8)
    w = rng.integers(-9, 10, (c_out, c_in, k, k)).astype(np.int8)
    got = cs.dense_conv2d(x, w, stride=stride, padding=padding)
    want = reference_conv2d(x, w, (stride, stride), (padding, padding))
    assert got.dtype == np.int64 and np.array_equal(got, want)


def test_dense_linear_is_the_matrix_product():
    w = np.arange(6, dtype=np.int8).reshape(2, 3)
    assert cs.dense_linear(np.array([1, 0, 2], np.int8), w).tolist() == [4, 13]
    with pytest.raises(ValueError, match="n_in"):
        cs.dense_linear(np.ones(2), w)


def test_packing_efficiency_and_collisions():
    masks = cs.complementary_masks(5, (5, 5), 5, seed=0)
    assert cs.collisions(masks, 5) == 0
    assert cs.packing_efficiency(cs.pack(masks.astype(float), 5)) == 1.0
    partial = cs.complementary_masks(7, (2, 2), 4, seed=0)  # 2 groups, the second 3/4 full
    assert cs.packing_efficiency(cs.pack(partial.astype(float), 4)) == pytest.approx(7 / 8)
    clash = np.zeros((3, 4), bool)
    clash[0, [0, 1]] = clash[1, [1, 2]] = clash[2, [1, 3]] = True
    assert cs.collisions(clash, 3) == 1  # position 1, owned three times, counted once
    assert cs.collisions(clash, 1) == 0  # one kernel per group never collides
