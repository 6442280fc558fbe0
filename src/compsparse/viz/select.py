"""Figures of the Select step: k-WTA (global and local) and its two hardware methods.

Book: chapter "Select" (book/03_select.ipynb).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ..kwta import kwta
from ..kwta_hw import (
    SORT8_LAYERS,
    histogram_threshold,
    kwta_histogram,
    kwta_sorting_network,
    sort8_stages,
    sort_merge_topk,
)
from .style import EMPTY, cell_text, grid_lines

__all__ = [
    "DISTRIBUTIONS",
    "demo_activation",
    "draw_histogram",
    "draw_kwta",
    "draw_merge",
    "draw_select_demo",
    "draw_sorting_network",
]

WINNER = "#e8702a"  # a winning activation
LOSER = "#bdbdbd"

#: Input distributions of the Select widget (8-bit activations, as on the FPGA).
DISTRIBUTIONS = ("ReLU of a normal", "uniform", "few levels (many ties)", "exponential")


def demo_activation(distribution: str = DISTRIBUTIONS[0], shape=(16, 12), seed: int = 0):
    """An 8-bit activation to select from: ``shape`` uint8, e.g. ``(channels, pixels)``.

    Args:
        distribution: one of :data:`DISTRIBUTIONS`.
        shape: output shape.
        seed: random seed.
    """
    rng = np.random.default_rng(seed)
    if distribution == DISTRIBUTIONS[0]:
        x = rng.normal(40, 60, shape)
    elif distribution == DISTRIBUTIONS[1]:
        x = rng.uniform(0, 256, shape)
    elif distribution == DISTRIBUTIONS[2]:
        x = rng.integers(0, 4, shape) * 64
    elif distribution == DISTRIBUTIONS[3]:
        x = rng.exponential(40, shape)
    else:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")
    return np.clip(np.floor(x), 0, 255).astype(np.uint8)


def draw_kwta(x, a, title: str = ""):
    """A ``(channels, pixels)`` activation before and after Select.

    Args:
        x: ``(c, w)`` activation (channels as rows, pixels as columns).
        a: the :class:`~compsparse.kwta.SparseActivation` k-WTA kept.
        title: figure title.

    Returns:
        matplotlib Figure with two image axes: the input, and the winners (others blank).
    """
    x = np.asarray(x)
    if x.ndim != 2 or tuple(a.shape) != x.shape:
        raise ValueError(f"need a 2-D x and a selection of its shape, got {x.shape}, {a.shape}")
    kept = np.full(x.shape, np.nan)
    kept.flat[a.indices] = a.values
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 3.4), sharey=True, layout="constrained")
    style = {"cmap": "viridis", "vmin": 0, "vmax": max(1, int(x.max())), "aspect": "auto"}
    image = axes[0].imshow(x, **style)
    axes[0].set_title("input x", fontsize=10)
    cmap = plt.get_cmap("viridis").with_extremes(bad=EMPTY)
    axes[1].imshow(np.ma.masked_invalid(kept), **{**style, "cmap": cmap})
    axes[1].set_title(f"after Select: {a.nnz} of {x.size} kept", fontsize=10)
    for ax in axes:
        grid_lines(ax, x.shape)
        ax.set_xlabel("pixel", fontsize=9)
    axes[0].set_ylabel("channel", fontsize=9)
    bar = fig.colorbar(image, ax=axes, shrink=0.8, pad=0.02, aspect=30)
    bar.ax.tick_params(labelsize=8)
    bar.set_label("8-bit value", fontsize=9)
    fig.suptitle(title, fontsize=10)
    return fig


def draw_select_demo(k: int = 2, local: bool = True, distribution=DISTRIBUTIONS[0], seed=0):
    """The Select widget's figure: k-WTA of a demo activation, checked against the hardware methods.

    Args:
        k: winners per pixel; global k-WTA keeps the same total, ``k * pixels``, anywhere.
        local: local (per pixel, across channels) or global k-WTA.
        distribution: one of :data:`DISTRIBUTIONS`.
        seed: random seed.
    """
    x = demo_activation(distribution, (16, 12), seed)
    total = k * x.shape[1]
    a = kwta(x, k, axis=0) if local else kwta(x, total)
    axis = 0 if local else None
    n = k if local else total
    same = [
        np.array_equal(method(x, n, axis=axis).indices, a.indices)
        for method in (kwta_histogram, kwta_sorting_network)
    ]
    mode = f"local: {k} of 16 channels at every pixel" if local else f"global: {total} anywhere"
    verdict = "; ".join(
        f"{name}: {'the same' if ok else 'DIFFERENT'} winners"
        for name, ok in zip(("histogram method", "sorting networks"), same, strict=True)
    )
    fig = draw_kwta(x, a, title=f"k-WTA, {mode}\n{verdict}")
    return fig


def draw_histogram(x, k: int):
    """The histogram method on 8-bit values: 256 bins read from the top down to the threshold.

    Args:
        x: ``(n,)`` uint8 or int8 candidates.
        k: winners.

    Returns:
        matplotlib Figure with one bar axes.
    """
    x = np.asarray(x)
    h = histogram_threshold(x, k)
    offset = h.bin - h.threshold
    values = np.arange(256) - offset
    fig, ax = plt.subplots(figsize=(7.0, 2.6))
    above = np.arange(256) > h.bin
    ax.bar(values[~above], h.counts[~above], width=1.0, color=LOSER, label="below: lose")
    ax.bar(values[above], h.counts[above], width=1.0, color=WINNER, label="above: win")
    ax.bar(h.threshold, h.n_ties, width=1.0, color="#7a3b8f", label="at threshold: first ones win")
    ax.axvline(h.threshold, color="#7a3b8f", linestyle=":", linewidth=1)
    right = h.threshold < values[0] + 150
    ax.text(
        h.threshold + (4 if right else -4),
        0.85,
        f"threshold {h.threshold}:\n{h.n_above} above + {h.n_ties} of {h.counts[h.bin]} "
        f"equal = k = {k}",
        transform=ax.get_xaxis_transform(),
        ha="left" if right else "right",
        va="top",
        fontsize=9,
        color="#7a3b8f",
    )
    ax.set_xlabel("activation value (one bin each)", fontsize=9)
    ax.set_ylabel("count", fontsize=9)
    ax.set_xlim(values[0] - 1, values[-1] + 1)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8.5, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _comparator_slots(ordered) -> list[int]:
    """Horizontal slot of each comparator (sorted by upper wire) so drawn spans never overlap."""
    ends: list[int] = []  # ends[s]: the lowest wire a comparator in slot s reaches so far
    slots = []
    for i, j in ordered:
        s = next((s for s, end in enumerate(ends) if end < i), len(ends))
        ends[s : s + 1] = [j]
        slots.append(s)
    return slots


def draw_sorting_network(values, layers=SORT8_LAYERS):
    """The 8-input sorting network, with the values on the wires after every layer.

    Args:
        values: ``(8,)`` integers to sort.
        layers: the network (default :data:`~compsparse.kwta_hw.SORT8_LAYERS`).

    Returns:
        matplotlib Figure with one axes: wires left to right, best value ending on top.
    """
    stages = sort8_stages(values)
    fig, ax = plt.subplots(figsize=(7.0, 3.0))
    step = 1.0
    for w in range(8):
        ax.plot([-0.35, len(layers) * step + 0.35], [w, w], color="#9e9e9e", lw=0.8, zorder=1)
    for n_layer, layer in enumerate(layers):
        ordered = sorted(layer)
        slots = _comparator_slots(ordered)
        width = max(slots) + 1
        for (i, j), s in zip(ordered, slots, strict=True):
            xc = n_layer * step + 0.5 + (s - (width - 1) / 2) * 0.16
            ax.plot([xc, xc], [i, j], color="#333333", lw=1.2, zorder=2)
            ax.plot([xc, xc], [i, j], "o", color="#333333", ms=3.5, zorder=3)
        ax.text(n_layer * step + 0.5, 8.0, f"layer {n_layer + 1}", ha="center", fontsize=8)
    for n_stage, (v, _) in enumerate(stages):
        prev = stages[max(0, n_stage - 1)][0]
        for w in range(8):
            moved = n_stage > 0 and v[w] != prev[w]
            ax.text(
                n_stage * step, w, f"{v[w]}", ha="center", va="center", fontsize=8,
                fontweight="bold" if moved else "normal", zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white",
                      "ec": WINNER if moved else "none", "lw": 0.8},
            )  # fmt: skip
    ax.set_ylim(8.5, -0.7)
    ax.set_xlim(-0.6, len(layers) * step + 0.6)
    ax.set_yticks(range(8), [f"wire {w}" for w in range(8)], fontsize=8)
    ax.tick_params(length=0)
    ax.set_xticks([])
    ax.spines[:].set_visible(False)
    ax.set_title(
        f"{sum(len(layer) for layer in layers)} comparators in {len(layers)} layers; each "
        "leaves the larger value on the upper wire (ties: lower index)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def draw_merge(x, k: int):
    """The merge after the sorting networks: sorted groups as FIFOs, popped by a comparator tree.

    Args:
        x: ``(n,)`` integer candidates (e.g. 64 channels of one pixel).
        k: winners.

    Returns:
        matplotlib Figure: the FIFOs as columns (head at the top) under the comparator tree,
        winners coloured and numbered in the order the tree popped them; beside it the list of
        pops with each winner's index.
    """
    t = sort_merge_topk(np.asarray(x), k)
    groups = t.sorted_values.shape[0]
    fig, (ax, side) = plt.subplots(1, 2, figsize=(7.0, 5.6), width_ratios=[2.3, 1])
    order = {
        (int(g), int(i)): r + 1 for r, (g, i) in enumerate(zip(t.fifo, t.winners, strict=True))
    }
    ax.set_aspect("equal", adjustable="box")
    for g in range(groups):
        for d in range(8):
            idx = int(t.sorted_indices[g, d])
            rank = order.get((g, idx))
            color = WINNER if rank else (EMPTY if idx >= 0 else "white")
            ax.add_patch(Rectangle((g - 0.45, d - 0.45), 0.9, 0.9, color=color, zorder=1))
            if idx >= 0:
                label = f"{t.sorted_values[g, d]}" + (f"\n#{rank}" if rank else "")
                cell_text(ax, d, g, label, color, size=7.5 if rank else 7, zorder=3)
    # the comparator tree over the FIFO heads
    level, xs, y = 0, [float(g) for g in range(groups)], -0.6
    while len(xs) > 1:
        nxt = []
        for a in range(0, len(xs) - 1, 2):
            xm, yn = (xs[a] + xs[a + 1]) / 2, y - 0.9
            ax.plot([xs[a], xm, xs[a + 1]], [y, yn, y], color="#555555", lw=0.9)
            ax.plot(xm, yn, "o", color="#333333", ms=4)
            nxt.append(xm)
        if len(xs) % 2:
            nxt.append(xs[-1])
        xs, y, level = nxt, y - 0.9, level + 1
    ax.annotate("best head: pop it", (xs[0], y), (xs[0], y - 0.7), ha="center", fontsize=8,
                arrowprops={"arrowstyle": "<-", "color": "#555555"})  # fmt: skip
    ax.set_xticks(range(groups), [str(g) for g in range(groups)], fontsize=8)
    ax.set_xlabel("FIFO (one sorted group of 8, head at the top)", fontsize=9)
    ax.tick_params(length=0)
    ax.set_yticks([])
    ax.set_xlim(-0.6, groups - 0.4)
    ax.set_ylim(7.6, y - 1.2)
    ax.spines[:].set_visible(False)
    ax.set_title(
        f"{groups} sorted groups of 8; the tree popped k = {k} winners (#1 first)", fontsize=9
    )
    side.axis("off")
    side.set_title("popped, in order", fontsize=9)
    for r, (g, i) in enumerate(zip(t.fifo, t.winners, strict=True)):
        value = t.sorted_values[g][t.sorted_indices[g] == i][0]
        side.text(0.0, 1 - (r + 1) / (k + 1.5), f"#{r + 1}:  {value}  (channel {i}, FIFO {g})",
                  fontsize=8.5, transform=side.transAxes)  # fmt: skip
    fig.tight_layout()
    return fig
