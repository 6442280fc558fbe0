"""Drop-in compiled versions of ``cs.linear``, ``cs.conv2d``, ``cs.kwta`` and ``quant.maxpool``.

Same arguments and results as the numpy reference, for checking and for one-off use; each call
converts the weights to their CPU layout first, so for speed build the layout once
(:mod:`.layout`) or the whole network (:class:`.net.FastNet`). Two modes, picked by the dtypes:

* integers (weights in [-128, 127] and activations in [-128, 127]): int8 values, int32
  accumulators, **exactly** the reference's integers (returned as int32). The values travel in
  int16 arrays (pairs of products summed in int16, :func:`~.kernels.mac2`) unless a weight and
  an activation are both -128, where a pair sum could reach 2**15;
* anything else: float32 operands and accumulators (the reference computes in the inputs'
  precision, so results agree to float32 rounding).

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

import numpy as np

from ..kwta import SparseActivation
from ..ops import _pair, conv2d_output_shape
from ..packing import PackedKernels
from . import kernels as K
from . import select as S
from .layout import (
    conv_dense_rows,
    conv_routed_rows,
    conv_taps,
    linear_dense_rows,
    linear_routed_rows,
)
from .parallel import conv_ss_split, conv_taps_sd_split

__all__ = ["conv2d", "kwta", "linear", "maxpool"]

_STRATEGIES = ("routed", "rows")


def _is_int8(a: np.ndarray) -> bool:
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.integer):
        return False
    return a.size == 0 or (int(a.min()) >= -128 and int(a.max()) <= 127)


def _mode(P: PackedKernels, values: np.ndarray):
    """(weights, activation values, accumulator dtype) converted for the compiled kernels."""
    if _is_int8(P.values) and _is_int8(values):
        w = P.values.reshape(P.n_groups, -1).astype(np.int64)
        fan = int(np.abs(w).sum(axis=1).max(initial=0)) * 128
        if fan >= 2**31:
            raise OverflowError(
                "int32 accumulators could overflow for these weights; use cs.linear / cs.conv2d"
            )
        a = np.asarray(values)
        w_max = max(-int(P.values.min(initial=0)), int(P.values.max(initial=0)))
        a_max = max(-int(a.min(initial=0)), int(a.max(initial=0)))
        small = np.int16 if 2 * w_max * a_max < 2**15 else np.int8  # see kernels.mac2
        return P.values.astype(small), a.astype(small), np.dtype(np.int32)
    return P.values.astype(np.float32), np.asarray(values, np.float32), np.dtype(np.float32)


def _with_values(P: PackedKernels, values: np.ndarray) -> PackedKernels:
    return PackedKernels(values, P.kernel_ids, P.n_per_group, P.n_kernels)


def _check_strategy(strategy: str) -> None:
    if strategy not in _STRATEGIES:
        raise ValueError(f"strategy must be one of {_STRATEGIES}, got {strategy!r}")


def linear(x, P: PackedKernels, strategy: str = "routed") -> np.ndarray:
    """``cs.linear`` compiled: ``(n_in,)`` dense (sparse-dense) or SparseActivation (sparse-sparse).

    Args:
        strategy: sparse-sparse kernel, ``"routed"`` (packed rows) or ``"rows"`` (unpacked rows).

    Returns:
        ``(n_out,)`` int32 (integer mode) or float32.
    """
    _check_strategy(strategy)
    if not isinstance(P, PackedKernels) or len(P.kernel_shape) != 1:
        raise ValueError("linear needs PackedKernels packed from weights (n_out, n_in)")
    n_in = P.kernel_shape[0]
    sparse = isinstance(x, SparseActivation)
    if (x.shape if sparse else np.shape(x)) != (n_in,):
        raise ValueError(f"linear: input has shape {np.shape(x)}, expected ({n_in},)")
    vals = x.values if sparse else np.asarray(x).ravel()
    w, a, acc = _mode(P, vals)
    Pm = _with_values(P, w)
    y = np.empty(P.n_groups * P.n_per_group, acc)
    if not sparse:
        L = linear_routed_rows(Pm)
        K.linear_routed_sd(a, L.values, L.route, y)
    elif strategy == "routed":
        L = linear_routed_rows(Pm)
        K.linear_routed_ss(x.indices, a, x.nnz, L.values, L.route, y)
    else:
        K.linear_dense_rows_ss(x.indices, a, x.nnz, linear_dense_rows(Pm).values, y)
    return y[: P.n_kernels]


def _pixel_lists(x: SparseActivation, padding) -> tuple:
    """Winners of a ``(c, h, w)`` SparseActivation grouped by pixel of the padded input."""
    (ph, pw), (_, h, w) = padding, x.shape
    c, i, j = np.unravel_index(x.indices, x.shape)
    hp, wp = h + 2 * ph, w + 2 * pw
    pix = (i + ph) * wp + (j + pw)
    order = np.argsort(pix, kind="stable")
    counts = np.bincount(pix, minlength=hp * wp)
    pstart = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return pstart, c[order].astype(np.int64), order, (hp, wp)


def conv2d(
    x, P: PackedKernels, stride=1, padding=0, strategy: str = "rows", threads: int = 1
) -> np.ndarray:
    """``cs.conv2d`` compiled (stride 1 only): dense ``(c_in, h, w)`` or a SparseActivation.

    Args:
        strategy: sparse-sparse kernel, ``"rows"`` (unpacked stamp rows) or ``"routed"``.
        threads: threads sharing the layer (:mod:`compsparse.fast.parallel`): output channels
            (sparse-dense) or bands of input rows (sparse-sparse).

    Returns:
        ``(c_out, oh, ow)`` int32 (integer mode) or float32.
    """
    _check_strategy(strategy)
    if not isinstance(P, PackedKernels) or len(P.kernel_shape) != 3:
        raise ValueError("conv2d needs PackedKernels packed from weights (c_out, c_in, kh, kw)")
    if _pair(stride, "stride") != (1, 1):
        raise ValueError(
            f"compsparse.fast.conv2d runs stride 1 (the speech network's), got stride={stride}; "
            "use cs.conv2d for strided convolutions"
        )
    ph, pw = _pair(padding, "padding")
    sparse = isinstance(x, SparseActivation)
    in_shape = x.shape if sparse else np.shape(x)
    c_in, kh, kw = P.kernel_shape
    if len(in_shape) != 3 or in_shape[0] != c_in:
        raise ValueError(f"conv2d: x must have shape ({c_in}, h, w), got {in_shape}")
    oh, ow = conv2d_output_shape(in_shape, P.kernel_shape, 1, (ph, pw))
    vals = x.values if sparse else np.asarray(x)
    w, a, acc = _mode(P, vals)
    Pm = _with_values(P, w)
    n_pad = P.n_groups * P.n_per_group
    if not sparse:
        xp = np.ascontiguousarray(np.pad(a, ((0, 0), (ph, ph), (pw, pw))))
        hp, wp = xp.shape[1:]
        T = conv_taps(Pm, (hp, wp))
        wide = np.empty((P.n_kernels, (oh - 1) * wp + ow), acc)
        if threads > 1:
            conv_taps_sd_split(xp.ravel(), T.start, T.offset, T.weight, wide, threads)
        else:
            K.conv_taps_sd(xp.ravel(), T.start, T.offset, T.weight, wide)
        full = np.zeros((P.n_kernels, oh * wp), acc)
        full[:, : wide.shape[1]] = wide
        return full.reshape(P.n_kernels, oh, wp)[:, :, :ow]
    pstart, ch, order, hw = _pixel_lists(x, (ph, pw))
    val = np.ascontiguousarray(a[order])
    R = conv_dense_rows(Pm) if strategy == "rows" else conv_routed_rows(Pm)
    if threads > 1:
        route = R.route if strategy == "routed" else np.zeros((0, 0), np.int16)
        accs = np.empty((threads, oh, ow * n_pad), acc)
        out = conv_ss_split(pstart, ch, val, hw, R.values, route, kh, kw, n_pad, accs, threads)
    elif strategy == "rows":
        out = np.empty((oh, ow * n_pad), acc)
        K.conv_dense_rows_ss(pstart, ch, val, hw, R.values, kh, kw, n_pad, out, 0, hw[0])
    else:
        out = np.empty((oh, ow * n_pad), acc)
        K.conv_routed_ss(pstart, ch, val, hw, R.values, R.route, kh, kw, n_pad, out, 0, hw[0])
    return out.reshape(oh, ow, n_pad).transpose(2, 0, 1)[: P.n_kernels]


def _order_keys(x: np.ndarray) -> np.ndarray:
    """Integers that sort like ``x`` (floats: their bits, negatives flipped; -0.0 as 0.0)."""
    if np.issubdtype(x.dtype, np.integer):
        return x.astype(np.int64)
    x = x.astype(np.float64) + 0.0  # -0.0 + 0.0 is +0.0: equal values get equal keys
    bits = x.view(np.int64)
    return np.where(bits < 0, bits ^ np.int64(0x7FFFFFFFFFFFFFFF), bits)


def kwta(x, k: int, axis: int | None = None) -> SparseActivation:
    """``cs.kwta`` compiled: global (``axis=None``) or local along ``axis``; ties to lower index."""
    x = np.asarray(x)
    if x.dtype == bool or not (
        np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
    ):
        raise ValueError(f"x must be a real or integer array, got dtype {x.dtype}")
    if x.size == 0:
        raise ValueError("x is empty: k-WTA needs at least one candidate")
    if np.issubdtype(x.dtype, np.floating) and np.isnan(x).any():
        raise ValueError("x contains NaN; k-WTA cannot rank NaN")
    if axis is not None:
        if isinstance(axis, bool) or int(axis) != axis or not -x.ndim <= axis < x.ndim:
            raise ValueError(f"axis must be None or an int in [{-x.ndim}, {x.ndim}), got {axis!r}")
        axis = int(axis) % x.ndim
    n = x.size if axis is None else x.shape[axis]
    if isinstance(k, bool) or int(k) != k or not 1 <= k <= n:
        raise ValueError(f"k must be an int with 1 <= k <= {n}, got {k!r}")
    k = int(k)
    if axis is None:
        flat = np.ascontiguousarray(x.ravel())
        idx = np.empty(k, np.int64)
        val = np.empty(k, x.dtype)
        S.kwta_global(flat, _order_keys(flat), k, idx, val)
        return SparseActivation(idx, val, x.shape)
    moved = np.ascontiguousarray(np.moveaxis(x, axis, -1))  # (..., n): one row per position
    rows = moved.reshape(-1, n)
    ch = np.empty(rows.shape[0] * k, np.int64)
    val = np.empty(rows.shape[0] * k, x.dtype)
    S.kwta_local(rows, k, ch, val)
    keep = np.zeros(rows.shape, bool)
    keep[np.repeat(np.arange(rows.shape[0]), k), ch] = True
    mask = np.moveaxis(keep.reshape(moved.shape), -1, axis)
    indices = np.flatnonzero(mask)
    return SparseActivation(indices, x.ravel()[indices], x.shape)


def maxpool(x, size: int) -> np.ndarray:
    """``quant.maxpool`` compiled for ``(c, h, w)``: max over ``size x size`` windows (floor)."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"maxpool needs a (c, h, w) array, got shape {x.shape}")
    if size == 1:
        return x
    c, h, w = x.shape
    out = np.empty((c, h // size, w // size), x.dtype)
    flat = np.ascontiguousarray(x).reshape(c, h * w)
    S.pool_chw_wide(flat, w, h, w, size, np.zeros(c, x.dtype), out, np.empty(w, x.dtype))
    return out
