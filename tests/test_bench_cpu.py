"""The CPU benchmark's bookkeeping: interleaved timing, ratios, MAC counts, the JSON it writes.

No assertion here is about speed (timings in unit tests are noise); they check the structure
and the arithmetic of what the benchmark reports.
"""

from __future__ import annotations

import json

import pytest

from compsparse.__main__ import main
from compsparse.bench_cpu import summarize, time_candidates
from compsparse.bench_cpu_cases import layer_macs
from compsparse.bench_models import speech_models


def test_time_candidates_interleaves_and_caps_slow_ones():
    calls = []
    cands = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    t = time_candidates(cands, repeats=4, warmup=1, min_time=0.0)
    assert set(t) == {"a", "b"} and all(v["repeats"] == 4 for v in t.values())
    # after warm-up and the calibration call, the rounds alternate a, b, a, b, ...
    assert calls[4:] == ["a", "b"] * 4

    slow = time_candidates({"s": lambda: sum(range(200_000))}, repeats=20, slow_s=1e-6)
    assert slow["s"]["repeats"] == 3


def _meta(path, threads=1):
    return {"kind": "x", "mode": "float32", "path": path, "threads": threads, "strategy": None}


def test_summarize_divides_the_faster_dense_torch_by_each_candidate():
    row = {
        "scope": "network",
        "name": "network",
        "batch": 4,
        "macs": {"dense": 1000, "sparse_dense": 500, "sparse_sparse": 50},
        "candidates": {
            "torch dense float32 (1t)": (None, _meta("dense")),
            "torch dense float32 (2t)": (None, _meta("dense", 2)),
            "fast sparse-sparse int8 auto": (None, _meta("sparse-sparse", 2)),
        },
    }
    timings = {
        "torch dense float32 (1t)": {"median_s": 4e-3},
        "torch dense float32 (2t)": {"median_s": 2e-3},
        "fast sparse-sparse int8 auto": {"median_s": 4e-4},
    }
    s = summarize(row, timings)
    assert s["baseline"] == "torch dense float32 (2t)"
    fast = s["candidates"]["fast sparse-sparse int8 auto"]
    assert fast["speedup"] == pytest.approx(5.0)
    assert fast["ideal_speedup"] == pytest.approx(20.0)
    assert fast["fraction_of_ideal"] == pytest.approx(0.25)
    assert fast["per_word_s"] == pytest.approx(1e-4)
    assert fast["words_per_s_per_core"] == pytest.approx(4 / 4e-4 / 2)


def test_layer_macs_of_the_speech_network():
    q, _, _ = speech_models("sparse-sparse", folder="/nonexistent")
    m = layer_macs(q)
    assert m["conv1"]["dense"] == 28 * 28 * 64 * 25
    assert m["conv1"]["sparse_sparse"] == m["conv1"]["sparse_dense"] == 28 * 28 * 32 * 25
    assert m["conv2"]["sparse_sparse"] == 10 * 10 * 8 * 7 * 25  # 8 groups, 7 winners per pixel
    assert m["linear1"]["sparse_sparse"] == 7 * 25 * 60  # 175 winners, 60 groups
    assert m["output"]["sparse_sparse"] == 150 * 12


def test_bench_command_writes_every_row(tmp_path, capsys):
    out = tmp_path / "cpu.json"
    argv = ["bench", "--quick", "--batch", "1", "2", "--repeats", "1", "--out", str(out)]
    assert main(argv) == 0
    assert "timing network" in capsys.readouterr().out  # progress while it runs
    result = json.loads(out.read_text())
    names = {(r["name"], r["batch"]) for r in result["rows"]}
    layers = ["conv1", "conv2", "linear1", "output", "network"]
    assert names == {(n, b) for n in layers for b in (1, 2)}
    assert result["machine"]["threads"] >= 1 and len(result["machine"]["loadavg_before"]) == 3
    net = next(r for r in result["rows"] if r["name"] == "network" and r["batch"] == 1)
    assert "fast sparse-sparse int8 auto" in net["candidates"]
    assert net["candidates"]["fast sparse-sparse int8 auto"]["threads"] == 1
    # batch 1 also runs with the word shared by all threads, where launches are cheap
    rows = {(r["name"], r["batch"]): r["candidates"] for r in result["rows"]}
    threads = result["machine"]["threads"]
    split = threads > 1 and result["machine"]["numba_split_threads"]
    for layer, name in (
        ("network", "fast sparse-sparse int8 auto split"),
        ("conv1", "fast sparse-dense int8 split"),
        ("conv2", "fast sparse-sparse int8 rows split"),
    ):
        assert (name in rows[(layer, 1)]) == split
        assert name not in rows[(layer, 2)]
        if split:
            assert rows[(layer, 1)][name]["threads"] == threads
    assert net["candidates"][net["baseline"]]["speedup"] == 1.0
    mem = result["memory"]["network"]["int8"]
    assert mem["packed"] < mem["dense"]
