"""The performance model: cycle counts follow the kernels' loops, resources fit chips sensibly."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compsparse import paper
from compsparse import perfmodel as pm
from compsparse.hls_params import CONV_UNITS

VARIANTS = ("dense", "sparse-dense", "sparse-sparse")


def _layers(variant):
    return [dict(c) for c in pm.speech_layers(variant)]


def test_pipelined_loop_cycles():
    s = pm.Stage("conv1", "conv1 multiply", "mac", trips=25, ii=1, depth=4, calls=784)
    assert s.cycles == 784 * (24 + 4)
    assert pm.Stage("x", "x", "y", trips=10, ii=3, depth=2).cycles == 9 * 3 + 2


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
    assert ss[1]["K_IN"] == 7 and ss[2]["K_IN"] == 7 * 25 and ss[3]["K_IN"] == 150
    assert [c["NPG"] for c in _layers("dense")] == [1, 1, 1, 1]
    for variant in VARIANTS:
        units = [(c["LANES"], c["SLICES"]) for c in _layers(variant)[:2]]
        assert units == list(CONV_UNITS[variant])
    assert ss[1]["PORTS"] == ss[1]["LANES"] == 4 and ss[1]["COPIES"] == 2  # one port per lane


def _stage(cycles, label, layer):
    return next(s for s in cycles.stages if s.layer == layer and s.what.startswith(label))


def test_mac_loop_trip_counts_follow_the_kernels():
    ss, sd = _layers("sparse-sparse"), _layers("sparse-dense")
    c = pm.cycles_per_word(ss, "sparse-sparse")
    L2 = ss[1]
    # every pooled pixel, pass, kernel offset and winner: 4 lanes cover the 2 x 2 pool window
    assert _stage(c, "conv_mac", "conv2").trips == L2["PH"] * L2["PW"] * L2["KK"] * L2["K_IN"]
    assert _stage(c, "linear_mac", "linear1").trips == ss[2]["K_IN"]
    assert _stage(c, "linear_mac", "linear1").ii == ss[2]["MAC_II"] == 2  # a group's RAM
    assert _stage(c, "linear_mac", "output").ii == 1  # NPG = 1: registers
    d = pm.cycles_per_word(sd, "sparse-dense")
    L2 = sd[1]  # 4 lanes x 4 slices of 16 channels each
    assert _stage(d, "conv_mac", "conv2").trips == 25 * L2["KK"] * 64 // 4 == 10_000
    L1 = sd[0]  # 2 lanes: two passes over the 2 x 2 pool window
    assert _stage(d, "conv_mac", "conv1").trips == 14 * 14 * 2 * L1["KK"]


def test_dataflow_takes_the_slowest_process():
    for variant in VARIANTS:
        c = pm.cycles_per_word(_layers(variant), variant)
        assert c.cycles_per_word == max(c.per_process.values()) == c.per_process[c.bottleneck]
        assert c.sequential == sum(c.per_process.values()) > c.cycles_per_word
        seq = pm.cycles_per_word(_layers(variant), variant, replace(pm.AS_WRITTEN, dataflow=False))
        assert seq.cycles_per_word == c.sequential
        for layer, n in c.per_layer.items():
            procs = {s.process for s in c.stages if s.layer == layer}
            assert n == max(c.per_process[p] for p in procs)


def test_where_the_cycles_go():
    """The restructured tops spend the interval in multiply loops: each design's bottleneck is
    a multiply process (the dense stand-in's, the DDR stream of linear1)."""
    bottlenecks = {v: pm.cycles_per_word(_layers(v), v).bottleneck for v in VARIANTS}
    assert bottlenecks == {"dense": "linear1", "sparse-dense": "conv2 multiply",
                           "sparse-sparse": "conv1 multiply"}  # fmt: skip
    c = pm.cycles_per_word(_layers("sparse-sparse"), "sparse-sparse")
    mac = _stage(c, "conv_mac", "conv1")
    assert mac.cycles / c.cycles_per_word > 0.99


def test_more_lanes_fewer_cycles():
    layers = _layers("sparse-dense")
    base = pm.cycles_per_word(layers, "sparse-dense").per_process["conv1 multiply"]
    layers[0] = dict(layers[0], LANES=4)
    fast = pm.cycles_per_word(layers, "sparse-dense").per_process["conv1 multiply"]
    assert fast < 0.51 * base


def test_sparsity_saves_cycles():
    cycles = {v: pm.cycles_per_word(_layers(v), v).cycles_per_word for v in VARIANTS}
    assert cycles["sparse-sparse"] < cycles["sparse-dense"] < cycles["dense"]


def test_the_model_knows_every_loop_of_the_sources():
    loops = pm.source_loops()
    assert loops["conv_mac"] == "1" and loops["linear_mac"] == "L::MAC_II"
    assert loops["kwta_count"] == "CS_RMW_II" and loops["clips"] is None
    modelled = {
        s.what.split(":")[0].split(" ")[0]
        for v in VARIANTS
        for s in pm.cycles_per_word(_layers(v), v).stages
    }
    pipelined = {label for label, ii in loops.items() if ii not in (None, "unroll")}
    assert pipelined <= modelled, pipelined - modelled


def test_the_model_follows_the_pragmas(tmp_path, monkeypatch):
    """Edit a PIPELINE pragma in a copy of hls/ and the model's cycles follow."""
    hls = Path(__file__).resolve().parents[1] / "hls"
    shutil.copytree(hls / "include", tmp_path / "include")
    shutil.copytree(hls / "kernels", tmp_path / "kernels")
    conv = tmp_path / "include" / "cs_conv.h"
    text = conv.read_text()
    marker = "conv_mac:\n  for (int t = 0;"
    assert marker in text
    one = "#pragma HLS PIPELINE II=1"
    j = text.index(one, text.index(marker))
    conv.write_text(text[:j] + "#pragma HLS PIPELINE II=2" + text[j + len(one) :])
    layers = _layers("sparse-sparse")
    before = _stage(pm.cycles_per_word(layers, "sparse-sparse"), "conv_mac", "conv1")
    monkeypatch.setenv("COMPSPARSE_HLS", str(tmp_path))
    pm.source_loops.cache_clear()
    try:
        after = _stage(pm.cycles_per_word(layers, "sparse-sparse"), "conv_mac", "conv1")
    finally:
        monkeypatch.delenv("COMPSPARSE_HLS")
        pm.source_loops.cache_clear()
    assert (before.ii, after.ii) == (1, 2)
    assert after.cycles > 1.9 * before.cycles


def test_unknown_variant():
    with pytest.raises(ValueError, match="unknown variant"):
        pm.cycles_per_word(_layers("dense"), "sparse")


def test_resources_count_the_multipliers():
    layers = _layers("sparse-dense")
    res = pm.resources(layers, "sparse-dense")
    muls = sum(n for what, kind, n in res.items if kind == "dsp" and "multipliers" in what)
    conv = sum(c["LANES"] * c["SLICES"] * c["G"] for c in layers[:2])
    # a linear loop with II 2 uses each of its multipliers every other cycle
    linear = sum(-(-c["G"] // c["MAC_II"]) for c in layers[2:])
    assert muls == conv + linear == 2 * 32 + 16 * 8 + 30 + 12
    requant = (layers[0]["DRAIN"] + layers[1]["DRAIN"] + 1) * pm.AS_WRITTEN.dsp_per_requant
    assert res.dsp == muls + requant
    assert res.lut == sum(n for _, kind, n in res.items if kind == "lut")
    assert res.ff == sum(n for _, kind, n in res.items if kind == "ff")
    tuned = pm.resources(layers, "sparse-dense", pm.TUNED)
    assert tuned.dsp == muls // 2 + requant  # every multiplier count here is even


def test_linear_routing_is_per_group_not_per_accumulator():
    """linear1 (1,500 kernels in 60 groups of 25): a packed row's 60 products go to 60 group
    memories, so routing costs tens of LUTs per group, not a compare-and-add per kernel."""
    res = pm.resources(_layers("sparse-sparse"), "sparse-sparse")
    linear1 = sum(n for what, kind, n in res.items if what.startswith("linear1") and kind == "lut")
    assert linear1 < 10_000


def test_one_sparse_instance_fits_the_zu3eg():
    """The paper ran one sparse-dense and one sparse-sparse network on its ZU3EG; the design
    choices of hls_params.CONV_UNITS keep each within the model's usable share of it."""
    for variant in ("sparse-dense", "sparse-sparse"):
        p = pm.predict(variant, "ZU3EG")
        assert p.instances >= 1, (variant, p.resources.lut, p.resources.ff, p.resources.dsp)


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
    assert "300 MHz" in text and "m_axi" in text and "DSP" in text and "dataflow" in text
    assert "2 int8 products" in " ".join(pm.TUNED.describe())
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
    macs = [s for s in c.stages if s.what.startswith(("conv_mac", "linear_mac", "linear_ddr:"))]
    rows = loop_iterations(params)
    assert [s.trips * s.calls for s in macs] == [r["iterations"] for r in rows]
    assert [s.ii for s in macs] == [r["ii"] for r in rows]
