"""Multiply, Route, Sum: packed linear and conv2d equal the dense computation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import dense_conv2d, dense_linear

import compsparse as cs


def _random(rng, shape, dtype):
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, int(info.max) + 1, shape, dtype=dtype)
    return rng.standard_normal(shape).astype(dtype)


def _check_equal(got, want):
    assert got.shape == want.shape
    if np.issubdtype(got.dtype, np.integer):
        assert got.dtype == np.int64 and np.array_equal(got, want)
    else:
        tol = 1e-4 if got.dtype == np.float32 else 1e-10
        np.testing.assert_allclose(
            got, want, rtol=tol, atol=tol * max(1.0, np.abs(want).max(initial=0))
        )


DTYPES = st.sampled_from([np.int8, np.uint8, np.int16, np.float32, np.float64])


@given(
    st.integers(1, 40),
    st.integers(1, 30),
    st.integers(1, 8),
    DTYPES,
    st.integers(0, 2**32 - 1),
    st.data(),
)
def test_linear_equals_dense(n_in, n_out, n_per_group, dtype, seed, data):
    n_per_group = min(n_per_group, n_in)
    rng = np.random.default_rng(seed)
    w = _random(rng, (n_out, n_in), dtype) * cs.complementary_masks(
        n_out, n_in, n_per_group, seed=rng
    )
    w = w.astype(dtype)
    x = _random(rng, n_in, dtype)
    P = cs.pack(w, n_per_group)
    _check_equal(cs.linear(x, P), dense_linear(x, w))  # sparse-dense
    a = cs.kwta(x, data.draw(st.integers(1, n_in)))
    _check_equal(cs.linear(a, P), dense_linear(a.to_dense(), w))  # sparse-sparse


@given(
    st.integers(1, 4),  # c_in
    st.integers(1, 9),  # c_out
    st.integers(1, 3),  # kh
    st.integers(1, 3),  # kw
    st.integers(1, 7),  # h
    st.integers(1, 7),  # w
    st.integers(1, 3),  # stride
    st.integers(0, 2),  # padding
    st.integers(1, 6),  # n_per_group
    DTYPES,
    st.integers(0, 2**32 - 1),
    st.data(),
)
def test_conv2d_equals_dense(
    c_in, c_out, kh, kw, h, w, stride, padding, n_per_group, dtype, seed, data
):
    if h + 2 * padding < kh or w + 2 * padding < kw:
        with pytest.raises(ValueError, match="does not fit"):
            cs.conv2d(
                np.zeros((c_in, h, w)), cs.pack(np.ones((c_out, c_in, kh, kw)), 1), padding=padding
            )
        return
    n_per_group = min(n_per_group, c_in * kh * kw)
    rng = np.random.default_rng(seed)
    masks = cs.complementary_masks(c_out, (c_in, kh, kw), n_per_group, seed=rng)
    weights = (_random(rng, masks.shape, dtype) * masks).astype(dtype)
    x = _random(rng, (c_in, h, w), dtype)
    P = cs.pack(weights, n_per_group)
    s, p = (stride, stride), (padding, padding)
    _check_equal(cs.conv2d(x, P, stride=stride, padding=padding), dense_conv2d(x, weights, s, p))
    k = data.draw(st.integers(1, c_in))
    a = cs.kwta(x, k, axis=0)
    _check_equal(
        cs.conv2d(a, P, stride=stride, padding=padding), dense_conv2d(a.to_dense(), weights, s, p)
    )
    g = cs.kwta(x, data.draw(st.integers(1, x.size)))  # any sparse pattern works, global too
    _check_equal(
        cs.conv2d(g, P, stride=stride, padding=padding), dense_conv2d(g.to_dense(), weights, s, p)
    )


@given(st.integers(0, 2**32 - 1), st.booleans())
def test_traces_agree_with_the_layers(seed, sparse):
    rng = np.random.default_rng(seed)
    w = rng.integers(-8, 8, (6, 3, 3, 3)) * cs.complementary_masks(6, (3, 3, 3), 3, seed=rng)
    P = cs.pack(w, 3)
    x = rng.integers(-8, 8, (3, 6, 5))
    k = 2 if sparse else None
    p, q = int(rng.integers(0, 4)), int(rng.integers(0, 3))
    t = cs.trace_conv2d(x, P, k=k, position=(p, q))
    assert np.array_equal(t.sums, t.output[:, p, q])
    assert np.array_equal(t.products, t.weights * t.activations[None])
    assert t.routed.shape == (6, t.selected.size) and np.array_equal(t.routed.sum(axis=1), t.sums)
    assert t.selected.size == (2 * 9 if sparse else 27)
    wl = rng.integers(-8, 8, (7, 12)) * cs.complementary_masks(7, 12, 4, seed=rng)
    tl = cs.trace_linear(rng.integers(-8, 8, 12), cs.pack(wl, 4), k=5 if sparse else None)
    assert np.array_equal(tl.sums, tl.output) and tl.selected.size == (5 if sparse else 12)
    # every product lands in the accumulator of the kernel that owns its weight
    for g in range(tl.kernels.shape[0]):
        for j, i in enumerate(tl.selected):
            kernel = tl.kernels[g, j]
            assert tl.weights[g, j] == wl[kernel, i] or (
                tl.weights[g, j] == 0 and wl[kernel, i] == 0
            )


def test_sparse_sparse_touches_only_winners():
    """The sparse path's cost follows k: count the products it forms."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((64, 200)) * cs.complementary_masks(64, 200, 16, seed=0)
    P = cs.pack(w, 16)
    t = cs.trace_linear(rng.standard_normal(200), P, k=10)
    assert t.products.shape == (4, 10)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda P1, P3: cs.linear(np.ones(5), P1), r"x has shape \(5,\), expected \(4,\)"),
        (
            lambda P1, P3: cs.linear(np.ones(4), P3),
            "linear needs kernels packed from weights of shape",
        ),
        (lambda P1, P3: cs.conv2d(np.ones((2, 4, 4)), P1), "conv2d needs kernels packed"),
        (lambda P1, P3: cs.conv2d(np.ones((3, 4, 4)), P3), r"x must have shape \(2, h, w\)"),
        (lambda P1, P3: cs.conv2d(np.ones((2, 4, 4)), P3, stride=0), "stride must be >= 1"),
        (
            lambda P1, P3: cs.conv2d(np.ones((2, 4, 4)), P3, padding=(1, 2, 3)),
            "padding must be an int or a pair",
        ),
        (lambda P1, P3: cs.linear(cs.kwta(np.ones(5), 2), P1), "sparse activation has shape"),
    ],
)
def test_bad_layer_inputs(call, message):
    P1 = cs.pack(np.eye(4), 1)
    P3 = cs.pack(np.ones((2, 2, 3, 3)), 1)
    with pytest.raises(ValueError, match=message):
        call(P1, P3)


def test_linear_needs_packed_kernels():
    with pytest.raises(TypeError, match="PackedKernels"):
        cs.linear(np.ones(3), np.ones((2, 3)))


def test_mac_counts():
    m = cs.linear_macs(1600, 1500, n_per_group=20, k=160)
    assert m == (2_400_000, 1600 * 75, 160 * 75)
    assert m.sparse_sparse_speedup == pytest.approx(200.0)
    c = cs.conv2d_macs(64, 64, 5, (10, 10), n_per_group=16, k=8)
    assert (
        c.dense == 10_240_000
        and c.sparse_dense == 100 * 4 * 64 * 25
        and c.sparse_sparse == 100 * 4 * 8 * 25
    )
    with pytest.raises(ValueError, match="k must be in"):
        cs.linear_macs(10, 10, k=11)
