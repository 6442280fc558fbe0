"""The dense baseline: a layer computed the textbook way, with no packing at all.

The chapters check the five steps against these on screen. They are written independently of
:mod:`compsparse.ops` (no windows, no kernel ids): a matrix product, and a convolution as a loop
over the kernel's offsets.

Book: chapter "Sum" (book/06_sum.ipynb).
"""

from __future__ import annotations

import numpy as np

from .ops import _pair, accumulator_dtype

__all__ = ["dense_conv2d", "dense_linear"]


def dense_linear(x, weights) -> np.ndarray:
    """``y = W @ x``.

    Args:
        x: ``(n_in,)`` activation (dense; zeros where k-WTA dropped a value).
        weights: ``(n_out, n_in)``.

    Returns:
        ``(n_out,)``, int64 for integer inputs.

    Book: chapter "Sum".
    """
    x, w = np.asarray(x), np.asarray(weights)
    if w.ndim != 2 or x.shape != (w.shape[1],):
        raise ValueError(f"need x (n_in,) and weights (n_out, n_in), got {x.shape}, {w.shape}")
    acc = accumulator_dtype(x.dtype, w.dtype)
    return w.astype(acc) @ x.astype(acc)


def dense_conv2d(x, weights, stride=1, padding=0) -> np.ndarray:
    """Cross-correlation of ``x`` with every kernel: ``y[o, p, q] = sum W[o, c, i, j] x[c, ...]``.

    Args:
        x: ``(c_in, h, w)`` activation.
        weights: ``(c_out, c_in, kh, kw)``.
        stride, padding: ints or pairs, as in :func:`compsparse.conv2d`.

    Returns:
        ``(c_out, oh, ow)``, int64 for integer inputs.

    Book: chapter "Sum".
    """
    x, w = np.asarray(x), np.asarray(weights)
    if x.ndim != 3 or w.ndim != 4 or w.shape[1] != x.shape[0]:
        raise ValueError(f"need x (c, h, w) and weights (o, c, kh, kw), got {x.shape}, {w.shape}")
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    acc = accumulator_dtype(x.dtype, w.dtype)
    xp = np.pad(x.astype(acc), ((0, 0), (ph, ph), (pw, pw)))
    kh, kw = w.shape[2:]
    oh, ow = (xp.shape[1] - kh) // sh + 1, (xp.shape[2] - kw) // sw + 1
    y = np.zeros((w.shape[0], oh, ow), acc)
    for i in range(kh):  # each kernel offset adds one shifted, strided slice of the input
        for j in range(kw):
            patch = xp[:, i : i + (oh - 1) * sh + 1 : sh, j : j + (ow - 1) * sw + 1 : sw]
            y += np.tensordot(w[:, :, i, j].astype(acc), patch, axes=1)
    return y
