"""Multiply, Route, Sum: linear and conv2d layers on packed kernels.

Each layer has two paths, chosen by the type of its input:

* a dense activation (a numpy array) runs **sparse-dense**: every activation is multiplied by the
  packed weight at its position (one Hadamard product per packed kernel);
* a :class:`~compsparse.kwta.SparseActivation` runs **sparse-sparse**: only the selected
  activations are touched; each one's index addresses one row of the packed weights (one weight
  per packed kernel), so the cost is proportional to the number of winners.

Either way each product is routed by its kernel id to its kernel's accumulator and summed. The
result equals the dense computation on ``P.unpack()``: exactly for integer inputs (accumulated in
int64), to rounding for floats.

Book: chapters "Multiply", "Route" and "Sum".
"""

from __future__ import annotations

import numpy as np

from .kwta import SparseActivation
from .packing import PackedKernels

__all__ = ["accumulator_dtype", "conv2d", "conv2d_output_shape", "linear"]


def accumulator_dtype(*dtypes) -> np.dtype:
    """The dtype products are summed in: int64 for integer inputs, else numpy's result type."""
    if all(np.issubdtype(d, np.integer) or np.dtype(d) == np.bool_ for d in dtypes):
        return np.dtype(np.int64)
    return np.result_type(*dtypes)


def _check_packed(P, ndim: int, layer: str) -> None:
    if not isinstance(P, PackedKernels):
        raise TypeError(
            f"{layer} needs PackedKernels from cs.pack(weights, n_per_group), "
            f"got {type(P).__name__}"
        )
    if len(P.kernel_shape) != ndim:
        want = "(n_out, n_in)" if layer == "linear" else "(c_out, c_in, kh, kw)"
        raise ValueError(
            f"{layer} needs kernels packed from weights of shape {want}; these kernels have shape "
            f"{P.kernel_shape}"
        )


def _split_input(x, shape: tuple[int, ...], layer: str):
    """Return (flat indices, values, is_sparse) of the activations the layer multiplies."""
    if isinstance(x, SparseActivation):
        if x.shape != shape:
            raise ValueError(
                f"{layer}: the sparse activation has shape {x.shape}, expected {shape}"
            )
        return x.indices, x.values, True
    x = np.asarray(x)
    if x.shape != shape:
        raise ValueError(f"{layer}: x has shape {x.shape}, expected {shape}")
    return np.arange(x.size), x.ravel(), False


def linear(x, P: PackedKernels) -> np.ndarray:
    """A linear layer ``y = W @ x`` on packed weights.

    Args:
        x: dense ``(n_in,)`` activation (sparse-dense path) or a
            :class:`~compsparse.kwta.SparseActivation` of shape ``(n_in,)`` (sparse-sparse path).
        P: kernels packed from ``W`` of shape ``(n_out, n_in)``.

    Returns:
        ``(n_out,)`` in :func:`accumulator_dtype` of the inputs (int64 for integers).
    """
    _check_packed(P, 1, "linear")
    idx, a, _ = _split_input(x, P.kernel_shape, "linear")
    acc = accumulator_dtype(a.dtype, P.values.dtype)
    products = P.values[:, idx].astype(acc) * a.astype(acc)[None, :]  # Multiply: (n_groups, m)
    targets = P.kernel_index()[:, idx]  # Route: each product's kernel
    y = np.zeros(P.n_groups * P.n_per_group, acc)
    np.add.at(y, targets, products)  # Sum
    return y[: P.n_kernels]


def _pair(v, name: str) -> tuple[int, int]:
    pair = (v, v) if np.isscalar(v) else tuple(v)
    if len(pair) != 2 or any(isinstance(n, bool) or int(n) != n for n in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
    return int(pair[0]), int(pair[1])


def conv2d_output_shape(in_shape, kernel_shape, stride=1, padding=0) -> tuple[int, int]:
    """``(oh, ow)`` of a conv of a ``(c, h, w)`` input with ``(c, kh, kw)`` kernels."""
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    if sh < 1 or sw < 1 or ph < 0 or pw < 0:
        raise ValueError(
            f"stride must be >= 1 and padding >= 0, got stride={stride}, padding={padding}"
        )
    _, h, w = in_shape
    _, kh, kw = kernel_shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(
            f"a {kh}x{kw} kernel does not fit the {h}x{w} input with padding {padding}; "
            f"pad more or use a smaller kernel"
        )
    return oh, ow


def conv2d(x, P: PackedKernels, stride=1, padding=0) -> np.ndarray:
    """A 2-D convolution (cross-correlation, as in PyTorch) on packed kernels.

    Args:
        x: dense ``(c_in, h, w)`` activation (sparse-dense path) or a
            :class:`~compsparse.kwta.SparseActivation` of that shape (sparse-sparse path).
        P: kernels packed from weights ``(c_out, c_in, kh, kw)``.
        stride, padding: ints or ``(vertical, horizontal)`` pairs; padding is with zeros.

    Returns:
        ``(c_out, oh, ow)`` in :func:`accumulator_dtype` of the inputs (int64 for integers).
    """
    _check_packed(P, 3, "conv2d")
    c_in = P.kernel_shape[0]
    in_shape = x.shape if isinstance(x, SparseActivation) else np.shape(x)
    if len(in_shape) != 3 or in_shape[0] != c_in:
        raise ValueError(
            f"conv2d: x must have shape ({c_in}, h, w) for these kernels, got {in_shape}"
        )
    oh, ow = conv2d_output_shape(in_shape, P.kernel_shape, stride, padding)
    idx, a, sparse = _split_input(x, tuple(in_shape), "conv2d")
    acc = accumulator_dtype(a.dtype, P.values.dtype)
    n_out = P.n_groups * P.n_per_group
    if sparse:
        y = _conv2d_sparse(idx, a.astype(acc), tuple(in_shape), P, acc, (oh, ow), stride, padding)
    else:
        y = _conv2d_dense(a.astype(acc).reshape(in_shape), P, acc, (oh, ow), stride, padding)
    return y.reshape(n_out, oh, ow)[: P.n_kernels]


def _windows(x: np.ndarray, kernel_hw, out_hw, stride, padding) -> np.ndarray:
    """``(oh*ow, c*kh*kw)`` view-built copy of every input window, C-order within a window."""
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    (kh, kw), (oh, ow) = kernel_hw, out_hw
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))
    win = win[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw]  # (c, oh, ow, kh, kw)
    return win.transpose(1, 2, 0, 3, 4).reshape(oh * ow, -1)


def _conv2d_dense(x, P, acc, out_hw, stride, padding) -> np.ndarray:
    """Sparse-dense: each window times every packed kernel, routed by kernel id."""
    patches = _windows(x, P.kernel_shape[1:], out_hw, stride, padding)  # (L, K)
    values = P.values.reshape(P.n_groups, -1).astype(acc)  # (G, K)
    products = patches[:, None, :] * values[None]  # Multiply: (L, G, K)
    targets = P.kernel_index().reshape(P.n_groups, -1)  # Route: (G, K)
    n_pos = patches.shape[0]
    y = np.zeros((P.n_groups * P.n_per_group, n_pos), acc)
    np.add.at(y, (targets[None], np.arange(n_pos)[:, None, None]), products)  # Sum
    return y


def _conv2d_sparse(idx, a, in_shape, P, acc, out_hw, stride, padding) -> np.ndarray:
    """Sparse-sparse: each selected activation reads one packed-weight row per kernel offset."""
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    (_, kh, kw), (oh, ow) = P.kernel_shape, out_hw
    c, i, j = np.unravel_index(idx, in_shape)  # (m,) each
    dy, dx = (d.ravel() for d in np.indices((kh, kw)))  # (T,) kernel offsets
    # the output position that sees activation (i, j) through offset (dy, dx)
    num_p = i[:, None] + ph - dy[None]  # (m, T)
    num_q = j[:, None] + pw - dx[None]
    hit = (num_p >= 0) & (num_q >= 0) & (num_p % sh == 0) & (num_q % sw == 0)
    hit &= (num_p // sh < oh) & (num_q // sw < ow)
    e, t = np.nonzero(hit)  # pairs (selected activation, offset) that land inside the output
    row = (c[e], dy[t], dx[t])  # the packed-weight row each pair reads
    products = P.values[(slice(None), *row)].astype(acc) * a[e][None]  # Multiply: (G, M)
    targets = P.kernel_index()[(slice(None), *row)]  # Route: (G, M)
    position = (num_p[e, t] // sh) * ow + num_q[e, t] // sw  # (M,)
    y = np.zeros((P.n_groups * P.n_per_group, oh * ow), acc)
    np.add.at(y, (targets, position[None]), products)  # Sum
    return y
