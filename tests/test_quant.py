"""The int8 scheme: input quantiser, requantisation, pooling, k-WTA, and the whole pipeline."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from quant_models import golden_logits, random_quant_model

import compsparse as cs
from compsparse.quant import (
    QuantLayer,
    QuantModel,
    batched_kwta,
    maxpool,
    quantize_input,
    quantize_multiplier,
    requantize,
)

VARIANTS = ["dense", "sparse-dense", "sparse-sparse"]


def test_quant_imports_numpy_only():
    code = (
        "import sys, compsparse.quant, compsparse.export\n"
        "print(sorted({'torch', 'scipy'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_input_quantiser_rounds_half_to_even_and_saturates():
    x = np.array([-40.0, -39.5, -38.5, -40.25, 100.0, -1000.0, -40.0 + 0.5 * 3], np.float32)
    q = quantize_input(x, scale=0.5, offset=-40.0)
    assert q.dtype == np.int8
    assert q.tolist() == [0, 1, 3, 0, 127, -128, 3]  # 1.0->1, 3.0->3, -0.5->-0 (even)
    assert quantize_input(np.float32(-39.75), 0.5, -40.0) == 0  # 0.5 -> 0 (even)
    assert quantize_input(np.float32(-39.25), 0.5, -40.0) == 2  # 1.5 -> 2 (even)
    with pytest.raises(ValueError, match="NaN or inf"):
        quantize_input(np.array([np.nan]), 1.0, 0.0)


@given(st.floats(1e-12, 1e9, allow_nan=False))
def test_multiplier_is_15_bit_accurate(real):
    m, s = quantize_multiplier(real)
    assert 1 <= s <= 62 and 0 <= m < 2**31
    if 1 < s < 62:
        assert 2**14 <= m <= 2**15
        assert abs(m / 2**s - real) <= real * 2**-15


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan, 2.0**40])
def test_bad_multipliers(bad):
    with pytest.raises(ValueError):
        quantize_multiplier(bad)


def _requant_exact(a: int, m: int, s: int) -> int:
    """floor(a*m / 2**s + 1/2) with Python integers, saturated to [0, 127]."""
    return min(max((a * m + 2 ** (s - 1)) // 2**s, 0), 127)


@given(
    st.lists(st.integers(-(2**31) + 1, 2**31 - 1), min_size=1, max_size=20),
    st.integers(0, 2**31 - 1),
    st.integers(1, 62),
)
def test_requantize_is_round_half_up_then_saturate(acc, m, s):
    got = requantize(np.array(acc, np.int32)[None], [m], [s])
    assert got.dtype == np.int8
    assert got[0].tolist() == [_requant_exact(a, m, s) for a in acc]


def test_requantize_ties_round_up_and_per_channel():
    acc = np.array([[3, -3, 5, 1000], [3, -3, 5, 1000]], np.int32)  # channels on axis 0
    y = requantize(acc, multiplier=[1, 2], shift=[1, 1])  # x/2 and x
    assert y.tolist() == [[2, 0, 3, 127], [3, 0, 5, 127]]  # 1.5->2, -1.5->-1->0, 2.5->3
    batched = requantize(np.stack([acc, acc]), [1, 2], [1, 1], axis=1)
    assert np.array_equal(batched[1], y)


@given(st.integers(0, 2**32 - 1), st.integers(1, 3))
def test_pooling_commutes_with_requantisation(seed, size):
    rng = np.random.default_rng(seed)
    acc = rng.integers(-(2**20), 2**20, (3, 7, 6)).astype(np.int32)
    m = rng.integers(2**14, 2**15, 3)
    s = rng.integers(12, 30, 3)
    pool_first = requantize(maxpool(acc, size), m, s)
    requant_first = maxpool(requantize(acc, m, s), size)
    assert np.array_equal(pool_first, requant_first)


def test_maxpool_floor_mode():
    x = np.arange(2 * 5 * 5).reshape(2, 5, 5)
    y = maxpool(x, 2)
    assert y.shape == (2, 2, 2)
    assert y[0].tolist() == [[6, 8], [16, 18]]
    assert maxpool(x, 1) is x


@given(st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_batched_kwta_matches_cs_kwta_with_ties(seed, k):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, (3, 6, 2, 3)).astype(np.int8)  # many ties
    got = batched_kwta(y, k)
    for n in range(len(y)):
        assert np.array_equal(got[n], cs.kwta(y[n], k, axis=0).to_dense())
    flat = y.reshape(3, -1)
    got = batched_kwta(flat, k)
    for n in range(len(flat)):
        assert np.array_equal(got[n], cs.kwta(flat[n], k).to_dense())


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pipeline_equals_the_independent_golden_model(variant, seed):
    model = random_quant_model(variant, seed)
    rng = np.random.default_rng(seed + 10)
    xq = rng.integers(-128, 128, (5, 12, 12)).astype(np.int8)
    batched = model.logits(xq, quantized=True, batch_size=2)
    assert batched.dtype == np.int32 and batched.shape == (5, 4)
    for i in range(len(xq)):
        outs = model.forward_layers(xq[i], quantized=True)
        assert np.array_equal(outs[-1].acc, golden_logits(model, xq[i]))
        assert np.array_equal(outs[-1].acc, batched[i])
    assert np.array_equal(model.predict(xq, quantized=True), np.argmax(batched, axis=1))


def test_layer_outputs_are_typed_and_sparse_sparse_is_k_sparse():
    model = random_quant_model("sparse-sparse", 3)
    x = np.random.default_rng(0).uniform(-80, 0, (12, 12)).astype(np.float32)
    outs = model.forward_layers(x)
    assert isinstance(outs[0].input, np.ndarray) and outs[0].input.dtype == np.int8
    for prev, out in itertools.pairwise(outs):
        assert isinstance(out.input, cs.SparseActivation)  # every layer after the first
        assert out.input.nnz == prev.active.nnz
    for layer, out in zip(model.layers[:-1], outs[:-1], strict=True):
        assert out.acc.dtype == np.int32 and out.pooled.dtype == np.int32
        assert out.out.dtype == np.int8 and out.out.min() >= 0
        pixels = out.out[0].size if layer.kind == "conv2d" else 1
        assert out.active.nnz == layer.k * pixels
    assert outs[-1].out is None and outs[-1].active is None


def test_dense_variant_passes_dense_activations():
    model = random_quant_model("dense", 0)
    outs = model.forward_layers(np.zeros((12, 12), np.int8), quantized=True)
    assert all(isinstance(o.input, np.ndarray) for o in outs)
    assert all(o.active is None for o in outs)


def test_float64_path_is_used_and_exact_for_wide_accumulators():
    # 1600 inputs of 127 x 127: sums beyond 2**24, where float32 would round
    w = np.full((2, 1600), 127, np.int8)
    w[1, ::3] = -127
    layer = QuantLayer(
        "big", "linear", cs.pack(w, 1), np.array([7, -7], np.int32), None, None, (1600,)
    )
    model = QuantModel([layer], 1.0, 0.0)
    xq = np.full((2, 1600), 127, np.int8)
    xq[1, 1::2] = -128
    want = [w.astype(np.int64) @ x.astype(np.int64) + [7, -7] for x in xq]
    assert np.array_equal(model.logits(xq, quantized=True), np.array(want))
    assert layer.acc_bits == 26


def test_layer_validation():
    P = cs.pack(np.ones((2, 3), np.int8), 1)
    ok = dict(name="x", kind="linear", weights=P, bias=np.zeros(2, np.int32), in_shape=(3,))
    with pytest.raises(ValueError, match="kind"):
        QuantLayer(**{**ok, "kind": "conv3d"}, multiplier=None, shift=None)
    with pytest.raises(ValueError, match="int8"):
        QuantLayer(**{**ok, "weights": cs.pack(np.ones((2, 3)), 1)}, multiplier=None, shift=None)
    with pytest.raises(ValueError, match="bias"):
        QuantLayer(**{**ok, "bias": np.zeros(2)}, multiplier=None, shift=None)
    with pytest.raises(ValueError, match="both"):
        QuantLayer(**ok, multiplier=np.ones(2, np.int32), shift=None)
    with pytest.raises(ValueError, match="shifts"):
        QuantLayer(**ok, multiplier=np.ones(2, np.int32), shift=np.zeros(2, np.int32))
    with pytest.raises(ValueError, match="logits"):
        QuantLayer(**ok, multiplier=None, shift=None, k=1)
