"""Export: float -> int8 quantisation, the npz + JSON format, the numpy-only loader."""

from __future__ import annotations

import json

import numpy as np
import pytest
from quant_models import random_quant_model

import compsparse as cs
from compsparse.export import (
    FloatLayer,
    FloatModel,
    golden_vectors,
    load_model,
    quantize_model,
    save_model,
)

VARIANTS = ["dense", "sparse-dense", "sparse-sparse"]


def random_float_model(variant: str, seed: int = 0, npg=(2, 4, 5, 1)) -> FloatModel:
    """A float twin of quant_models.ARCH with random weights (no torch); ``npg`` the packing of
    the sparse variants."""
    rng = np.random.default_rng(seed)
    arch = [
        ("conv2d", 6, 5, 2),
        ("conv2d", 8, 3, 2),
        ("linear", 10, None, 1),
        ("linear", 4, None, 1),
    ]
    npg = (1, 1, 1, 1) if variant == "dense" else npg
    ks = (2, 3, 4) if variant == "sparse-sparse" else None
    in_shape, layers = (1, 12, 12), []
    for i, (kind, n_out, kernel, pool) in enumerate(arch):
        kshape = (in_shape[0], kernel, kernel) if kind == "conv2d" else (int(np.prod(in_shape)),)
        mask = cs.complementary_masks(n_out, kshape, npg[i], seed=rng)
        w = (rng.standard_normal((n_out, *kshape)) * mask / np.sqrt(mask[0].sum())).astype(
            np.float32
        )
        last = i == len(arch) - 1
        layer = FloatLayer(
            name=f"l{i}",
            kind=kind,
            weight=w,
            mask=mask,
            n_per_group=npg[i],
            bias=rng.normal(0, 0.1, n_out).astype(np.float32),
            in_shape=in_shape,
            pool=pool,
            k=None if (ks is None or last) else ks[i],
            relu=not last,
        )
        layers.append(layer)
        if kind == "conv2d":
            oh = (in_shape[1] - kernel + 1) // pool
            in_shape = (n_out, oh, oh)
            if arch[i + 1][0] == "linear":
                in_shape = (n_out * oh * oh,)
        else:
            in_shape = (n_out,)
    return FloatModel(layers, input_offset=-40.0, input_std=20.0, labels=list("abcd"))


def _features(n, seed=0):
    return np.random.default_rng(seed).uniform(-80, 0, (n, 12, 12)).astype(np.float32)


@pytest.mark.parametrize("variant", VARIANTS)
def test_float_model_batched_equals_packed_ops_reference(variant):
    fm = random_float_model(variant)
    x = _features(4)
    batched = fm.logits(x)
    for i in range(len(x)):
        ref = fm.forward_layers(x[i])
        np.testing.assert_allclose(ref[-1]["acc"], batched[i], rtol=1e-4, atol=1e-4)
        if variant == "sparse-sparse":
            assert all(isinstance(r["input"], cs.SparseActivation) for r in ref[1:])


@pytest.mark.parametrize("variant", VARIANTS)
def test_quantized_model_tracks_the_float_model(variant):
    fm = random_float_model(variant, seed=1)
    calib, x = _features(200, 1), _features(200, 2)
    qm = quantize_model(fm, calib)
    assert qm.layers[0].in_min == -128 and all(layer.in_min == 0 for layer in qm.layers[1:])
    out = qm.layers[-1]
    assert out.is_output and np.all(out.weight_scale == out.weight_scale[0])  # logits compare
    for fl, ql in zip(fm.layers, qm.layers, strict=True):
        w = ql.weights.unpack()
        assert np.all((w == 0) | fl.mask)  # nothing outside the masks
        assert np.count_nonzero(w) >= 0.9 * np.count_nonzero(fl.weight)  # few round to 0
        assert ql.acc_bits <= 32
    agree = np.mean(qm.predict(x) == np.argmax(fm.logits(x), axis=1))
    assert agree > 0.85
    # the integer logits, rescaled, approximate the float logits
    s = qm.layers[-1].in_scale * qm.layers[-1].weight_scale[0]
    corr = np.corrcoef((qm.logits(x) * s).ravel(), fm.logits(x).ravel())[0, 1]
    assert corr > 0.95


@pytest.mark.parametrize("variant", VARIANTS)
def test_save_and_load_round_trip(tmp_path, variant):
    model = random_quant_model(variant, seed=4)
    save_model(model, tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert back.input_scale == model.input_scale and back.input_offset == model.input_offset
    assert back.labels == model.labels
    for a, b in zip(model.layers, back.layers, strict=True):
        assert a.name == b.name and a.kind == b.kind and a.in_shape == b.in_shape
        assert a.pool == b.pool and a.k == b.k and a.in_min == b.in_min
        assert np.array_equal(a.weights.values, b.weights.values)
        assert np.array_equal(a.weights.kernel_ids, b.weights.kernel_ids)
        assert np.array_equal(a.bias, b.bias)
        if not a.is_output:
            assert np.array_equal(a.multiplier, b.multiplier) and np.array_equal(a.shift, b.shift)
    x = _features(6, 5)
    assert np.array_equal(model.logits(x), back.logits(x))
    assert back.predict(x).shape == (6,)


def test_file_format(tmp_path):
    model = random_quant_model("sparse-sparse", seed=2)
    save_model(model, tmp_path)
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["format"] == "compsparse-int8" and doc["format_version"] == 1
    assert doc["input"]["min"] == -128 and doc["input"]["max"] == 127
    with np.load(tmp_path / "model.npz", allow_pickle=False) as npz:
        for spec, layer in zip(doc["layers"], model.layers, strict=True):
            name = spec["name"]
            shape = (spec["n_groups"], *spec["kernel_shape"])
            assert npz[f"{name}.values"].dtype == np.int8 and npz[f"{name}.values"].shape == shape
            assert npz[f"{name}.kernel_ids"].dtype == np.uint8
            assert npz[f"{name}.bias"].dtype == np.int32
            assert npz[f"{name}.bias"].shape == (spec["n_kernels"],)
            if spec["requantize"]:
                assert npz[f"{name}.multiplier"].dtype == np.int32
                assert npz[f"{name}.shift"].dtype == np.int32
                assert (spec["out_min"], spec["out_max"]) == (0, 127)
            else:
                assert f"{name}.multiplier" not in npz.files
            assert spec["kwta"] == (
                None if layer.k is None else ("local" if layer.kind == "conv2d" else "global")
            )
            assert spec["acc_bits"] == layer.acc_bits
            assert spec["out_shape"] == list(layer.out_shape)


def test_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m compsparse export"):
        load_model(tmp_path / "nothing")
    save_model(random_quant_model("dense"), tmp_path)
    doc = json.loads((tmp_path / "model.json").read_text())
    doc["format_version"] = 99
    (tmp_path / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="re-export"):
        load_model(tmp_path)


def test_export_refuses_overflowing_accumulators(tmp_path):
    model = random_quant_model("dense")
    layer = model.layers[-1]
    object.__setattr__(layer, "bias", np.full_like(layer.bias, 2**31 - 1))
    with pytest.raises(OverflowError, match="accumulators"):
        save_model(model, tmp_path)


def test_golden_vectors_hold_every_intermediate():
    model = random_quant_model("sparse-sparse", seed=5)
    x = _features(3, 7)
    g = golden_vectors(model, x)
    assert g["input"].dtype == np.int8 and g["input"].shape == (3, 1, 12, 12)
    assert np.array_equal(g["logits"], model.logits(x))
    for layer in model.layers[:-1]:
        assert g[f"{layer.name}.acc"].dtype == np.int32
        assert g[f"{layer.name}.out"].dtype == np.int8
        assert g[f"{layer.name}.out"].shape == (3, *layer.out_shape)
        idx = g[f"{layer.name}.active_indices"]
        active = g[f"{layer.name}.active"].reshape(3, -1)
        for n in range(3):
            assert (
                np.count_nonzero(active[n][np.setdiff1d(np.arange(active.shape[1]), idx[n])]) == 0
            )


def test_int8_and_float32_count_the_weights_of_partial_groups_alike():
    from compsparse.evaluate import evaluate_float, evaluate_quant

    fm = random_float_model("sparse-sparse", npg=(4, 3, 3, 3))  # 6, 8, 10, 4 kernels: partial
    X, y = _features(4), np.zeros(4, np.int64)
    as_float = evaluate_float(fm, X, y)["layers"]
    as_int8 = evaluate_quant(quantize_model(fm, X), X, y)["layers"]
    masks = [int(layer.mask.sum()) for layer in fm.layers]
    assert [row["weights_in_masks"] for row in as_float] == masks
    assert [row["weights_in_masks"] for row in as_int8] == masks
