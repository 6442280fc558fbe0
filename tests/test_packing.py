"""Combine: complementary masks and pack/unpack."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import compsparse as cs

DTYPES = [np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8]


@st.composite
def packable(draw):
    """Random complementary sparse kernels: (weights, masks, n_per_group)."""
    kernel_shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    size = int(np.prod(kernel_shape))
    n_per_group = draw(st.integers(1, min(size, 8)))
    n_kernels = draw(st.integers(1, 3 * n_per_group + 1))
    seed = draw(st.integers(0, 2**32 - 1))
    dtype = draw(st.sampled_from(DTYPES))
    density = draw(st.floats(0.0, 1.0))
    rng = np.random.default_rng(seed)
    masks = cs.complementary_masks(n_kernels, kernel_shape, n_per_group, seed=rng)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = rng.integers(info.min, int(info.max) + 1, masks.shape, dtype=dtype)
    else:
        values = rng.standard_normal(masks.shape).astype(dtype)
    keep = rng.random(masks.shape) < density
    return (values * (masks & keep)).astype(dtype), masks, n_per_group


@given(
    st.integers(1, 40),
    st.lists(st.integers(1, 6), min_size=1, max_size=3),
    st.integers(1, 12),
    st.integers(0, 99),
)
def test_masks_are_complementary_and_balanced(n_kernels, kernel_shape, n_per_group, seed):
    size = int(np.prod(kernel_shape))
    n_per_group = min(n_per_group, size)
    masks = cs.complementary_masks(n_kernels, kernel_shape, n_per_group, seed=seed)
    assert masks.shape == (n_kernels, *kernel_shape) and masks.dtype == bool
    for first in range(0, n_kernels, n_per_group):
        group = masks[first : first + n_per_group].reshape(-1, size)
        assert group.sum(axis=0).max() == 1  # disjoint
        shares = group.sum(axis=1)
        assert shares.max() - shares.min() <= 1  # equal shares
        assert set(shares) <= {size // n_per_group, -(-size // n_per_group)}
        if len(group) == n_per_group:
            assert group.any(axis=0).all()  # a full group covers every position


@given(
    st.integers(1, 30),
    st.lists(st.integers(1, 5), min_size=1, max_size=3),
    st.integers(1, 10),
    st.integers(0, 99),
)
def test_masks_by_importance_keep_the_complementary_promise(n_kernels, shape, n_per_group, seed):
    size = int(np.prod(shape))
    n_per_group = min(n_per_group, size)
    rng = np.random.default_rng(seed)
    importance = np.abs(rng.standard_normal((n_kernels, *shape))).round(1)  # with ties
    masks = cs.complementary_masks_by_importance(importance, n_per_group)
    shares_of = cs.complementary_masks(n_kernels, shape, n_per_group, seed=0).reshape(n_kernels, -1)
    assert masks.shape == importance.shape and masks.dtype == bool
    # same shares as the random masks: disjoint, covering, balanced, partial group included
    assert np.array_equal(masks.reshape(n_kernels, -1).sum(axis=1), shares_of.sum(axis=1))
    assert cs.collisions(masks, n_per_group) == 0


def test_masks_by_importance_give_each_position_to_the_kernel_that_needs_it():
    importance = np.zeros((3, 6))
    importance[0, [4, 5]] = 1.0  # each kernel wants two positions of its own
    importance[1, [0, 2]] = 1.0
    importance[2, [1, 3]] = 1.0
    masks = cs.complementary_masks_by_importance(importance, 3)
    assert np.array_equal(masks, importance > 0)
    # a kernel that wants everything gets only its share; the rest goes to the others
    greedy = np.array([[9, 8, 7, 6, 5, 4], [1, 1, 1, 1, 1, 2], [1, 1, 1, 1, 2, 1]], float)
    masks = cs.complementary_masks_by_importance(greedy, 3)
    assert masks[0].nonzero()[0].tolist() == [0, 1]
    assert masks[1, 5] and masks[2, 4]
    # on a trained-looking layer it keeps far more weight mass than random masks
    w = np.random.default_rng(1).standard_t(2, (64, 64, 5, 5))
    kept = (np.abs(w) * cs.complementary_masks_by_importance(np.abs(w), 8)).sum()
    assert kept > 2 * (np.abs(w) * cs.complementary_masks(64, (64, 5, 5), 8, seed=0)).sum()


@pytest.mark.parametrize(
    ("importance", "n_per_group", "message"),
    [
        (-np.ones((4, 3)), 2, "non-negative"),
        (np.full((4, 3), np.nan), 2, "non-negative"),
        (np.ones(4), 2, "n_kernels"),
        (np.ones((4, 3)), 4, "larger than the 3 kernel positions"),
        (np.ones((4, 3)), 0, "n_per_group must be an int"),
    ],
)
def test_bad_importance_arguments(importance, n_per_group, message):
    with pytest.raises(ValueError, match=message):
        cs.complementary_masks_by_importance(importance, n_per_group)


def test_masks_are_reproducible_and_seed_dependent():
    a = cs.complementary_masks(8, (4, 3, 3), 4, seed=7)
    assert np.array_equal(a, cs.complementary_masks(8, (4, 3, 3), 4, seed=7))
    assert not np.array_equal(a, cs.complementary_masks(8, (4, 3, 3), 4, seed=8))


@given(packable())
def test_pack_unpack_round_trip(case):
    weights, masks, n_per_group = case
    P = cs.pack(weights, n_per_group)
    assert P.values.dtype == weights.dtype
    assert P.values.shape == (-(-len(weights) // n_per_group), *weights.shape[1:])
    assert P.kernel_ids.shape == P.values.shape and P.kernel_ids.dtype.kind == "u"
    assert int(P.kernel_ids.max(initial=0)) < n_per_group
    unpacked = P.unpack()
    assert unpacked.dtype == weights.dtype and np.array_equal(unpacked, weights)
    with_masks = cs.pack(weights, n_per_group, masks=masks)
    assert np.array_equal(with_masks.unpack(), weights)
    # with masks, every position a kernel owns routes to that kernel
    owner = with_masks.kernel_index()
    for kernel in range(len(weights)):
        group = kernel // n_per_group
        assert np.all(owner[group][masks[kernel]] == kernel)


def test_packing_is_dense_for_a_full_group():
    masks = cs.complementary_masks(5, (5, 5), 5, seed=0)
    weights = masks * np.arange(1, 6)[:, None, None]
    P = cs.pack(weights, 5)
    assert P.n_groups == 1 and np.all(P.values != 0)
    assert np.array_equal(P.values, P.kernel_ids + 1)


def test_collision_names_group_position_and_kernels():
    w = np.zeros((6, 3, 3))
    w[4, 1, 2] = 1.0
    w[5, 1, 2] = -2.0
    with pytest.raises(ValueError, match=r"group 1 at position \(1, 2\): kernels 4 and 5"):
        cs.pack(w, 3)


@pytest.mark.parametrize(
    ("weights", "n_per_group", "message"),
    [
        (np.ones((4, 3)), 0, "n_per_group must be an int >= 1"),
        (np.ones((4, 3)), 1.5, "n_per_group must be an int >= 1"),
        (np.ones(4), 2, r"shape \(n_kernels, \*kernel_shape\)"),
        (np.ones((0, 3)), 2, "non-empty"),
        (np.array([[np.nan, 0], [0, 1.0]]), 2, "non-finite"),
        (np.array([[np.inf, 0], [0, 1.0]]), 2, "non-finite"),
        (np.ones((2, 2), dtype=bool), 2, "real or integer"),
        (np.ones((2, 2), dtype=complex), 2, "real or integer"),
    ],
)
def test_bad_pack_inputs_say_what_to_do(weights, n_per_group, message):
    with pytest.raises(ValueError, match=message):
        cs.pack(weights, n_per_group)


def test_weights_outside_masks_are_refused():
    masks = cs.complementary_masks(2, 4, 2, seed=0)
    with pytest.raises(ValueError, match="outside kernel 0's mask"):
        cs.pack(np.ones((2, 4)) * masks[::-1], 2, masks=masks)
    with pytest.raises(ValueError, match="masks have shape"):
        cs.pack(np.zeros((2, 4)), 2, masks=masks[:1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, (3,), 1), "n_kernels must be an int >= 1"),
        ((4, (0, 3), 1), "kernel_shape must be"),
        ((4, (3,), 4), "larger than the 3 positions"),
        ((4, (3,), 0), "n_per_group must be"),
    ],
)
def test_bad_mask_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        cs.complementary_masks(*args)


def test_paper_figure_4b_worked_example():
    """Three 3x3 kernels A, B, C, 66% sparse, packed as [A00 B01 C02; A10 C11 B12; B20 C21 A22]."""
    owner = np.array([[0, 1, 2], [0, 2, 1], [1, 2, 0]])  # A=0, B=1, C=2
    weights = np.stack(
        [np.where(owner == k, 10 * (k + 1) + np.arange(9).reshape(3, 3), 0) for k in range(3)]
    )
    P = cs.pack(weights, 3)
    assert np.array_equal(P.kernel_ids[0], owner)
    I = np.arange(1, 10).reshape(3, 3)  # the activation
    # A = I00*A00 + I10*A10 + I22*A22, B = I01*B01 + I12*B12 + I20*B20,
    # C = I02*C02 + I11*C11 + I21*C21
    A, B, C = weights[0], weights[1], weights[2]
    expected = [
        I[0, 0] * A[0, 0] + I[1, 0] * A[1, 0] + I[2, 2] * A[2, 2],
        I[0, 1] * B[0, 1] + I[1, 2] * B[1, 2] + I[2, 0] * B[2, 0],
        I[0, 2] * C[0, 2] + I[1, 1] * C[1, 1] + I[2, 1] * C[2, 1],
    ]
    trace = cs.trace_conv2d(I[None], cs.pack(weights[:, None], 3))
    assert trace.products.shape == (1, 9)  # one Hadamard product, 9 terms, no collisions
    assert trace.sums.tolist() == expected
    assert cs.conv2d(I[None], cs.pack(weights[:, None], 3))[:, 0, 0].tolist() == expected
