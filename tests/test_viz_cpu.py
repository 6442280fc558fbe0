"""Drawings and tables of the CPU chapter, from a small hand-made benchmark result."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import compsparse as cs
from compsparse import paper
from compsparse.viz.cpu import (
    draw_layout,
    draw_network,
    draw_speedups,
    paper_comparison,
    rows_of,
    speedup_table,
)


def _cand(per_word_s, speedup, path, threads=1):
    return {
        "per_word_s": per_word_s,
        "median_s": per_word_s,
        "speedup": speedup,
        "path": path,
        "threads": threads,
        "words_per_s_per_core": 1.0 / per_word_s / threads,
    }


def _result():
    rows = []
    for batch, scale in ((1, 1.0), (64, 0.5)):
        for name, ideal in (("conv2", 73.0), ("network", 18.0)):
            base = 400e-6 * scale
            rows.append(
                {
                    "scope": "network" if name == "network" else "layer",
                    "name": name,
                    "batch": batch,
                    "ideal_speedup": {"sparse-sparse": ideal, "sparse-dense": 2.0},
                    "baseline": "torch dense float32 (1t)",
                    "candidates": {
                        "torch dense float32 (1t)": _cand(base, 1.0, "dense"),
                        "fast sparse-sparse int8 rows": _cand(base / 8, 8.0, "sparse-sparse"),
                        "fast sparse-sparse int8 auto": _cand(base / 9, 9.0, "sparse-sparse", 2),
                        "fast sparse-sparse float32 auto": _cand(base / 6, 6.0, "sparse-sparse"),
                    },
                }
            )
    return {"machine": {"threads": 2}, "rows": rows}


def test_layout_highlights_the_rows_of_the_winners():
    masks = cs.complementary_masks(6, 8, 3, seed=0)
    P = cs.pack(masks * np.arange(1, 9), 3)
    fig = draw_layout(P, selected=[1, 5])
    left, right = fig.axes[:2]
    assert right.images[0].get_array().shape == (8, 2)  # one row per input position
    assert len(right.patches) == 6 and len(left.patches) == 6  # the 6 unselected are faded
    plt.close(fig)
    with pytest.raises(ValueError, match="linear"):
        draw_layout(cs.pack(np.ones((2, 1, 2, 2)), 1))


def test_speedups_draw_measured_bars_and_the_ideal():
    fig = draw_speedups(_result())
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    heights = [round(b.get_height(), 1) for c in ax.containers for b in c]
    assert heights == [8.0, 8.0]  # the one non-"auto" engine candidate, conv2 and network
    ideal_levels = {tuple(line.get_ydata()) for line in ax.get_lines()}
    assert (73.0, 73.0) in ideal_levels and (18.0, 18.0) in ideal_levels
    assert ax.get_yscale() == "log"
    plt.close(fig)


def test_network_times_sorted_fastest_first():
    fig = draw_network(_result())
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == sorted(widths) and widths[0] == pytest.approx(400 / 9)
    plt.close(fig)


def test_tables_carry_numbers_and_label_the_paper():
    table = speedup_table(_result(), 1)
    assert "50.0 us (8.0x)" in table and "73x" in table
    comparison = paper_comparison(_result(), paper)
    assert "paper (FPGA)" in comparison and "paper (CPU)" in comparison
    assert "102,564" in comparison and "33.63x" in comparison
    assert "this book (CPU, this machine)" in comparison
    with pytest.raises(ValueError, match="batches"):
        rows_of(_result(), 8)
