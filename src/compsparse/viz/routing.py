"""Figures of the Route step: products travelling to their kernels' accumulators.

:func:`draw_routing_frame` draws one product of a traced output position on its way from the
packed kernel to its kernel's accumulator, with the running sums; :func:`routing_player` makes
one frame per product into a kernel-free player. :func:`draw_serial_routing` and
:func:`draw_parallel_routing` draw the two circuits of the paper with the same products.

Book: chapter "Route" (book/05_route.ipynb).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.patches import ConnectionPatch, FancyBboxPatch, Polygon, Rectangle

from ..routing import parallel_route, product_stream, serial_route
from ..trace import StepTrace
from .player import FramePlayer, frame_player
from .style import EMPTY, cell_text, grid_lines, kernel_cmap, kernel_colors

__all__ = ["draw_parallel_routing", "draw_routing_frame", "draw_serial_routing", "routing_player"]


def _num(v) -> str:
    return f"({v:g})" if v < 0 else f"{v:g}"


def _check(trace: StepTrace, kernel_shape) -> tuple[int, ...]:
    shape = tuple(kernel_shape)
    if trace.products.shape[0] != 1:
        raise ValueError(
            f"routing figures draw one packed kernel; this trace has {trace.products.shape[0]} "
            f"groups: trace a layer with n_kernels <= n_per_group"
        )
    if len(shape) == 1:
        shape = (1, 1, shape[0])
    if len(shape) == 2:
        shape = (1, *shape)
    if int(np.prod(shape)) != trace.inputs.size:
        raise ValueError(f"kernel_shape {kernel_shape} does not match {trace.inputs.size} inputs")
    return shape


def _tint(color, amount: float = 0.25):
    r, g, b, _ = to_rgba(color)
    return (1 - amount * (1 - r), 1 - amount * (1 - g), 1 - amount * (1 - b), 1.0)


def draw_routing_frame(trace: StepTrace, kernel_shape, step: int, packed_ids=None):
    """One product of a traced output position, routed to its kernel's accumulator.

    Args:
        trace: a :class:`~compsparse.trace.StepTrace` of one packed kernel (one group).
        kernel_shape: ``(c_in, kh, kw)`` (or ``(n_in,)`` for a linear layer).
        step: which product, ``0 <= step < number of products`` (in
            :func:`~compsparse.routing.product_stream` order).
        packed_ids: ``(n,)`` the packed kernel's kernel ids at every input position (defaults to
            the ids of the selected positions; unselected positions are then drawn empty).

    Returns:
        matplotlib Figure: the activation window and the packed kernel (one small grid per input
        channel), an arrow from the current product's weight to its accumulator, and every
        accumulator's running sum.
    """
    c_in, kh, kw = _check(trace, kernel_shape)
    products, kernels, inputs, _ = product_stream(trace)
    m = products.size
    if not 0 <= step < m:
        raise ValueError(f"step must be in [0, {m}), got {step}")
    n_kernels = trace.routed.shape[0]
    running = serial_route(products, kernels, n_kernels).running[step]
    colors = kernel_colors(n_kernels)
    weights = np.zeros(trace.inputs.size, trace.weights.dtype)
    weights[trace.selected] = trace.weights[0]
    ids = np.full(trace.inputs.size, -1)
    if packed_ids is not None:
        ids[:] = np.asarray(packed_ids).ravel()
    ids[trace.selected] = trace.kernels[0]
    selected = np.zeros(trace.inputs.size, bool)
    selected[trace.selected] = True
    done = np.zeros(trace.inputs.size, bool)
    done[inputs[: step + 1]] = True
    here = int(inputs[step])

    height = 1.25 * c_in + 1.0
    fig = plt.figure(figsize=(7.0, height))
    grid = fig.add_gridspec(
        c_in, 4, width_ratios=[1, 1, 0.35, 1.5], wspace=0.15, hspace=0.3,
        top=1 - 0.6 / height, bottom=0.15 / height,
    )  # fmt: skip
    cmap = kernel_cmap(n_kernels)
    target = None
    for c in range(c_in):
        sl = slice(c * kh * kw, (c + 1) * kh * kw)
        ax_x, ax_w = fig.add_subplot(grid[c, 0]), fig.add_subplot(grid[c, 1])
        ax_x.imshow(np.full((kh, kw), -1), cmap=cmap, vmin=-1, vmax=n_kernels - 1)
        shown = ids[sl].reshape(kh, kw)  # unselected: drawn faint, never read
        alpha = np.where(done[sl], 1.0, np.where(selected[sl], 0.35, 0.12)).reshape(kh, kw)
        ax_w.imshow(shown, cmap=cmap, vmin=-1, vmax=n_kernels - 1, alpha=alpha)
        for p in range(sl.start, sl.stop):
            i, j = divmod(p - sl.start, kw)
            on = selected[p]
            cell_text(ax_x, i, j, f"{trace.inputs[p]:g}", EMPTY, size=8, alpha=1.0 if on else 0.3)
            if on:
                bg = colors[ids[p]] if done[p] else _tint(colors[ids[p]], 0.35)
                cell_text(ax_w, i, j, f"{weights[p]:g}", bg, size=8)
            if p == here:
                for ax in (ax_x, ax_w):
                    ax.add_patch(
                        Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=2.2, ec="k", zorder=5)
                    )
                target = (ax_w, (kw - 0.45, i))  # leave from the grid's edge, on its row
        grid_lines(ax_x, (kh, kw))
        grid_lines(ax_w, (kh, kw))
        label = f"channel {c}" if c_in > 1 else ""
        ax_x.set_ylabel(label, fontsize=9, rotation=0, ha="right", va="center")
        if c == 0:
            ax_x.set_title("activations x", fontsize=10)
            ax_w.set_title("packed weights", fontsize=10)

    acc = fig.add_subplot(grid[:, 3])
    acc.set_xlim(0, 1)
    acc.set_ylim(n_kernels, 0)
    acc.axis("off")
    acc.set_title("accumulators (running sums)", fontsize=10)
    k_now = int(kernels[step])
    for j in range(n_kernels):
        active = j == k_now
        acc.add_patch(FancyBboxPatch(
            (0.05, j + 0.12), 0.9, 0.76, boxstyle="round,pad=0.0,rounding_size=0.08",
            fc=_tint(colors[j], 0.35 if not active else 0.6), ec="k" if active else colors[j],
            lw=2.0 if active else 1.0,
        ))  # fmt: skip
        acc.text(0.1, j + 0.5, f"kernel {j}", va="center", fontsize=9, color="black")
        acc.text(0.9, j + 0.5, f"{running[j]:g}", va="center", ha="right", fontsize=10,
                 fontweight="bold" if active else "normal")  # fmt: skip
    a_val, w_val, prod = trace.inputs[here], weights[here], products[step]
    if target is not None:
        arrow = ConnectionPatch(
            xyA=target[1], coordsA=target[0].transData, xyB=(0.05, k_now + 0.5),
            coordsB=acc.transData, arrowstyle="-|>", color="k", lw=1.4, mutation_scale=12,
            connectionstyle="arc3,rad=-0.15",
        )  # fmt: skip
        fig.add_artist(arrow)
    mode = "sparse-sparse" if trace.sparse else "sparse-dense"
    fig.suptitle(
        f"{mode}, product {step + 1} of {m}:  {_num(a_val)} \u00d7 {_num(w_val)} = {prod:g}  "
        f"\u2192  kernel {k_now}",
        fontsize=10,
    )
    return fig


def routing_player(trace: StepTrace, kernel_shape, packed_ids=None) -> FramePlayer:
    """Kernel-free animation of Route: one frame per product of the traced position.

    Returns:
        :class:`~compsparse.viz.player.FramePlayer` with as many frames as products.
    """
    products, kernels, _, _ = product_stream(trace)
    running = serial_route(products, kernels, trace.routed.shape[0]).running
    figures = (draw_routing_frame(trace, kernel_shape, s, packed_ids) for s in range(products.size))
    captions = [
        f"product {s + 1} of {products.size} goes to kernel {kernels[s]}, whose sum becomes "
        f"{running[s, kernels[s]]:g}"
        for s in range(products.size)
    ]
    mode = "sparse-sparse" if trace.sparse else "sparse-dense"
    return frame_player(figures, captions, label=f"routing the products, {mode}")


def _stream(ax, products, kernels, colors, x0: float, title: str) -> None:
    """A column of product boxes, top first."""
    for t, (p, k) in enumerate(zip(products, kernels, strict=True)):
        ax.add_patch(Rectangle((x0, t), 0.9, 0.85, fc=colors[k], ec="white"))
        cell_text(ax, t + 0.42, x0 + 0.45, f"{p:g}", colors[k], size=8)
    ax.text(x0 + 0.45, -0.5, title, ha="center", fontsize=9)


def draw_serial_routing(trace: StepTrace):
    """Serial routing: the products stream one per cycle through a multiplexer to accumulators.

    Returns:
        matplotlib Figure with one axes.
    """
    products, kernels, _, _ = product_stream(trace)
    n_k = trace.routed.shape[0]
    result = serial_route(products, kernels, n_k)
    colors = kernel_colors(n_k)
    m = products.size
    h = max(m, 2 * n_k)
    fig, ax = plt.subplots(figsize=(7.0, 0.2 * h + 1.0))
    _stream(ax, products, kernels, colors, 0.0, "products, one\nper cycle (first on top)")
    mid = h / 2
    ax.add_patch(Polygon([(3, mid - 1.2), (4.2, mid - n_k * 0.9), (4.2, mid + n_k * 0.9),
                          (3, mid + 1.2)], fc="#eeeeee", ec="#555555"))  # fmt: skip
    ax.text(3.6, mid, "mux\nnetwork", ha="center", va="center", fontsize=9)
    ax.annotate("", (3, mid), (1.0, mid), arrowprops={"arrowstyle": "-|>", "color": "#555555"})
    ax.text(3.6, mid + n_k * 0.9 + 0.9, "select = kernel id", ha="center", fontsize=8)
    for j in range(n_k):
        y = mid + (j - (n_k - 1) / 2) * 1.7
        ax.annotate("", (5.6, y), (4.2, y), arrowprops={"arrowstyle": "-|>", "color": colors[j]})
        ax.add_patch(FancyBboxPatch((5.6, y - 0.6), 3.0, 1.2, boxstyle="round,pad=0.05",
                                    fc=_tint(colors[j]), ec=colors[j]))  # fmt: skip
        ax.text(5.8, y, f"accumulator {j}:  \u03a3 = {result.sums[j]:g}", va="center", fontsize=9)
    ax.set_xlim(-0.3, 9)
    ax.set_ylim(h + 0.5, -2.2)
    ax.axis("off")
    ax.set_title(f"serial: {result.cycles} cycles, one adder per accumulator", fontsize=10)
    return fig


def draw_parallel_routing(trace: StepTrace):
    """Parallel routing: arbitration gives each product a slot of its kernel's adder tree.

    Returns:
        matplotlib Figure with one axes: products with their slots, the adder-tree inputs
        (one row per kernel), and each tree's sum.
    """
    products, kernels, _, _ = product_stream(trace)
    n_k = trace.routed.shape[0]
    r = parallel_route(products, kernels, n_k)
    colors = kernel_colors(n_k)
    m, width = products.size, r.lanes.shape[1]
    h = max(m, n_k * 1.5)
    fig, ax = plt.subplots(figsize=(7.0, 0.2 * h + 1.0))
    _stream(ax, products, kernels, colors, 0.0, "products\n(all at once)")
    for t, s in enumerate(r.slots):
        ax.text(1.6, t + 0.42, f"slot {s}", va="center", fontsize=8)
    ax.text(2.5, -0.5, "slot from the\nprefix sum", ha="center", fontsize=9)
    x0, cell = 4.8, min(0.9, 4.0 / width)
    top = (h - n_k * 1.5) / 2
    for j in range(n_k):
        y = top + j * 1.5
        for s in range(width):
            arrived = np.any((kernels == j) & (r.slots == s))
            ax.add_patch(Rectangle((x0 + s * cell, y), cell * 0.95, 1.1,
                                   fc=colors[j] if arrived else EMPTY, ec="white"))  # fmt: skip
            if arrived:
                cell_text(ax, y + 0.55, x0 + (s + 0.47) * cell, f"{r.lanes[j, s]:g}", colors[j],
                          size=7.5)  # fmt: skip
        xe = x0 + width * cell + 0.2
        ax.annotate("", (xe + 0.8, y + 0.55), (xe, y + 0.55),
                    arrowprops={"arrowstyle": "-|>", "color": colors[j]})  # fmt: skip
        ax.text(xe + 0.9, y + 0.55, f"\u03a3 kernel {j} = {r.sums[j]:g}", va="center", fontsize=9)
    ax.text(x0 + width * cell / 2, top - 0.5, f"adder-tree inputs (slots 0..{width - 1})",
            ha="center", fontsize=9)  # fmt: skip
    ax.set_xlim(-0.3, x0 + width * cell + 4.2)
    ax.set_ylim(h + 0.5, -2.2)
    ax.axis("off")
    ax.set_title(
        f"parallel: {m} products in one step, {n_k} adder trees of {width} inputs, depth {r.depth}",
        fontsize=10,
    )
    return fig
