"""Figures of the Sum step and of the whole sparse-sparse datapath (the paper's Figure 5a).

Book: chapter "Sum" (book/06_sum.ipynb).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch, Rectangle

from ..kwta import kwta
from ..ops import linear
from ..packing import PackedKernels
from .style import EMPTY, cell_text, kernel_colors

__all__ = ["draw_datapath", "draw_sums"]

WINNER = "#f7d9c4"


def draw_sums(sums, reference, title: str = ""):
    """Each kernel's sum from the five steps beside the dense computation's.

    Args:
        sums: ``(n_kernels,)`` from Route and Sum.
        reference: ``(n_kernels,)`` the same outputs computed densely.
        title: figure title.

    Returns:
        matplotlib Figure with one bar axes (bars: the sums; black ticks: the dense values).
    """
    sums, reference = np.asarray(sums), np.asarray(reference)
    if sums.shape != reference.shape or sums.ndim != 1:
        raise ValueError(f"need two 1-D arrays of one length, got {sums.shape}, {reference.shape}")
    n = sums.size
    fig, ax = plt.subplots(figsize=(7.0, 2.4))
    x = np.arange(n)
    ax.bar(x, sums, color=kernel_colors(n), width=0.7, label="Route + Sum")
    ax.plot(x, reference, "_", color="k", ms=22, mew=2, label="dense computation")
    ax.axhline(0, color="#888888", lw=0.6)
    ax.set_xticks(x, [f"kernel {j}" for j in x], fontsize=8.5)
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8.5, frameon=False, loc="best")
    diff = np.abs(sums.astype(float) - reference.astype(float)).max(initial=0)
    ax.set_title(f"{title}{': ' if title else ''}largest difference {diff:g}", fontsize=10)
    fig.tight_layout()
    return fig


def _strip(ax, x0, values, colors, texts, width=1.3):
    for i, (c, t) in enumerate(zip(colors, texts, strict=True)):
        ax.add_patch(Rectangle((x0, i), width * 0.96, 0.92, fc=c, ec="white"))
        if t:
            cell_text(ax, i + 0.46, x0 + width * 0.48, t, c, size=7.5)


def draw_datapath(x, k: int, P: PackedKernels):
    """The sparse-sparse datapath of a linear layer, drawn from real arrays (paper Figure 5a).

    Dense activation -> k-WTA -> the winners' indices select rows of the weight + kernel-id
    memory -> Multiply, Route & Sum -> one result per kernel.

    Args:
        x: ``(n_in,)`` dense activation.
        k: winners of k-WTA.
        P: kernels packed from ``(n_out, n_in)`` weights.

    Returns:
        matplotlib Figure with one axes.
    """
    x = np.asarray(x)
    if len(P.kernel_shape) != 1 or x.shape != P.kernel_shape:
        raise ValueError(f"need linear packed kernels and x of shape {P.kernel_shape}")
    a = kwta(x, k)
    y = linear(a, P)
    n_in, g, n_k = x.size, P.n_groups, P.n_kernels
    colors = kernel_colors(n_k)
    won = np.zeros(n_in, bool)
    won[a.indices] = True
    h = max(n_in, n_k * 1.2)
    fig, ax = plt.subplots(figsize=(7.0, 0.19 * h + 0.9))
    cmap = plt.get_cmap("Greys")
    span = max(1.0, float(np.abs(x).max()))
    shade = [cmap(0.1 + 0.5 * abs(v) / span) for v in x]
    _strip(ax, 0, x, shade, [f"{v:g}" for v in x])
    _strip(ax, 3.2, x, [WINNER if w else EMPTY for w in won],
           [f"{v:g}" if w else "" for v, w in zip(x, won, strict=True)])  # fmt: skip
    for i in a.indices:
        ax.text(4.65, i + 0.46, f"{i}", va="center", fontsize=7.5, color="#555555")
    kernel = P.kernel_index()
    mem_x = 6.4
    for r in range(n_in):
        for gi in range(g):
            c = colors[kernel[gi, r]]
            x0 = mem_x + gi * 1.9
            ax.add_patch(Rectangle((x0, r), 1.82, 0.92, fc=c, ec="white",
                                   alpha=1.0 if won[r] else 0.2))  # fmt: skip
            if won[r]:
                label = f"{P.values[gi, r]:g} | id {P.kernel_ids[gi, r]}"
                cell_text(ax, r + 0.46, x0 + 0.91, label, c, size=7.5)
        if won[r]:
            arrow = {"arrowstyle": "-|>", "color": "#555555", "lw": 0.8}
            ax.annotate("", (mem_x - 0.05, r + 0.46), (5.1, r + 0.46), arrowprops=arrow)
    mem_end = mem_x + g * 1.9
    mid = n_in / 2
    ax.annotate("", (3.15, mid), (1.4, mid), arrowprops={"arrowstyle": "-|>", "color": "k"})
    ax.text(2.27, mid - 0.6, f"k-WTA\nk = {k}", ha="center", va="bottom", fontsize=8.5)
    box_x = mem_end + 0.6
    ax.add_patch(FancyBboxPatch((box_x, mid - 2.2), 2.2, 4.4, boxstyle="round,pad=0.1",
                                fc="#eeeeee", ec="#555555"))  # fmt: skip
    ax.text(box_x + 1.1, mid, "Multiply,\nRoute\n& Sum", ha="center", va="center", fontsize=9)
    ax.annotate("", (box_x - 0.1, mid), (mem_end + 0.05, mid),
                arrowprops={"arrowstyle": "-|>", "color": "k"})  # fmt: skip
    res_x = box_x + 3.2
    top = (h - n_k * 1.2) / 2
    for j in range(n_k):
        yj = top + j * 1.2
        ax.add_patch(Rectangle((res_x, yj), 2.6, 1.0, fc=colors[j], ec="white"))
        cell_text(ax, yj + 0.5, res_x + 1.3, f"y{j} = {y[j]:g}", colors[j], size=8)
        ax.annotate("", (res_x - 0.05, yj + 0.5), (box_x + 2.3, mid),
                    arrowprops={"arrowstyle": "-", "color": "#bbbbbb", "lw": 0.6})  # fmt: skip
    heads = (
        (0.65, "dense\nactivation"),
        (3.85, "sparse\nactivation"),
        (mem_x + g * 0.95, "weight + kernel id\nmemory (rows)"),
        (res_x + 1.3, "one result\nper kernel"),
    )
    for xc, text in heads:
        ax.text(xc, -0.4, text, ha="center", va="bottom", fontsize=8.5)
    ax.set_xlim(-0.2, res_x + 2.8)
    ax.set_ylim(h + 0.3, -2.2)
    ax.axis("off")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.01)
    return fig
