"""compsparse.fast layer by layer: layouts, and the compiled kernels against the numpy reference."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import compsparse as cs
from compsparse.fast import conv2d, kwta, linear, maxpool
from compsparse.fast.layout import (
    conv_dense_rows,
    conv_routed_rows,
    conv_taps,
    float32_exact,
    float32_rows_if_exact,
    linear_dense_rows,
    linear_routed_rows,
    packed_bytes,
)
from compsparse.quant import maxpool as ref_maxpool


def test_import_compsparse_stays_numpy_only():
    code = "import sys, compsparse; print(sorted({'numba', 'torch'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _packed(rng, n_out, kshape, n, integer):
    masks = cs.complementary_masks(n_out, kshape, n, seed=rng)
    if integer:
        w = rng.integers(-127, 128, masks.shape) * masks
        return cs.pack(w.astype(np.int8), n, masks=masks)
    return cs.pack((rng.standard_normal(masks.shape) * masks).astype(np.float32), n, masks=masks)


def test_linear_layouts_are_the_packed_kernels_by_input_position():
    rng = np.random.default_rng(0)
    P = _packed(rng, 7, (10,), 3, integer=True)  # 3 groups, the last one partial
    R = linear_routed_rows(P)
    assert R.values.shape == (10, 3) and R.n_out_pad == 9
    assert np.array_equal(R.values, P.values.T)
    assert np.array_equal(R.route, (np.arange(3)[:, None] * 3 + P.kernel_ids).T)
    D = linear_dense_rows(P)
    assert np.array_equal(D.values[:, :7], P.unpack().T) and not D.values[:, 7:].any()


def test_routes_are_int16_where_they_fit():
    rng = np.random.default_rng(1)
    assert linear_routed_rows(_packed(rng, 7, (10,), 3, integer=True)).route.dtype == np.int16
    wide = _packed(rng, 40_000, (2,), 2, integer=True)  # indices up to 39,999
    assert linear_routed_rows(wide).route.dtype == np.int32


@pytest.mark.parametrize("n_in, exact", [(1032, True), (1033, False)])
def test_float32_exact_bounds_every_partial_sum(n_in, exact):
    # 127 * 128 * 1032 < 2**24 <= 127 * 128 * 1033: the largest sum that is still a float32
    ones = np.ones((1, n_in), bool)
    P = cs.pack(np.full((1, n_in), 127, np.int8), 1, masks=ones)
    assert float32_exact(P) is exact
    assert not float32_exact(cs.pack(np.ones((1, n_in), np.float32), 1, masks=ones))
    R = float32_rows_if_exact(linear_routed_rows(P), P)
    assert R.values.dtype == (np.float32 if exact else np.int8)
    assert np.array_equal(R.values, P.values.T) and np.array_equal(R.route, P.kernel_ids.T)


def test_conv_layouts_stamp_order_and_taps():
    rng = np.random.default_rng(1)
    P = _packed(rng, 6, (2, 3, 3), 2, integer=True)
    D = conv_dense_rows(P)
    w = P.unpack()  # (6, 2, 3, 3)
    c, dy, dx, o = 1, 2, 0, 4
    # row (c, dy), stamp column dxr = kw - 1 - dx holds every kernel's weight at (c, dy, dx)
    assert D.values[c * 3 + dy, (2 - dx) * 6 + o] == w[o, c, dy, dx]
    R = conv_routed_rows(P)
    g = 1
    assert R.values[c * 3 + dy, (2 - dx) * 3 + g] == P.values[g, c, dy, dx]
    kernel = g * 2 + P.kernel_ids[g, c, dy, dx]
    assert R.route[c * 3 + dy, (2 - dx) * 3 + g] == (2 - dx) * 6 + kernel
    T = conv_taps(P, (5, 7))
    for k in range(6):
        offs = T.offset[T.start[k] : T.start[k + 1]]
        ci, rest = np.divmod(offs, 35)
        assert np.array_equal(T.weight[T.start[k] : T.start[k + 1]], w[k, ci, rest // 7, rest % 7])
    assert T.start[-1] == np.count_nonzero(w)


def test_packed_bytes_counts_values_and_bit_packed_ids():
    P = _packed(np.random.default_rng(2), 64, (64, 5, 5), 8, integer=True)
    b = packed_bytes(P)
    assert b["dense"] == 64 * 1600 and b["packed_values"] == 8 * 1600
    assert b["packed_ids"] == 8 * 1600 * 3 // 8  # 3 bits name one of 8 kernels
    assert packed_bytes(P, id_bits=8)["packed_ids"] == 8 * 1600


def test_strategy_and_stride_errors_name_the_fix():
    P = _packed(np.random.default_rng(3), 4, (1, 3, 3), 2, integer=False)
    x = np.ones((1, 5, 5), np.float32)
    with pytest.raises(ValueError, match="stride 1"):
        conv2d(x, P, stride=2)
    with pytest.raises(ValueError, match="strategy"):
        conv2d(x, P, strategy="fastest")


@st.composite
def conv_cases(draw):
    c_in, c_out = draw(st.integers(1, 9)), draw(st.integers(1, 9))  # k = 7 has its own pass
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n = draw(st.integers(1, min(5, c_in * kh * kw)))
    pad = draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * pad), 9))
    w = draw(st.integers(max(1, kw - 2 * pad), 9))
    seed = draw(st.integers(0, 2**32 - 1))
    return c_in, c_out, (kh, kw), n, pad, (h, w), seed


@given(conv_cases(), st.booleans(), st.sampled_from(["rows", "routed"]), st.integers(1, 3))
def test_conv2d_equals_reference(case, integer, strategy, threads):
    c_in, c_out, (kh, kw), n, pad, (h, w), seed = case
    rng = np.random.default_rng(seed)
    P = _packed(rng, c_out, (c_in, kh, kw), n, integer)
    if integer:
        x = rng.integers(-128, 128, (c_in, h, w)).astype(np.int8)
    else:
        x = rng.standard_normal((c_in, h, w)).astype(np.float32)
    k = int(rng.integers(1, c_in + 1))
    a = cs.kwta(x, k, axis=0)
    for inp in (x, a):
        got = conv2d(inp, P, padding=pad, strategy=strategy, threads=threads)
        ref = cs.conv2d(inp, P, padding=pad)
        assert got.shape == ref.shape
        if integer:
            assert got.dtype == np.int32 and np.array_equal(got, ref)
        else:
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


@given(
    st.integers(1, 40),
    st.integers(1, 30),
    st.integers(1, 6),
    st.booleans(),
    st.sampled_from(["rows", "routed"]),
    st.integers(0, 2**32 - 1),
)
def test_linear_equals_reference(n_in, n_out, n, integer, strategy, seed):
    rng = np.random.default_rng(seed)
    n = min(n, n_in)
    P = _packed(rng, n_out, (n_in,), n, integer)
    x = rng.integers(-128, 128, n_in) if integer else rng.standard_normal(n_in)
    a = cs.kwta(x, int(rng.integers(1, n_in + 1)))
    for inp in (x, a):
        got, ref = linear(inp, P, strategy=strategy), cs.linear(inp, P)
        if integer:
            assert np.array_equal(got, ref)
        else:
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=3),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["int8", "float32", "float64", "ties"]),
)
def test_kwta_equals_reference(shape, seed, kind):
    rng = np.random.default_rng(seed)
    if kind == "int8":
        x = rng.integers(-128, 128, shape).astype(np.int8)
    elif kind == "ties":  # few distinct values, negative zero among them
        x = rng.choice(np.array([-0.0, 0.0, 1.5, -2.0]), shape)
    else:
        x = rng.standard_normal(shape).astype(kind)
    axis = None if rng.random() < 0.4 else int(rng.integers(0, len(shape)))
    n = x.size if axis is None else x.shape[axis]
    k = int(rng.integers(1, n + 1))
    got, ref = kwta(x, k, axis=axis), cs.kwta(x, k, axis=axis)
    assert np.array_equal(got.indices, ref.indices)
    assert np.array_equal(got.values, ref.values)


@given(
    st.integers(1, 3),
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(1, 3),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_maxpool_equals_reference(c, h, w, size, integer, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-1000, 1000, (c, h, w)).astype(np.int32) if integer else rng.random((c, h, w))
    assert np.array_equal(maxpool(x, size), ref_maxpool(x, size))


def test_int8_mode_refuses_accumulators_that_could_overflow():
    w = np.full((1, 140_000), 127, np.int8)
    x = np.full(140_000, 127, np.int8)
    with pytest.raises(OverflowError, match=r"cs\.linear"):
        linear(x, cs.pack(w, 1))
