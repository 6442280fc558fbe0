"""Figures of the Combine step: sparse kernels and the dense kernel they pack into.

Book: chapter "Combine" (book/02_combine.ipynb).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..packing import PackedKernels
from .style import grid_lines, kernel_cmap


def _planes(a: np.ndarray, channel: int) -> np.ndarray:
    """2-D planes of kernel-shaped arrays with a leading axis ``(n, *kernel_shape)``.

    ``(n, k)`` -> ``(n, 1, k)``; ``(n, kh, kw)`` as is; ``(n, c, kh, kw)`` -> channel ``channel``.
    """
    if a.ndim == 2:
        return a[:, None, :]
    if a.ndim == 3:
        return a
    return a[:, channel]


def draw_packing(P: PackedKernels, group: int = 0, channel: int = 0, highlight: int | None = None):
    """The sparse kernels of one group beside the dense kernel they pack into.

    Each kernel's positions are drawn in its own colour; the packed kernel shows, at every
    position, the colour of the kernel that owns it.

    Args:
        P: packed kernels (kernel shape ``(n_in,)``, ``(kh, kw)`` or ``(c_in, kh, kw)``).
        group: which packed kernel to draw.
        channel: for ``(c_in, kh, kw)`` kernels, which input channel to draw.
        highlight: a kernel index within the group to emphasise (others are faded).

    Returns:
        matplotlib Figure with ``n + 1`` image axes: the group's ``n`` kernels, then the packed one.
    """
    if not 0 <= group < P.n_groups:
        raise ValueError(f"group must be in [0, {P.n_groups}), got {group}")
    first = group * P.n_per_group
    n = min(P.n_per_group, P.n_kernels - first)
    kernels = _planes(P.unpack()[first : first + n], channel)  # (n, h, w)
    packed = _planes(P.values[group : group + 1], channel)[0]
    ids = np.where(packed != 0, _planes(P.kernel_ids[group : group + 1], channel)[0], -1)
    cmap = kernel_cmap(P.n_per_group)
    style = {"cmap": cmap, "vmin": -1, "vmax": P.n_per_group - 1}

    fig, axes = plt.subplots(
        1, n + 1, figsize=(1.2 * n + 2.4, 1.9), gridspec_kw={"width_ratios": [1] * n + [1.6]}
    )
    for j in range(n):
        faded = highlight is not None and j != highlight
        axes[j].imshow(np.where(kernels[j] != 0, j, -1), alpha=0.25 if faded else 1.0, **style)
        axes[j].set_title(f"kernel {first + j}", fontsize=8)
        grid_lines(axes[j], kernels[j].shape)
    shown = ids if highlight is None else np.where(ids == highlight, ids, -1)
    axes[-1].imshow(shown, **style)
    axes[-1].set_title("packed (dense)", fontsize=9, fontweight="bold")
    grid_lines(axes[-1], ids.shape)
    fig.tight_layout()
    return fig
