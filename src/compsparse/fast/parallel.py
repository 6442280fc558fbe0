"""One word on several threads: how the engine shares a layer's work (numba ``prange``).

At batch 1 there is no batch to split, so the threads share each layer. Two rules make that pay
on a CPU, where a thread launch costs a few microseconds (OpenMP) and a layer a few tens:

* every thread's loops stay as long as on one thread (split whole output channels, or whole
  input rows, never the contiguous runs the kernels vectorise), and
* no two threads write into one cache line: each has its own scratch and, for the sparse-sparse
  conv, its own accumulators (the conv is the sum of the threads' partial stamps).

:func:`conv_taps_sd_split` and :func:`conv_ss_split` are the per-layer forms the benchmark times;
:func:`compsparse.fast.forward.forward_split` applies the same splits to the whole network.

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

from functools import cache

import numba as nb
import numpy as np

from .kernels import conv_dense_rows_ss, conv_routed_ss, taps_plane

__all__ = [
    "add_into",
    "band",
    "conv_ss_split",
    "conv_taps_sd_split",
    "split_threads_ok",
    "tap_band",
]

_opts = dict(nogil=True, cache=True, error_model="numpy")


@nb.njit(**_opts)
def band(part, parts, n):
    """Items ``lo..hi - 1`` of thread ``part`` when ``n`` items are shared by ``parts``."""
    return n * part // parts, n * (part + 1) // parts


@nb.njit(**_opts)
def tap_band(start, part, parts):
    """Output channels ``lo..hi - 1`` of thread ``part``: equal shares of the taps (the work).

    ``start``: ``(n_out + 1,)`` tap offsets per output channel (:class:`~.layout.Taps`).
    """
    n_out = start.shape[0] - 1
    total = start[n_out] - start[0]
    lo = 0
    while lo < n_out and (start[lo] - start[0]) * parts < total * part:
        lo += 1
    hi = lo
    while hi < n_out and (start[hi] - start[0]) * parts < total * (part + 1):
        hi += 1
    return lo, (n_out if part == parts - 1 else hi)


@nb.njit(parallel=True, **_opts)
def conv_taps_sd_split(xflat, start, offset, weight, out, parts):
    """:func:`~.kernels.conv_taps_sd` with the output channels shared by ``parts`` threads."""
    for part in nb.prange(parts):
        lo, hi = tap_band(start, part, parts)
        for o in range(lo, hi):
            taps_plane(xflat, start[o], start[o + 1], offset, weight, out[o])
    return out


@nb.njit(**_opts)
def add_into(total, more):
    """``total += more`` for 2-D arrays of one shape, row by row (contiguous, vectorised)."""
    for i in range(total.shape[0]):
        a, b = total[i], more[i]
        for n in range(a.shape[0]):
            a[n] += b[n]


@nb.njit(parallel=True, **_opts)
def conv_ss_split(pstart, ch, val, in_hw, values, route, kh, kw, c_out, acc, parts):
    """Sparse-sparse conv with the input rows shared by ``parts`` threads.

    Each thread stamps the winners of its band of input rows into its own accumulators
    ``acc[part]`` ``(oh, ow * c_out)``; their sum, left in ``acc[0]``, is the conv. ``route``
    empty (size 0): :func:`~.kernels.conv_dense_rows_ss` on ``values``, else
    :func:`~.kernels.conv_routed_ss`.
    """
    for part in nb.prange(parts):
        i0, i1 = band(part, parts, in_hw[0])
        if route.size == 0:
            conv_dense_rows_ss(pstart, ch, val, in_hw, values, kh, kw, c_out, acc[part], i0, i1)
        else:
            conv_routed_ss(pstart, ch, val, in_hw, values, route, kh, kw, c_out, acc[part], i0, i1)
    total = acc[0]
    for t in range(1, parts):
        add_into(total, acc[t])
    return total


@nb.njit(parallel=True, **_opts)
def _touch(a):
    for i in nb.prange(a.shape[0]):
        a[i] += 1
    return a


@cache
def split_threads_ok() -> bool:
    """Whether numba's threading layer launches parallel work cheaply (OpenMP or TBB: a few
    microseconds). Its fallback, the workqueue layer, takes tens of microseconds per launch,
    more than splitting a word saves, so the engine then keeps one thread per word."""
    _touch(np.zeros(2))  # numba picks its threading layer at the first parallel call
    return nb.threading_layer() in ("omp", "tbb")
