"""Figures of the Combine step: sparse kernels and the dense kernel they pack into.

Book: chapter "Combine" (book/02_combine.ipynb).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..packing import PackedKernels, complementary_masks, pack, packing_efficiency
from ..trace import trace_conv2d
from .player import FramePlayer, frame_player
from .style import EMPTY, cell_text, grid_lines, kernel_cmap, kernel_colors

__all__ = [
    "draw_packing",
    "draw_packing_demo",
    "draw_worked_example",
    "overlay_player",
    "sparsity_player",
]


def _planes(a: np.ndarray, channel: int) -> np.ndarray:
    """2-D planes of kernel-shaped arrays with a leading axis ``(n, *kernel_shape)``.

    ``(n, k)`` -> ``(n, 1, k)``; ``(n, kh, kw)`` as is; ``(n, c, kh, kw)`` -> channel ``channel``.
    """
    if a.ndim == 2:
        return a[:, None, :]
    if a.ndim == 3:
        return a
    return a[:, channel]


def _group_planes(P: PackedKernels, group: int, channel: int):
    """(first kernel, n kernels, their planes (n, h, w), packed ids plane with -1 where empty)."""
    if not 0 <= group < P.n_groups:
        raise ValueError(f"group must be in [0, {P.n_groups}), got {group}")
    first = group * P.n_per_group
    n = min(P.n_per_group, P.n_kernels - first)
    kernels = _planes(P.unpack()[first : first + n], channel)
    packed = _planes(P.values[group : group + 1], channel)[0]
    ids = np.where(packed != 0, _planes(P.kernel_ids[group : group + 1], channel)[0], -1)
    return first, n, kernels, ids


def draw_packing(
    P: PackedKernels,
    group: int = 0,
    channel: int = 0,
    highlight: int | None = None,
    placed: int | None = None,
    figsize: tuple[float, float] | None = None,
):
    """The sparse kernels of one group beside the dense kernel they pack into.

    Each kernel's positions are drawn in its own colour; the packed kernel shows, at every
    position, the colour of the kernel that owns it.

    Args:
        P: packed kernels (kernel shape ``(n_in,)``, ``(kh, kw)`` or ``(c_in, kh, kw)``).
        group: which packed kernel to draw.
        channel: for ``(c_in, kh, kw)`` kernels, which input channel to draw.
        highlight: a kernel index within the group to emphasise (others are faded).
        placed: draw the packing half done: only kernels ``0 .. placed-1`` are in the packed
            kernel yet (the others are faded). ``None`` means all.
        figsize: inches; by default it grows with the number of kernels.

    Returns:
        matplotlib Figure with ``n + 1`` image axes: the group's ``n`` kernels, then the packed one.
    """
    first, n, kernels, ids = _group_planes(P, group, channel)
    style = {"cmap": kernel_cmap(P.n_per_group), "vmin": -1, "vmax": P.n_per_group - 1}
    fig, axes = plt.subplots(
        1,
        n + 1,
        figsize=figsize or (min(7.0, 1.2 * n + 2.4), 1.9),
        gridspec_kw={"width_ratios": [1] * n + [1.6]},
    )
    for j in range(n):
        faded = (highlight is not None and j != highlight) or (placed is not None and j >= placed)
        axes[j].imshow(np.where(kernels[j] != 0, j, -1), alpha=0.25 if faded else 1.0, **style)
        axes[j].set_title(f"kernel {first + j}", fontsize=9)
        grid_lines(axes[j], kernels[j].shape)
    shown = ids if highlight is None else np.where(ids == highlight, ids, -1)
    if placed is not None:
        shown = np.where(shown < placed, shown, -1)
    axes[-1].imshow(shown, **style)
    if placed is None:
        axes[-1].set_title("packed (dense)", fontsize=10, fontweight="bold")
    else:
        filled = int(np.count_nonzero(shown >= 0))
        axes[-1].set_title(f"packed: {filled} of {shown.size} filled", fontsize=10)
    grid_lines(axes[-1], ids.shape)
    fig.tight_layout()
    return fig


def _id_bits(n_per_group: int) -> int:
    return max(1, int(np.ceil(np.log2(n_per_group))))


def demo_packed(n_per_group: int, size: int = 5, c_in: int = 1, seed: int = 0) -> PackedKernels:
    """One full group of ``n_per_group`` random complementary ``(c_in, size, size)`` kernels.

    Weights are uniform in [0.5, 1) on each kernel's mask (non-zero, so every position shows).
    """
    masks = complementary_masks(n_per_group, (c_in, size, size), n_per_group, seed=seed)
    weights = masks * np.random.default_rng(seed).uniform(0.5, 1.0, masks.shape)
    return pack(weights, n_per_group)


def draw_packing_demo(
    n_per_group: int = 5,
    size: int = 5,
    c_in: int = 1,
    seed: int = 0,
    highlight: int | None = None,
    max_channels: int = 4,
    figsize: tuple[float, float] | None = None,
):
    """The packing widget's figure: ``n_per_group`` complementary kernels and their packing.

    One row per input channel (up to ``max_channels``), one column per kernel plus the packed
    kernel, and a line with the sparsity, the packing efficiency and the memory it takes.

    Args:
        n_per_group: kernels per group, 2..``c_in * size**2``; sparsity ``1 - 1/n_per_group``.
        size: kernel height and width.
        c_in: input channels.
        seed: seed of the random masks.
        highlight: a kernel to emphasise (ignored when ``>= n_per_group`` or negative).
        max_channels: rows drawn at most.
        figsize: inches, default ``(7.0, 0.95 * rows + 1.2)``.

    Returns:
        matplotlib Figure with ``rows * (n_per_group + 1)`` image axes.
    """
    if not 2 <= n_per_group <= c_in * size * size:
        raise ValueError(
            f"n_per_group must be in [2, {c_in * size * size}] for {c_in}x{size}x{size} kernels"
        )
    P = demo_packed(n_per_group, size, c_in, seed)
    if highlight is not None and not 0 <= highlight < n_per_group:
        highlight = None
    rows = min(c_in, max_channels)
    n = n_per_group
    fig, axes = plt.subplots(
        rows,
        n + 1,
        figsize=figsize or (7.0, 0.95 * rows + 1.2),
        gridspec_kw={"width_ratios": [1] * n + [1.4]},
        squeeze=False,
    )
    style = {"cmap": kernel_cmap(n), "vmin": -1, "vmax": n - 1}
    kernels, ids = P.unpack(), P.kernel_ids[0]
    for c in range(rows):
        for j in range(n):
            faded = highlight is not None and j != highlight
            ax = axes[c, j]
            ax.imshow(np.where(kernels[j, c] != 0, j, -1), alpha=0.25 if faded else 1.0, **style)
            grid_lines(ax, (size, size))
            if c == 0:
                ax.set_title(f"kernel {j}", fontsize=9)
        shown = ids[c] if highlight is None else np.where(ids[c] == highlight, ids[c], -1)
        axes[c, n].imshow(shown, **style)
        grid_lines(axes[c, n], (size, size))
        if c_in > 1:
            axes[c, 0].set_ylabel(f"channel {c}", fontsize=9, rotation=0, ha="right", va="center")
    axes[0, n].set_title("packed", fontsize=10, fontweight="bold")
    positions = c_in * size * size
    shape = f"{c_in}x{size}x{size}" if c_in > 1 else f"{size}x{size}"
    more = f" (channels 0-{rows - 1} of {c_in} shown)" if c_in > rows else ""
    fig.tight_layout(rect=(0, 0.16 if rows == 1 else 0.1, 1, 1))
    bottom = min(ax.get_position().y0 for ax in fig.axes)
    fig.text(
        0.5,
        bottom - 0.03,
        f"{n} kernels, each {1 - 1 / n:.0%} sparse, fill one dense {shape} kernel: "
        f"packing efficiency {packing_efficiency(P):.0%}{more}\n"
        f"stored: {positions} weights + {positions} {_id_bits(n)}-bit kernel ids, "
        f"instead of {n} x {positions} weights",
        ha="center",
        va="top",
        fontsize=9,
    )
    return fig


def overlay_player(P: PackedKernels, group: int = 0, channel: int = 0) -> FramePlayer:
    """Kernel-free animation of Combine: the group's kernels enter the packed kernel one by one.

    Returns:
        :class:`~compsparse.viz.player.FramePlayer` with ``n + 1`` frames (0 .. n kernels placed).
    """
    first, n, _, ids = _group_planes(P, group, channel)
    figures = (draw_packing(P, group, channel, placed=j) for j in range(n + 1))
    captions = [
        "nothing placed yet: an empty dense kernel"
        if j == 0
        else f"kernel {first + j - 1} placed: {int(np.count_nonzero((ids >= 0) & (ids < j)))} "
        f"of {ids.size} positions filled, no collisions"
        for j in range(n + 1)
    ]
    return frame_player(figures, captions, label="kernels packed one by one")


def sparsity_player(n_values=(2, 3, 4, 5, 6, 8), size: int = 5, seed: int = 0) -> FramePlayer:
    """Kernel-free counterpart of the packing widget: one frame per kernels-per-group value.

    Returns:
        :class:`~compsparse.viz.player.FramePlayer` with ``len(n_values)`` frames.
    """
    figures = (draw_packing_demo(n, size, 1, seed, figsize=(7.0, 2.2)) for n in n_values)
    captions = [
        f"{n} kernels per group: each kernel {1 - 1 / n:.1%} sparse ({size * size // n} or "
        f"{-(-size * size // n)} of {size * size} positions)"
        for n in n_values
    ]
    return frame_player(figures, captions, label="packing at different sparsities")


def _num(v) -> str:
    """A number for a formula: negative numbers in parentheses."""
    return f"({v:g})" if v < 0 else f"{v:g}"


def draw_worked_example(P: PackedKernels, x, names: str = "ABC"):
    """The paper's Figure 4b: kernels A, B, C packed, multiplied with activation I, routed, summed.

    Args:
        P: three (or ``len(names)``) kernels of shape ``(1, kh, kw)`` packed into one group.
        x: ``(1, kh, kw)`` activation (one output position).
        names: one letter per kernel.

    Returns:
        matplotlib Figure: top row the sparse kernels and the packed kernel with symbolic
        entries; bottom row the same computation with numbers; right, each kernel's result.
    """
    if P.n_groups != 1 or len(P.kernel_shape) != 3 or P.kernel_shape[0] != 1:
        raise ValueError("draw_worked_example needs one group of (1, kh, kw) kernels")
    n = P.n_kernels
    if len(names) < n:
        raise ValueError(f"need {n} names, got {names!r}")
    t = trace_conv2d(np.asarray(x), P)
    _, kh, kw = P.kernel_shape
    ids = P.kernel_ids[0, 0]
    colors = kernel_colors(n)
    cmap = {"cmap": kernel_cmap(n), "vmin": -1, "vmax": n - 1}
    sym = np.array([[f"{names[ids[i, j]]}{i}{j}" for j in range(kw)] for i in range(kh)])
    values, act = P.values[0, 0], t.inputs.reshape(kh, kw)
    prod = t.products[0].reshape(kh, kw)
    fig = plt.figure(figsize=(7.0, 5.4))
    grid = fig.add_gridspec(
        3, 5, width_ratios=[1, 0.35, 1, 0.35, 1], height_ratios=[1, 1, 0.62],
        wspace=0.08, hspace=0.35, left=0.02, right=0.98, top=0.94, bottom=0.02,
    )  # fmt: skip
    top = grid[0, :].subgridspec(1, 5, width_ratios=[1, 1, 1, 0.4, 1], wspace=0.12)

    def panel(spec, cells, ident, title, size=8.5):
        ax = fig.add_subplot(spec)
        ax.imshow(ident, **cmap)
        for (i, j), text in np.ndenumerate(cells):
            bg = colors[ident[i, j]] if ident[i, j] >= 0 else EMPTY
            cell_text(ax, i, j, text, bg, size=size)
        ax.set_title(title, fontsize=10)
        grid_lines(ax, (kh, kw))

    def sign(spec, text):
        ax = fig.add_subplot(spec)
        ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=18)
        ax.axis("off")

    for c in range(n):  # top: the sparse kernels, then the packed kernel
        own = np.where(ids == c, c, -1)
        panel(top[0, c], np.where(ids == c, sym, ""), own, f"kernel {names[c]}")
    sign(top[0, 3], "\u2192")
    panel(top[0, 4], sym, ids, "packed")
    labels = np.vectorize(lambda i, j, v: f"I{i}{j}\n{v:g}")(*np.indices((kh, kw)), act)
    panel(grid[1, 0], labels, np.full((kh, kw), -1), "activation I", size=8)
    sign(grid[1, 1], "\u2299")
    panel(grid[1, 2], np.vectorize("{:g}".format)(values), ids, "packed weights", size=9.5)
    sign(grid[1, 3], "=")
    panel(grid[1, 4], np.vectorize("{:g}".format)(prod), ids, "products", size=9.5)
    ax = fig.add_subplot(grid[2, :])
    ax.axis("off")
    ax.set_title("Route and Sum: each product goes to the result of its kernel", fontsize=10)
    for c in range(n):
        where = np.argwhere(ids == c)
        terms = " + ".join(f"I{i}{j}\u00b7{names[c]}{i}{j}" for i, j in where)
        numbers = " + ".join(f"{_num(act[i, j])}\u00b7{_num(values[i, j])}" for i, j in where)
        x0 = c / n + 0.01
        ax.text(x0, 0.78, f"{names[c]}-result", color=colors[c], fontsize=10, fontweight="bold")
        ax.text(x0, 0.45, f"= {terms}", fontsize=8.5)
        ax.text(x0, 0.15, f"= {numbers} = {t.sums[c]:g}", fontsize=8.5)
    return fig
