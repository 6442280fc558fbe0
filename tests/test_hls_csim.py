"""The HLS kernels in C simulation compute exactly what compsparse's integer pipeline computes.

Every test builds the variant's top with g++ (cached in hls/build/csim) and compares bytes with
the numpy golden model: logits of every clip, and every layer's intermediates of one clip.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import compsparse as cs
from compsparse.fpga.csim import CsimDesign, CsimError
from compsparse.hls_csim import TEST_CLIPS, CsimReport, compare
from compsparse.hls_models import random_model, resolve_model, speech_features
from compsparse.hls_params import VARIANTS, hls_params
from compsparse.kwta_hw import kwta_histogram, kwta_sorting_network
from compsparse.quant import QuantModel

N_CLIPS = TEST_CLIPS
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", params=VARIANTS)
def design(request) -> CsimDesign:
    """Each variant's top with the exported model (data/models/VARIANT), else a random one."""
    model, _ = resolve_model(request.param)
    return CsimDesign(model, request.param)


@pytest.fixture(scope="module")
def test_clips() -> np.ndarray:
    try:
        x = speech_features("test", N_CLIPS)
    except FileNotFoundError as e:
        pytest.skip(f"the embedded speech set is missing: {e}")
    assert len(x) >= N_CLIPS, f"the embedded test split has only {len(x)} clips"
    return x


def _assert_ok(rep: CsimReport) -> None:
    assert rep.ok, f"{rep.variant}: {rep.mismatches} mismatches; first: {rep.first_difference}"


def test_embedded_test_clips_are_bit_exact(design, test_clips):
    rep = compare(design, test_clips)
    _assert_ok(rep)
    assert rep.n_clips == N_CLIPS
    n_layer_arrays = sum(
        3 + (layer.k is not None) - layer.is_output for layer in design.model.layers
    )
    assert len(rep.layer_arrays) == n_layer_arrays  # acc, pooled, out and active of every layer
    assert rep.n_values > N_CLIPS * (1024 + 12)


def test_every_layer_of_several_clips_is_bit_exact(design, test_clips):
    rep = CsimReport(design.variant)
    for i in (1, 57, 199):
        compare(design, test_clips[i : i + 1], report=rep)
    _assert_ok(rep)


def test_random_int8_inputs_are_bit_exact(design):
    rng = np.random.default_rng(7)
    xq = rng.integers(-128, 128, (12, *design.model.input_shape)).astype(np.int8)
    _assert_ok(compare(design, quantized=xq, layer_clip=3))


@pytest.mark.parametrize("value", [0, 127, -128])
def test_constant_inputs_are_bit_exact(design, value):
    xq = np.full((1, *design.model.input_shape), value, dtype=np.int8)
    _assert_ok(compare(design, quantized=xq))


def test_other_random_models_are_bit_exact(design):
    """Weights of another seed through the same compiled design (reloaded on chip)."""
    packing = tuple(layer.weights.n_per_group for layer in design.model.layers)
    model = random_model(design.variant, seed=11, n_per_group=packing)
    other = CsimDesign(model, design.variant)
    assert other.library == design.library  # one build per shape: weights are data
    rng = np.random.default_rng(3)
    xq = rng.integers(-128, 128, (6, *model.input_shape)).astype(np.int8)
    _assert_ok(compare(other, quantized=xq))
    _assert_ok(compare(design, quantized=xq, layer_clip=None))  # the first model again


def _saturating(model: QuantModel, gain: int) -> QuantModel:
    """The model with requantisation multipliers scaled up: many outputs clip at 127 or 0."""
    layers = [
        layer
        if layer.is_output
        else dataclasses.replace(
            layer,
            multiplier=np.minimum(layer.multiplier.astype(np.int64) * gain, 2**31 - 1).astype(
                np.int32
            ),
        )
        for layer in model.layers
    ]
    return QuantModel(layers, model.input_scale, model.input_offset, model.labels, model.meta)


def test_kwta_ties_end_to_end():
    """Saturated activations: most candidates tie at 127 or 0, so the tie rule decides."""
    model = _saturating(random_model("sparse-sparse", seed=5), gain=64)
    design = CsimDesign(model, "sparse-sparse")
    rng = np.random.default_rng(1)
    xq = rng.integers(-128, 128, (4, *model.input_shape)).astype(np.int8)
    xq[0] = 127
    layers = model.forward_layers(xq[1], quantized=True)
    y = layers[2].out
    assert np.count_nonzero(y == 127) > model.layers[2].k  # really tied at the threshold
    per_pixel = layers[0].out.reshape(layers[0].out.shape[0], -1)
    assert np.mean(np.sum(per_pixel == 127, axis=0) > model.layers[0].k) > 0.5
    rep = CsimReport("sparse-sparse")
    for i in range(len(xq)):
        compare(design, quantized=xq[i : i + 1], report=rep)
    _assert_ok(rep)


@pytest.fixture(scope="module")
def ss_design() -> CsimDesign:
    return CsimDesign(random_model("sparse-sparse", seed=2), "sparse-sparse")


@st.composite
def tied_values(draw, n: int):
    """n activations in [0, 127], often from a narrow range (many ties)."""
    lo = draw(st.integers(0, 127))
    hi = draw(st.sampled_from([lo, min(127, lo + 1), min(127, lo + 3), 127]))
    return draw(hnp.arrays(np.uint8, (n,), elements=st.integers(lo, hi)))


@given(data=st.data())
def test_local_kwta_circuit_picks_the_kwta_winners(ss_design, data):
    layer = data.draw(st.sampled_from([0, 1]))
    k = ss_design.model.layers[layer].k
    y = data.draw(tied_values(ss_design.model.layers[layer].weights.n_kernels))
    won = ss_design.kwta(layer, y)
    want = np.zeros(y.shape, bool)
    want[cs.kwta(y, k).indices] = True
    assert np.array_equal(won, want)
    sn = np.zeros(y.shape, bool)
    sn[kwta_sorting_network(y, k).indices] = True
    assert np.array_equal(won, sn)


@given(y=tied_values(1500))
def test_global_kwta_circuit_picks_the_kwta_winners(ss_design, y):
    k = ss_design.model.layers[2].k
    won = ss_design.kwta(2, y)
    want = np.zeros(y.shape, bool)
    want[cs.kwta(y, k).indices] = True
    assert np.array_equal(won, want)
    hist = np.zeros(y.shape, bool)
    hist[kwta_histogram(y, k).indices] = True
    assert np.array_equal(won, hist)


def test_kwta_all_equal_takes_the_lowest_indices(ss_design):
    for layer, n in ((0, 64), (1, 64), (2, 1500)):
        for value in (0, 127):
            won = ss_design.kwta(layer, np.full(n, value, np.uint8))
            k = ss_design.model.layers[layer].k
            assert np.flatnonzero(won).tolist() == list(range(k))


def test_host_quantisation_matches_numpy(ss_design):
    model = ss_design.model
    rng = np.random.default_rng(0)
    x = rng.normal(-40, 30, (3, 32, 32)).astype(np.float32)
    # values that land exactly on .5 steps, and far outside the int8 range
    steps = np.arange(-300, 300, dtype=np.float32) * 0.5
    x.reshape(-1)[: steps.size] = steps * np.float32(model.input_scale) + np.float32(
        model.input_offset
    )
    assert np.array_equal(ss_design.quantize(x), model.quantize(x))
    with pytest.raises(ValueError, match="NaN"):
        ss_design.quantize(np.full((32, 32), np.nan, np.float32))


# A scaled-down network whose sizes leave partial groups everywhere: 12 and 10 channels (a
# partial sorting-network group), 10 kernels in groups of 4 (two padding channels), 50 units in
# groups of 7. Its parallelism (hls_params.CONV_UNITS) differs from the speech network's: the
# sparse-dense conv1 pools over two passes of 2 lanes and drains 2 channels a cycle, its conv2
# splits 12 input channels over 4 slices; the sparse-sparse conv2 has 4 winner lanes on 2
# dual-port copies.
SMALL = dict(in_hw=18, channels=(12, 10), kernel=3, pool=2, hidden=50, classes=5)


@pytest.mark.parametrize("variant", ["sparse-dense", "sparse-sparse"])
def test_a_scaled_down_network_with_partial_groups_is_bit_exact(variant):
    model = random_model(variant, seed=4, n_per_group=(3, 4, 7, 1), k=(3, 5, 9), shape=SMALL)
    params = hls_params(model, variant)
    l1, l2, l3 = params.layers[:3]
    if variant == "sparse-dense":
        assert (l1["LANES"], l1["DRAIN"], l2["LANES"], l2["SLICES"]) == (2, 2, 4, 4)
        assert (l2["C_OUT"], l2["C_PAD"]) == (10, 12)
    else:
        assert (l2["LANES"], l2["PORTS"], l2["COPIES"], l3["K_IN"]) == (4, 4, 2, 45)
    design = CsimDesign(model, variant)
    rng = np.random.default_rng(9)
    xq = rng.integers(-128, 128, (20, *model.input_shape)).astype(np.int8)
    rep = compare(design, quantized=xq, layer_clip=0)
    compare(design, quantized=np.full((1, *model.input_shape), -128, np.int8), report=rep)
    _assert_ok(rep)


# Other parallelism than the tops use: one lane in four passes per pooled pixel and two slices
# (sparse-dense); two passes of two winner lanes sharing one dual-port copy (sparse-sparse).
@pytest.mark.parametrize(
    ("variant", "units"),
    [
        ("sparse-dense", ((1, 1), (1, 2))),
        ("sparse-sparse", ((2, 1), (2, 1))),
    ],
)
def test_other_parallelism_is_bit_exact(monkeypatch, variant, units):
    from compsparse import hls_params as hp

    monkeypatch.setitem(hp.CONV_UNITS, variant, units)
    model = random_model(variant, seed=6, n_per_group=(3, 4, 7, 1), k=(3, 5, 9), shape=SMALL)
    layers = hls_params(model, variant).layers
    assert [(c["LANES"], c["SLICES"]) for c in layers[:2]] == list(units)
    design = CsimDesign(model, variant)
    rng = np.random.default_rng(2)
    xq = rng.integers(-128, 128, (8, *model.input_shape)).astype(np.int8)
    _assert_ok(compare(design, quantized=xq, layer_clip=0))


def test_exported_golden_vectors_are_reproduced():
    """The exporter's golden.npz (every intermediate of its first test clips), when committed."""
    found = [v for v in VARIANTS if (ROOT / "data" / "models" / v / "golden.npz").is_file()]
    if not found:
        pytest.skip("no data/models/VARIANT/golden.npz yet (the trained models are not exported)")
    for variant in found:
        folder = ROOT / "data" / "models" / variant
        design = CsimDesign(folder, variant)
        with np.load(folder / "golden.npz", allow_pickle=False) as g:
            gold = dict(g)
        assert np.array_equal(design.infer(gold["features"]), gold["logits"]), variant
        layers = design.layer_outputs(gold["features"][0])
        for layer, mine in zip(design.model.layers, layers, strict=True):
            for what, array in mine.items():
                key = f"{layer.name}.{what}"
                if key in gold:
                    assert np.array_equal(array, gold[key][0]), f"{variant} {key}"


def test_a_mismatch_is_reported_with_its_place():
    rep = CsimReport("dense")
    rep.check("logits", np.array([[1, 2], [3, 4]]), np.array([[1, 2], [3, 5]]))
    assert not rep.ok and rep.mismatches == 1
    assert rep.first_difference.startswith("logits[1, 1]: C++ 4, numpy 5")


def test_models_the_tops_cannot_run_are_refused():
    ss = random_model("sparse-sparse", seed=0, shape=SMALL, n_per_group=(3, 4, 7, 1), k=(3, 5, 9))
    with pytest.raises(ValueError, match="use --variant sparse-sparse"):
        hls_params(ss, "sparse-dense")
    sd = random_model("sparse-dense", seed=0, shape=SMALL, n_per_group=(3, 4, 7, 1))
    with pytest.raises(ValueError, match="needs k-WTA"):
        hls_params(sd, "sparse-sparse")
    with pytest.raises(ValueError, match="unknown variant"):
        hls_params(sd, "sparse")
    odd = random_model("dense", seed=0, shape=dict(SMALL, in_hw=17))
    with pytest.raises(ValueError, match="not a multiple of the pool size"):
        hls_params(odd, "dense")


def test_a_wrong_input_type_is_refused(ss_design):
    with pytest.raises(ValueError, match="must be int8"):
        ss_design.infer_quantized(np.zeros((1, 1, 32, 32), np.float32))
    with pytest.raises(ValueError, match="selects among 64"):
        ss_design.kwta(0, np.zeros(10, np.uint8))
    assert issubclass(CsimError, RuntimeError)
