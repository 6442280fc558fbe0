"""Figures of the opening chapter: what each sparsity saves, and what stops hardware saving it.

Book: chapter "Two sparsities" (book/01_two_sparsities.ipynb).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import paper
from ..costmodel import linear_macs
from ..matching import intersect_sorted

__all__ = ["draw_claim", "draw_layer_work", "draw_matching", "layer_work"]

BOOK = "#3b6ea8"  # numbers computed by this book
PAPER = "#c8553d"  # numbers published in the paper
NONZERO_W = "#4c72b0"
NONZERO_X = "#dd8452"
MATCH = "#2ca02c"


def _draw_work(ax, work: dict[str, int], layer: str) -> None:
    """Horizontal log-scale bars of MAC counts, each labelled with its saving over the first."""
    labels, counts = list(work), np.array(list(work.values()), float)
    y = np.arange(len(labels))
    ax.barh(y, counts, color=BOOK)
    ax.set_xscale("log")
    ax.set_yticks(y, labels, fontsize=9)
    ax.invert_yaxis()
    for i, c in enumerate(counts):
        fewer = counts[0] / c
        text = f"{c:,.0f}" + (f"  ({fewer:,.0f}x fewer)" if i else "")
        ax.text(c * 1.15, i, text, va="center", fontsize=8.5)
    ax.set_xlim(counts.min() / 3, counts.max() * 8)
    ax.set_title(f"this book: multiply-accumulates of the {layer} (log scale)", fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
    ax.spines[["top", "right", "left"]].set_visible(False)


def layer_work(n_in: int, n_out: int, n_per_group: int, k: int) -> dict[str, int]:
    """MACs of a linear layer with each sparsity alone and both (from :func:`linear_macs`).

    Returns:
        ``{"dense", "sparse weights", "sparse activations", "both"}`` -> int.
    """
    both = linear_macs(n_in, n_out, n_per_group, k)
    act = linear_macs(n_in, n_out, 1, k)
    return {
        "dense": both.dense,
        "sparse weights": both.sparse_dense,
        "sparse activations": act.sparse_sparse,
        "both": both.sparse_sparse,
    }


def draw_layer_work(n_in: int = 1600, n_out: int = 1500, n_per_group: int = 20, k: int = 160):
    """The MACs of one linear layer, dense and with each sparsity (the opening widget).

    Returns:
        matplotlib Figure with one bar axes.
    """
    fig, ax = plt.subplots(figsize=(7.0, 2.1))
    _draw_work(ax, layer_work(n_in, n_out, n_per_group, k), f"{n_in} -> {n_out} layer")
    ax.set_title(
        f"{n_in} -> {n_out} layer, {1 - 1 / n_per_group:.1%} of weights and "
        f"{1 - k / n_in:.1%} of inputs zero: multiply-accumulates (log scale)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def draw_claim(work: dict[str, int], layer: str = "hidden layer"):
    """The opening figure: the ideal saving (this book) beside the measured speed-ups (paper).

    Args:
        work: multiply-accumulates per execution style (e.g. from :func:`layer_work`), the first
            entry the baseline.
        layer: which layer ``work`` counts, for the title.

    Returns:
        matplotlib Figure with two bar axes: top MACs on a log scale ("this book"), bottom the
        paper's FPGA throughput over dense ("paper", Tables 2 and 3).
    """
    fig, (left, right) = plt.subplots(2, 1, figsize=(7.0, 4.3), height_ratios=[1, 1])
    _draw_work(left, work, layer)
    rows = [
        (f"one network, {r['network']}", r["speedup_vs_dense_u250"])
        for r in paper.table("table2_single_network")
        if r["fpga"] == "U250" and r["network"] != "dense"
    ] + [
        (f"full chip ({r['networks_on_chip']} copies), {r['network']}", r["speedup"])
        for r in paper.table("table3_full_chip")
        if r["network"] != "dense"
    ]
    y = np.arange(len(rows))
    speedups = [s for _, s in rows]
    right.barh(y, speedups, color=PAPER)
    right.set_yticks(y, [name for name, _ in rows], fontsize=9)
    right.invert_yaxis()
    for i, s in enumerate(speedups):
        right.text(s + 2, i, f"{s:g}x", va="center", fontsize=8.5)
    right.set_xlim(0, max(speedups) * 1.25)
    right.set_title(
        "paper (Tables 2 and 3): throughput over dense on an Alveo U250 FPGA", fontsize=10
    )
    right.tick_params(axis="x", labelsize=8)
    right.spines[["top", "right", "left"]].set_visible(False)
    fig.tight_layout(h_pad=1.2)
    return fig


def draw_matching(w_row, x):
    """One row of a sparse weight matrix against a sparse activation: the pairs that meet.

    Args:
        w_row: ``(n,)`` sparse weights of one output.
        x: ``(n,)`` sparse activation.

    Returns:
        matplotlib Figure with one axes: the two operands as strips of cells (non-zeros
        coloured), the matching indices joined, and the count of merge steps it took.
    """
    w_row, x = np.asarray(w_row), np.asarray(x)
    if w_row.ndim != 1 or w_row.shape != x.shape:
        raise ValueError(f"need two 1-D operands of one length, got {w_row.shape}, {x.shape}")
    wi, xi = np.flatnonzero(w_row), np.flatnonzero(x)
    matches, steps = intersect_sorted(wi, xi)
    n = w_row.size
    fig, ax = plt.subplots(figsize=(7.0, 1.9))
    for row, idx, color, name in ((0, wi, NONZERO_W, "weights"), (2, xi, NONZERO_X, "inputs")):
        on = np.zeros(n, bool)
        on[idx] = True
        for i in range(n):
            ax.add_patch(plt.Rectangle((i, row), 0.9, 0.9, color=color if on[i] else "#eeeeee"))
        ax.text(-1, row + 0.45, f"{name}\n{idx.size} non-zero", ha="right", va="center",
                fontsize=8.5)  # fmt: skip
    for i in matches:
        ax.plot([i + 0.45, i + 0.45], [0.9, 2.0], color=MATCH, lw=2.5)
    ax.set_xlim(-9, n + 0.5)
    ax.set_ylim(3.2, -0.6)
    ax.axis("off")
    ax.set_title(
        f"{matches.size} useful products; finding them took {steps} merge steps "
        f"(compare two indices, branch)",
        fontsize=9.5,
    )
    return fig
