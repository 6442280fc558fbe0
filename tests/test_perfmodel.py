"""The performance model: cycle counts follow the kernels' loops, resources fit chips sensibly."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compsparse import paper
from compsparse import perfmodel as pm

VARIANTS = ("dense", "sparse-dense", "sparse-sparse")


def _layers(variant):
    return [dict(c) for c in pm.speech_layers(variant)]


def test_pipelined_loop_cycles():
    s = pm.Stage("conv1", "mac", trips=25, ii=1, depth=4, calls=784)
    assert s.cycles == 784 * (24 + 4)
    assert pm.Stage("x", "y", trips=10, ii=3, depth=2).cycles == 9 * 3 + 2


@given(st.integers(1, 2048), st.integers(1, 70000))
def test_bram18_blocks_hold_the_memory(width, depth):
    n = pm.bram18_blocks(width, depth)
    assert n * 18 * 1024 >= width * depth
    assert pm.bram18_blocks(width, depth + 1) >= n
    assert pm.bram18_blocks(width + 1, depth) >= n


def test_bram18_blocks_known_shapes():
    assert pm.bram18_blocks(8, 1024) == 1  # 9 x 2048
    assert pm.bram18_blocks(512, 25) == 15  # 36 x 512, wide and shallow
    assert pm.bram18_blocks(64, 1600) == 8
    assert pm.bram18_blocks(0, 10) == 0


def test_speech_layers_carry_the_book_sparsity():
    ss = _layers("sparse-sparse")
    assert [c["NPG"] for c in ss] == [2, 8, 25, 1]
    assert [c["K"] for c in ss] == [7, 7, 150, 0]
    assert ss[1]["K_IN"] == 7 and ss[1]["PORTS"] == 7
    assert [c["NPG"] for c in _layers("dense")] == [1, 1, 1, 1]


def test_mac_loop_trip_counts_follow_the_kernels():
    c = pm.cycles_per_word(_layers("sparse-sparse"), "sparse-sparse")
    conv2 = next(s for s in c.stages if s.layer == "conv2" and s.what.startswith("mac"))
    L2 = _layers("sparse-sparse")[1]
    assert conv2.trips == L2["KH"] * L2["KW"] * L2["CHUNKS"]
    assert conv2.calls == L2["OH"] * L2["OW"]
    sd = pm.cycles_per_word(_layers("sparse-dense"), "sparse-dense")
    conv2_sd = next(s for s in sd.stages if s.layer == "conv2" and s.what.startswith("mac"))
    assert conv2_sd.trips == L2["ROWS"] == 1600
    assert c.cycles_per_word == sum(c.per_layer.values())


def test_fewer_chunks_fewer_cycles():
    layers = _layers("sparse-sparse")
    base = pm.cycles_per_word(layers, "sparse-sparse").cycles_per_word
    layers[2] = dict(layers[2], CHUNKS=layers[2]["CHUNKS"] // 2)
    assert pm.cycles_per_word(layers, "sparse-sparse").cycles_per_word < base


def test_sparsity_saves_cycles_as_written():
    cycles = {v: pm.cycles_per_word(_layers(v), v).cycles_per_word for v in VARIANTS}
    assert cycles["sparse-sparse"] < cycles["sparse-dense"] < cycles["dense"]


def test_accumulator_pragmas_are_read_from_the_tops():
    for variant in VARIANTS:
        pragmas = pm.accumulator_pragmas(variant)
        assert set(pragmas) == {"acc3", "acc4"}, f"{variant}: {pragmas}"
    assert pm.accumulator_pragmas("dense")["acc3"] == ("cyclic", 8, 1)


def _linear1_mac(layers, variant, a=pm.AS_WRITTEN):
    c = pm.cycles_per_word(layers, variant, a)
    return next(s for s in c.stages if s.layer == "linear1" and s.what.startswith("linear_"))


def test_accumulator_banks_limit_the_ii(tmp_path, monkeypatch):
    """route_parallel touches all NPG accumulators of a group per cycle: banked by group only
    (complete dim=1), two ports give II = NPG; in registers (complete dim=0) II = 1."""
    layers = _layers("sparse-sparse")
    (tmp_path / "kernels").mkdir()
    for kind, variant in (("dim=1", "sparse-sparse"), ("dim=1", "sparse-dense")):
        top = tmp_path / "kernels" / f"cs_{variant.replace('-', '_')}.cpp"
        top.write_text(f"#pragma HLS ARRAY_PARTITION variable=acc3 type=complete {kind}\n")
    monkeypatch.setenv("COMPSPARSE_HLS", str(tmp_path))
    pm.accumulator_pragmas.cache_clear()
    try:
        assert _linear1_mac(layers, "sparse-sparse").ii == layers[2]["NPG"]
        assert _linear1_mac(layers, "sparse-sparse", pm.TUNED).ii == 1
        sd = _layers("sparse-dense")
        assert _linear1_mac(sd, "sparse-dense").ii == pm.AS_WRITTEN.rmw_ii
        banked = pm.resources(layers, "sparse-sparse")
    finally:
        monkeypatch.delenv("COMPSPARSE_HLS")
        pm.accumulator_pragmas.cache_clear()
    registers = pm.resources(layers, "sparse-sparse")
    if pm.accumulator_pragmas("sparse-sparse")["acc3"] == ("complete", 0, 0):
        assert _linear1_mac(layers, "sparse-sparse").ii == 1
        # operators of an II = NPG loop are shared over its cycles: far fewer routing LUTs
        assert banked.lut < registers.lut
        assert banked.bram18 >= registers.bram18


def test_overlapped_layers_take_the_slowest_layer():
    a = replace(pm.AS_WRITTEN, overlap_layers=True)
    c = pm.cycles_per_word(_layers("sparse-dense"), "sparse-dense", a)
    assert c.cycles_per_word == max(c.per_layer.values())


def test_unknown_variant():
    with pytest.raises(ValueError, match="unknown variant"):
        pm.cycles_per_word(_layers("dense"), "sparse")


def test_resources_count_the_multipliers():
    layers = _layers("sparse-dense")
    res = pm.resources(layers, "sparse-dense")
    muls = sum(n for what, kind, n in res.items if kind == "dsp" and "multipliers" in what)
    g = [c["G"] for c in layers]
    ii = _linear1_mac(layers, "sparse-dense").ii  # a loop with II > 1 shares its multipliers
    assert muls == g[0] + g[1] + -(-g[2] // ii) + g[3]
    assert res.dsp == muls + 3 * pm.AS_WRITTEN.dsp_per_requant
    assert res.lut == sum(n for _, kind, n in res.items if kind == "lut")


def test_instances_per_chip():
    res = pm.Resources(lut=10_000, bram18=100, dsp=50)
    chip = pm.CHIPS["ZU3EG"]
    n, binding = pm.instances_per_chip(res, chip)
    assert binding == "BRAM" and n == int(chip.usable * chip.bram18 // 100)
    n, binding = pm.instances_per_chip(pm.Resources(lut=10**6, bram18=1, dsp=1), chip)
    assert (n, binding) == (0, "LUT")


def test_predict_relations():
    p = pm.predict("sparse-sparse", "U250")
    assert p.clock_mhz == pm.CHIPS["U250"].clock_mhz == 300.0
    assert pm.predict("sparse-sparse", "ZU3EG").clock_mhz == 200.0
    assert p.words_per_s == pytest.approx(p.clock_mhz * 1e6 / p.cycles_per_word)
    assert p.words_per_s_chip == pytest.approx(min(p.instances * p.words_per_s, 1e30))
    assert p.words_per_s_per_w == pytest.approx(p.words_per_s_chip / 225.0)
    assert p.power_kind == "rated"
    fast = pm.predict("sparse-sparse", "U250", replace(pm.AS_WRITTEN, clock_mhz=600.0))
    assert fast.words_per_s == pytest.approx(2 * p.words_per_s)
    assert pm.predict("sparse-dense", "ZU3EG").power_kind == "assumed"


def test_bandwidth_caps_the_full_chip():
    chip = replace(pm.CHIPS["U250"], ddr_gbps=0.001)
    p = pm.predict("dense", chip)
    assert p.bandwidth_capped
    assert p.words_per_s_chip < p.instances * p.words_per_s


def test_predict_all_covers_both_chips():
    preds = pm.predict_all(clock_mhz=300.0)
    assert {(p.chip, p.variant) for p in preds} == {(c, v) for c in pm.CHIPS for v in VARIANTS}
    assert all(p.clock_mhz == 300.0 for p in preds)


def test_paper_scaling_matches_the_tables():
    s = pm.paper_scaling()
    t3 = {r["network"]: r for r in paper.table("table3_full_chip")}
    t2 = {r["network"]: r for r in paper.table("table2_single_network") if r["fpga"] == "U250"}
    for net, ratio in s.items():
        per_copy = t3[net]["words_per_s"] / t3[net]["networks_on_chip"]
        assert ratio == pytest.approx(per_copy / t2[net]["words_per_s"])
    assert s["dense"] == pytest.approx(1.0, abs=1e-3)
    assert s["sparse-sparse"] < 0.7


def test_assumptions_describe_every_rule():
    text = " ".join(pm.AS_WRITTEN.describe())
    assert "300 MHz" in text and "m_axi" in text and "DSP" in text
    assert "250 MHz" in " ".join(replace(pm.AS_WRITTEN, clock_mhz=250.0).describe())


@pytest.mark.parametrize("variant", VARIANTS)
def test_mac_iterations_agree_with_the_hls_chapter_count(variant):
    """Two independent counts of the multiply loops: this model and hls_params.loop_iterations."""
    import numpy as np

    from compsparse.hls_models import random_model
    from compsparse.hls_params import hls_params, loop_iterations

    cal = np.linspace(-80.0, 0.0, 2048, dtype=np.float32).reshape(2, 32, 32)
    model = random_model(variant, seed=0, calibration=cal)
    params = hls_params(model, variant)
    c = pm.cycles_per_word(params.layers, variant)
    macs = [s for s in c.stages if s.what.startswith(("mac", "linear_"))]
    assert [s.trips * s.calls for s in macs] == [r["iterations"] for r in loop_iterations(params)]
