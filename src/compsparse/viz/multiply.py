"""Figures of the Multiply step: the Hadamard product with a packed kernel, dense or sparse.

Book: chapter "Multiply" (book/04_multiply.ipynb).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ..kwta import SparseActivation
from ..packing import PackedKernels
from ..trace import StepTrace
from .style import EMPTY, cell_text, grid_lines, kernel_cmap, kernel_colors

__all__ = ["draw_hadamard", "draw_weight_memory"]


def draw_hadamard(trace: StepTrace, P: PackedKernels):
    """One output position's Multiply: activation window, packed kernel, and their products.

    Args:
        trace: a traced conv position (:func:`compsparse.trace_conv2d`) of one packed kernel.
        P: the packed kernels it was traced with (one group).

    Returns:
        matplotlib Figure: one row per input channel with the activations, the packed weights
        (coloured by kernel; faint where sparse-sparse does not read them) and the products
        (blank where no multiply happens).
    """
    if P.n_groups != 1 or len(P.kernel_shape) != 3:
        raise ValueError("draw_hadamard draws one group of (c_in, kh, kw) kernels")
    c_in, kh, kw = P.kernel_shape
    n_k = P.n_kernels
    colors = kernel_colors(n_k)
    cmap = {"cmap": kernel_cmap(n_k), "vmin": -1, "vmax": n_k - 1}
    ids = P.kernel_ids[0].ravel().astype(int)
    values = P.values[0].ravel()
    read = np.zeros(ids.size, bool)
    read[trace.selected] = True
    products = np.zeros(ids.size, trace.products.dtype)
    products[trace.selected] = trace.products[0]
    height = 1.3 * c_in + 0.8
    fig = plt.figure(figsize=(7.0, height))
    grid = fig.add_gridspec(
        c_in, 5, width_ratios=[1, 0.3, 1, 0.3, 1], wspace=0.1, hspace=0.25,
        top=1 - 0.6 / height, bottom=0.1 / height,
    )  # fmt: skip
    for c in range(c_in):
        sl = slice(c * kh * kw, (c + 1) * kh * kw)
        axes = [fig.add_subplot(grid[c, col]) for col in range(5)]
        axes[0].imshow(np.full((kh, kw), -1), **cmap)
        axes[2].imshow(ids[sl].reshape(kh, kw), alpha=np.where(read[sl], 1.0, 0.15).reshape(kh, kw),
                       **cmap)  # fmt: skip
        axes[4].imshow(np.where(read[sl], ids[sl], -1).reshape(kh, kw), **cmap)
        for p in range(sl.start, sl.stop):
            i, j = divmod(p - sl.start, kw)
            faint = {} if read[p] else {"alpha": 0.3}
            cell_text(axes[0], i, j, f"{trace.inputs[p]:g}", EMPTY, **faint)
            if read[p]:
                cell_text(axes[2], i, j, f"{values[p]:g}", colors[ids[p]])
                cell_text(axes[4], i, j, f"{products[p]:g}", colors[ids[p]])
        for col, sign in ((1, "\u2299"), (3, "=")):
            axes[col].text(0.5, 0.5, sign, ha="center", va="center", fontsize=15)
            axes[col].axis("off")
        for col in (0, 2, 4):
            grid_lines(axes[col], (kh, kw))
        if c_in > 1:
            axes[0].set_ylabel(f"channel {c}", fontsize=9, rotation=0, ha="right", va="center")
        if c == 0:
            for col, title in ((0, "activations"), (2, "packed weights"), (4, "products")):
                axes[col].set_title(title, fontsize=10)
    mode = "sparse-sparse" if trace.sparse else "sparse-dense"
    fig.suptitle(
        f"{mode}: {trace.products.size} multiplies for {n_k} kernels at this position", fontsize=10
    )
    return fig


def draw_weight_memory(P: PackedKernels, a: SparseActivation):
    """A linear layer's packed weights as a memory addressed by the selected activations.

    Args:
        P: kernels packed from ``(n_out, n_in)`` weights.
        a: the selected activation, shape ``(n_in,)``.

    Returns:
        matplotlib Figure: the activation on top (winners marked), and below it the packed
        weights, one row per packed kernel and one column per address; the columns the winners
        address are the only ones read.
    """
    if len(P.kernel_shape) != 1 or a.shape != P.kernel_shape:
        raise ValueError(f"need linear packed kernels and an activation of shape {P.kernel_shape}")
    n_in, g = P.kernel_shape[0], P.n_groups
    colors = kernel_colors(P.n_kernels)
    kernel = P.kernel_index()
    dense = a.to_dense()
    fig, ax = plt.subplots(figsize=(7.0, 0.42 * g + 1.6))
    read = np.zeros(n_in, bool)
    read[a.indices] = True
    for i in range(n_in):
        ax.add_patch(Rectangle((i, -1.6), 0.92, 0.92, fc="#f7d9c4" if read[i] else EMPTY))
        if read[i]:
            cell_text(ax, -1.14, i + 0.46, f"{dense[i]:g}", "#f7d9c4", size=7.5)
        for r in range(g):
            color = colors[kernel[r, i]]
            ax.add_patch(Rectangle((i, r), 0.92, 0.92, fc=color, alpha=1.0 if read[i] else 0.18))
            if read[i]:
                cell_text(ax, r + 0.46, i + 0.46, f"{P.values[r, i]:g}", color, size=7.5)
        if read[i]:
            ax.add_patch(Rectangle((i - 0.04, -0.08), 1.0, g + 0.08, fill=False, ec="k", lw=1.2))
            ax.text(i + 0.46, g + 0.35, str(i), ha="center", va="top", fontsize=7.5)
    ax.text(-0.4, -1.14, "x (winners)", ha="right", va="center", fontsize=9)
    for r in range(g):
        ax.text(-0.4, r + 0.46, f"packed kernel {r}", ha="right", va="center", fontsize=9)
    ax.text(-0.4, g + 0.2, "address", ha="right", va="top", fontsize=8)
    ax.set_xlim(-6.5, n_in + 0.2)
    ax.set_ylim(g + 1.0, -1.9)
    ax.axis("off")
    ax.set_title(
        f"{a.nnz} of {n_in} addresses read: {a.nnz * g} multiplies "
        f"(sparse-dense: {n_in * g}; dense: {n_in * P.n_kernels})",
        fontsize=10,
    )
    return fig
