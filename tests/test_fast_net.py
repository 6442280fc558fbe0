"""FastNet: the whole network, compiled, against the integer golden model and the float model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from quant_models import random_quant_model

from compsparse.bench_models import dequantize, random_float_model, speech_models
from compsparse.export import quantize_model
from compsparse.fast import FastNet
from compsparse.packing import PackedKernels

VARIANTS = ["sparse-sparse", "sparse-dense", "dense"]
MODELS = {(v, s): random_quant_model(v, seed=s) for v in VARIANTS for s in (0, 1)}


def _same_layers(fast_layers, gold):
    for got, ref in zip(fast_layers, gold, strict=True):
        assert np.array_equal(got["pooled"], ref.pooled), ref.name
        if ref.out is not None:
            assert np.array_equal(got["out"], ref.out), ref.name
        assert (got["active"] is None) == (ref.active is None), ref.name
        if ref.active is not None:
            assert np.array_equal(got["active"].indices, ref.active.indices), ref.name
            assert np.array_equal(got["active"].values, ref.active.values), ref.name


@given(
    st.sampled_from(VARIANTS),
    st.integers(0, 1),
    st.sampled_from(["rows", "routed"]),
    st.integers(0, 2**32 - 1),
    st.floats(0.5, 40.0),
    st.integers(1, 3),
)
def test_int8_pipeline_is_bit_exact(variant, model_seed, strategy, seed, spread, parts):
    model = MODELS[(variant, model_seed)]
    net = FastNet.from_quant(model, strategy)
    x = np.random.default_rng(seed).normal(-40.0, spread, (3, 12, 12)).astype(np.float32)
    # parts > 1: one word split across threads (forward_split), every intermediate
    _same_layers(net.forward_layers(x[0], parts), model.forward_layers(x[0]))
    assert np.array_equal(net.logits(x, threads=2), model.logits(x))
    assert np.array_equal(net.logits(x[:1], threads=parts), model.logits(x[:1]))


def test_strategies_and_sparse_dense_layers():
    ss = FastNet.from_quant(MODELS[("sparse-sparse", 0)])
    assert ss.strategies == ("rows", "rows")  # 4 and 5 kernels per group: under 16 lanes
    sd = FastNet.from_quant(MODELS[("sparse-dense", 0)], "routed")
    assert sd.strategies == (None, None)
    with pytest.raises(ValueError, match="strategy"):
        FastNet.from_quant(MODELS[("dense", 0)], "fastest")
    with pytest.raises(ValueError, match="NaN"):
        ss.logits(np.full((1, 12, 12), np.nan, np.float32))
    too_many = MODELS[("sparse-sparse", 0)]
    layer = too_many.layers[1]
    bad = replace(
        too_many, layers=[*too_many.layers[:1], replace(layer, k=9), *too_many.layers[2:]]
    )
    with pytest.raises(ValueError, match="k = 9"):
        FastNet.from_quant(bad)
    P = layer.weights  # -128 is outside the symmetric scheme (int16 pair sums need |w| <= 127)
    low = PackedKernels(
        np.where(P.values == P.values.min(), -128, P.values).astype(np.int8),
        P.kernel_ids,
        P.n_per_group,
        P.n_kernels,
    )
    bad = replace(
        too_many, layers=[*too_many.layers[:1], replace(layer, weights=low), *too_many.layers[2:]]
    )
    with pytest.raises(ValueError, match=r"\[-127, 127\]"):
        FastNet.from_quant(bad)


def test_speech_network_shape_int8_and_float32():
    x = np.random.default_rng(3).normal(-40.0, 15.0, (4, 32, 32)).astype(np.float32)
    q, f, _ = speech_models("sparse-sparse", seed=1, folder="/nonexistent", features=x)
    for strategy, expect in (("auto", ("rows", "routed")), ("routed", ("routed", "routed"))):
        net = FastNet.from_quant(q, strategy)
        assert net.strategies == expect
        assert np.array_equal(net.logits(x), q.logits(x))
    ref = f.logits(x)
    got = FastNet.from_float(f).logits(x)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    q_bytes = FastNet.from_quant(q).weight_bytes
    assert q_bytes["linear1"]["dense"] == 1500 * 1600  # int8: one byte per dense weight
    assert q_bytes["linear1"]["packed_values"] == 60 * 1600  # 25 kernels per group


@pytest.mark.parametrize("parts", [1, 2])
def test_bind_calls_the_compiled_code_directly_with_the_same_result(parts):
    model = MODELS[("sparse-sparse", 0)]
    net = FastNet.from_quant(model)
    x = np.random.default_rng(5).normal(-40.0, 10.0, (1, 12, 12)).astype(np.float32)
    out = np.zeros((1, len(net.arrays["b4"])), net.acc_dtype)
    call = net.bind(x, net.buffers(parts), out, parts)
    assert not hasattr(call.func, "overloads")  # the compiled entry point, not the dispatcher
    out[:] = 0
    assert call() is out
    assert np.array_equal(out, model.logits(x))
    x[:] = np.random.default_rng(6).normal(-40.0, 10.0, x.shape)  # bound arrays are read anew
    call()
    assert np.array_equal(out, model.logits(x))


@pytest.mark.parametrize("variant", ["sparse-sparse", "sparse-dense"])
def test_float32_network_follows_the_float_model(variant):
    arch = [
        ("c1", "conv2d", 6, 3, 2),
        ("c2", "conv2d", 8, 3, 2),
        ("l1", "linear", 20, None, 1),
        ("out", "linear", 5, None, 1),
    ]
    sparsity = ((2, 4, 5, 1), (3, 3, 6) if variant == "sparse-sparse" else None)
    model = random_float_model(variant, seed=2, in_hw=14, arch=arch, sparsity=sparsity)
    net = FastNet.from_float(model)
    x = np.random.default_rng(4).normal(0.0, 1.0, (5, 14, 14)).astype(np.float32)
    ref = model.logits(x)
    np.testing.assert_allclose(net.logits(x), ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(net.logits(x[:1], threads=2), ref[:1], rtol=1e-4, atol=1e-5)
    gold = model.forward_layers(x[0])
    for parts in (1, 2):
        layers = net.forward_layers(x[0], parts)
        for got, want in zip(layers[:3], gold[:3], strict=True):
            np.testing.assert_allclose(got["pooled"], want["pooled"], rtol=1e-4, atol=1e-5)


def test_dequantized_twin_has_the_int8_weights_times_their_scales():
    q = random_quant_model("sparse-sparse", seed=0)
    f = dequantize(q)
    for fl, ql in zip(f.layers, q.layers, strict=True):
        scale = ql.weight_scale.reshape((-1,) + (1,) * (fl.weight.ndim - 1))
        np.testing.assert_allclose(fl.weight, ql.dense_weights() * scale, rtol=1e-6)
        assert (fl.k, fl.pool, fl.relu) == (ql.k, ql.pool, not ql.is_output)
    assert np.array_equal(f.layers[0].packed().kernel_ids, q.layers[0].weights.kernel_ids)
    assert FastNet.from_float(f).mode == "float32"


def test_quantized_random_speech_model_passes_export_rules():
    f = random_float_model("sparse-sparse", seed=0)
    q = quantize_model(f, np.random.default_rng(0).normal(size=(16, 32, 32)).astype(np.float32))
    assert all(layer.acc_bits <= 32 for layer in q.layers)
    with pytest.raises(ValueError, match="speech network"):
        FastNet.from_quant(type(q)(q.layers[1:], q.input_scale, q.input_offset))
