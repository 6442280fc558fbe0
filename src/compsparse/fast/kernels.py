"""Compiled Multiply-Route-Sum kernels (numba) on the CPU layouts of :mod:`.layout`.

One sample per call; every function writes into an output array the caller owns (no allocation
on the hot path) and returns it. The same source compiles for two modes, chosen by the dtypes:

* float32: float32 weights and activations, float32 accumulators;
* int8: int8 weights and activations, **int32** accumulators (numba widens ``int8 * int8`` to
  int64; the store into an int32 array lets LLVM narrow the lanes back to 32 bits). Exact.
  Held in **int16** arrays (the int8 values widened once, as :class:`~compsparse.fast.FastNet`
  does), pairs of products are summed in int16 (:func:`mac2`), so LLVM multiplies 32 lanes per
  AVX-512 instruction instead of 16 and widens only the pair sums to int32. Exact too: with
  ``|w| <= 127`` and ``|a| <= 128`` a pair sum is at most 32,512 in magnitude.

Loop order is what makes these fast (see the chapter): the innermost loop always runs over a
contiguous run of memory, so LLVM vectorises it, and where several weight rows land on the same
outputs (the ``k`` winners of one pixel) four rows are summed per pass over the outputs, so the
accumulators are loaded and stored once per four rows instead of once per row. The routed
(packed) kernels cannot vectorise: each product has its own destination (a scatter), which is
exactly the step an FPGA does in its wiring and a CPU does one element at a time.

Sparse-sparse conv inputs are *pixel lists*: the winners of pixel ``pix = i * w + j`` are
``ch[pstart[pix]:pstart[pix+1]]`` with values ``val[...]`` (any order).

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba.core import types
from numba.extending import overload

__all__ = [
    "conv_dense_rows_ss",
    "conv_routed_ss",
    "conv_taps_sd",
    "linear_dense_rows_ss",
    "linear_routed_sd",
    "linear_routed_ss",
    "mac2",
    "mul",
    "taps_plane",
]

# contract: let LLVM fuse a*b+c into one FMA (a rounding difference within float tolerance).
_opts = dict(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy")


def _int16(*numba_types) -> bool:
    return all(isinstance(t, types.Integer) and t.bitwidth == 16 for t in numba_types)


def mac2(a0, b0, a1, b1):
    """``a0 * b0 + a1 * b1``; in compiled code, summed in int16 when all four are int16."""
    return a0 * b0 + a1 * b1


def mul(a, b):
    """``a * b``; in compiled code, an int16 product when both are int16."""
    return a * b


@overload(mac2)
def _mac2(a0, b0, a1, b1):
    if _int16(a0, b0, a1, b1):
        # int8 values in int16 lanes (the engine's convention): the pair sum fits in int16,
        # and truncating to it tells LLVM that 16-bit multiplies are enough
        return lambda a0, b0, a1, b1: np.int16(a0 * b0 + a1 * b1)
    return lambda a0, b0, a1, b1: a0 * b0 + a1 * b1


@overload(mul)
def _mul(a, b):
    if _int16(a, b):
        return lambda a, b: np.int16(a * b)
    return lambda a, b: a * b


@nb.njit(**_opts)
def linear_routed_ss(idx, val, m, rows, route, y):
    """Sparse-sparse linear, packed: ``y[route[r, g]] += a * rows[r, g]`` per winner.

    Args:
        idx, val: ``(>= m,)`` winner positions (int) and values; the first ``m`` are used.
        rows, route: :class:`~.layout.RoutedRows` arrays ``(n_in, G)``.
        y: ``(n_out_pad,)`` accumulators, overwritten.
    """
    y[:] = 0
    g_count = rows.shape[1]
    for t in range(m):
        r = idx[t]
        a = val[t]
        for g in range(g_count):
            y[route[r, g]] += a * rows[r, g]
    return y


@nb.njit(**_opts)
def linear_routed_sd(x, rows, route, y):
    """Sparse-dense linear, packed: every input is selected. ``x`` ``(n_in,)``."""
    y[:] = 0
    g_count = rows.shape[1]
    for r in range(x.shape[0]):
        a = x[r]
        for g in range(g_count):
            y[route[r, g]] += a * rows[r, g]
    return y


@nb.njit(**_opts)
def linear_dense_rows_ss(idx, val, m, rows, y):
    """Sparse-sparse linear on unpacked rows ``(n_in, n_out_pad)``: activation sparsity only."""
    y[:] = 0
    n = rows.shape[1]
    t = 0
    while t + 4 <= m:
        r0, r1, r2, r3 = rows[idx[t]], rows[idx[t + 1]], rows[idx[t + 2]], rows[idx[t + 3]]
        a0, a1, a2, a3 = val[t], val[t + 1], val[t + 2], val[t + 3]
        for o in range(n):
            y[o] += mac2(a0, r0[o], a1, r1[o]) + mac2(a2, r2[o], a3, r3[o])
        t += 4
    while t < m:
        r0 = rows[idx[t]]
        a0 = val[t]
        for o in range(n):
            y[o] += a0 * r0[o]
        t += 1
    return y


@nb.njit(**_opts)
def taps_plane(xflat, t, t_end, offset, weight, acc):
    """One output kernel's wide plane: ``acc[n] = sum_t weight[t] * xflat[offset[t] + n]``.

    Four taps per pass over ``acc``, so the accumulators are loaded and stored once per four
    taps; each tap reads one contiguous run of the input.
    """
    n_len = acc.shape[0]
    for n in range(n_len):
        acc[n] = 0
    while t + 4 <= t_end:
        x0 = xflat[offset[t] : offset[t] + n_len]
        x1 = xflat[offset[t + 1] : offset[t + 1] + n_len]
        x2 = xflat[offset[t + 2] : offset[t + 2] + n_len]
        x3 = xflat[offset[t + 3] : offset[t + 3] + n_len]
        w0, w1, w2, w3 = weight[t], weight[t + 1], weight[t + 2], weight[t + 3]
        for n in range(n_len):
            acc[n] += mac2(w0, x0[n], w1, x1[n]) + mac2(w2, x2[n], w3, x3[n])
        t += 4
    while t < t_end:
        x0 = xflat[offset[t] : offset[t] + n_len]
        w0 = weight[t]
        for n in range(n_len):
            acc[n] += w0 * x0[n]
        t += 1
    return acc


@nb.njit(**_opts)
def conv_taps_sd(xflat, start, offset, weight, out):
    """Sparse-dense conv: each output kernel adds its own taps, as whole shifted planes.

    "Wide" outputs: position ``n = p * w + q`` of an input ``(c_in, h, w)`` flattened to
    ``xflat``, so that each tap is one contiguous multiply-add of length
    ``L = (oh - 1) * w + ow``; the columns ``q >= ow`` of each row are junk and are never read.

    Args:
        xflat: ``(c_in * h * w,)`` input.
        start, offset, weight: :class:`~.layout.Taps` arrays.
        out: ``(n_out, L)`` accumulators, overwritten.
    """
    for o in range(out.shape[0]):
        taps_plane(xflat, start[o], start[o + 1], offset, weight, out[o])
    return out


@nb.njit(**_opts)
def _columns(j, kw, ow):
    """Output columns ``qlo..qhi`` an input column ``j`` reaches, and the first stamp column."""
    qlo = max(j - kw + 1, 0)
    qhi = min(j, ow - 1)
    return qlo, qhi, kw - 1 - j + qlo


@nb.njit(**_opts)
def _stamp7(ch, val, e, rows, i, kh, oh, s0, n_len, out, d0):
    """Seven winners of one pixel stamped in one pass per kernel row (one load and store of
    the outputs instead of two)."""
    a0, a1, a2, a3 = val[e], val[e + 1], val[e + 2], val[e + 3]
    a4, a5, a6 = val[e + 4], val[e + 5], val[e + 6]
    for dy in range(kh):
        p = i - dy
        if p < 0 or p >= oh:
            continue
        dst = out[p, d0 : d0 + n_len]
        r0 = rows[ch[e] * kh + dy, s0 : s0 + n_len]
        r1 = rows[ch[e + 1] * kh + dy, s0 : s0 + n_len]
        r2 = rows[ch[e + 2] * kh + dy, s0 : s0 + n_len]
        r3 = rows[ch[e + 3] * kh + dy, s0 : s0 + n_len]
        r4 = rows[ch[e + 4] * kh + dy, s0 : s0 + n_len]
        r5 = rows[ch[e + 5] * kh + dy, s0 : s0 + n_len]
        r6 = rows[ch[e + 6] * kh + dy, s0 : s0 + n_len]
        for n in range(n_len):
            left = mac2(a0, r0[n], a1, r1[n]) + mac2(a2, r2[n], a3, r3[n])
            dst[n] += left + (mac2(a4, r4[n], a5, r5[n]) + mul(a6, r6[n]))


@nb.njit(**_opts)
def conv_dense_rows_ss(pstart, ch, val, in_hw, rows, kh, kw, c_out, out, i_lo, i_hi):
    """Sparse-sparse conv on unpacked stamp rows: each winner stamps its kernel slice.

    A winner ``(c, i, j)`` adds ``a * W[:, c, dy, dx]`` to output pixel ``(i - dy, j - dx)``;
    for one ``dy`` the ``kw`` output pixels are neighbours, so with channels-last outputs and
    stamp-ordered rows that is one contiguous run of ``kw * c_out`` multiply-adds. The ``k``
    winners of a pixel share the run, four of them per pass.

    Args:
        pstart, ch, val: pixel lists of the input ``(c_in, h, w)``; ``in_hw = (h, w)``.
        rows: :class:`~.layout.DenseRows` values ``(c_in * kh, kw * c_out)``.
        out: ``(oh, ow * c_out)`` accumulators, overwritten.
        i_lo, i_hi: the input rows whose winners are stamped (``0, h``: all; a thread stamps
            a band of rows into its own accumulators, and the bands' sum is the conv).
    """
    h, w = in_hw
    oh = h - kh + 1
    ow = w - kw + 1
    out[:, :] = 0
    for i in range(i_lo, i_hi):
        for j in range(w):
            qlo, qhi, dxr0 = _columns(j, kw, ow)
            if qlo > qhi:
                continue
            n_len = (qhi - qlo + 1) * c_out
            s0 = dxr0 * c_out
            e0, e1 = pstart[i * w + j], pstart[i * w + j + 1]
            if e1 - e0 == 7:  # the network's k: all seven winners in one pass
                _stamp7(ch, val, e0, rows, i, kh, oh, s0, n_len, out, qlo * c_out)
                continue
            for dy in range(kh):
                p = i - dy
                if p < 0 or p >= oh:
                    continue
                dst = out[p, qlo * c_out : qlo * c_out + n_len]
                e = e0
                while e + 4 <= e1:
                    r0 = rows[ch[e] * kh + dy, s0 : s0 + n_len]
                    r1 = rows[ch[e + 1] * kh + dy, s0 : s0 + n_len]
                    r2 = rows[ch[e + 2] * kh + dy, s0 : s0 + n_len]
                    r3 = rows[ch[e + 3] * kh + dy, s0 : s0 + n_len]
                    a0, a1, a2, a3 = val[e], val[e + 1], val[e + 2], val[e + 3]
                    for n in range(n_len):
                        dst[n] += mac2(a0, r0[n], a1, r1[n]) + mac2(a2, r2[n], a3, r3[n])
                    e += 4
                if e + 3 == e1:  # the remainder in one pass too: k = 7 is 4 + 3
                    r0 = rows[ch[e] * kh + dy, s0 : s0 + n_len]
                    r1 = rows[ch[e + 1] * kh + dy, s0 : s0 + n_len]
                    r2 = rows[ch[e + 2] * kh + dy, s0 : s0 + n_len]
                    a0, a1, a2 = val[e], val[e + 1], val[e + 2]
                    for n in range(n_len):
                        dst[n] += mac2(a0, r0[n], a1, r1[n]) + mul(a2, r2[n])
                elif e + 2 == e1:
                    r0 = rows[ch[e] * kh + dy, s0 : s0 + n_len]
                    r1 = rows[ch[e + 1] * kh + dy, s0 : s0 + n_len]
                    a0, a1 = val[e], val[e + 1]
                    for n in range(n_len):
                        dst[n] += mac2(a0, r0[n], a1, r1[n])
                elif e + 1 == e1:
                    r0 = rows[ch[e] * kh + dy, s0 : s0 + n_len]
                    a0 = val[e]
                    for n in range(n_len):
                        dst[n] += a0 * r0[n]
    return out


@nb.njit(**_opts)
def conv_routed_ss(pstart, ch, val, in_hw, values, route, kh, kw, c_out, out, i_lo, i_hi):
    """Sparse-sparse conv on packed stamp rows: ``kw * G`` routed products per winner and row.

    Same traversal as :func:`conv_dense_rows_ss`, but each winner reads its packed row
    (``G`` weights per offset instead of ``c_out``) and adds every product at its own routed
    output index: the packed MAC count, one scalar at a time.

    Args:
        values, route: :class:`~.layout.RoutedRows` arrays ``(c_in * kh, kw * G)``.
        c_out: the padded output channels (``RoutedRows.n_out_pad``).
        out: ``(oh, ow * c_out)`` accumulators, overwritten.
        i_lo, i_hi: the input rows whose winners are stamped, as :func:`conv_dense_rows_ss`.
    """
    h, w = in_hw
    oh = h - kh + 1
    ow = w - kw + 1
    g_count = values.shape[1] // kw
    out[:, :] = 0
    for i in range(i_lo, i_hi):
        for j in range(w):
            qlo, qhi, dxr0 = _columns(j, kw, ow)
            if qlo > qhi:
                continue
            f0 = dxr0 * g_count
            f1 = (dxr0 + qhi - qlo + 1) * g_count
            base = (j - kw + 1) * c_out  # route dxr*c_out+o lands on column q = j - kw + 1 + dxr
            e0, e1 = pstart[i * w + j], pstart[i * w + j + 1]
            for dy in range(kh):
                p = i - dy
                if p < 0 or p >= oh:
                    continue
                dst = out[p]
                for e in range(e0, e1):
                    r = ch[e] * kh + dy
                    a = val[e]
                    for f in range(f0, f1):
                        dst[base + route[r, f]] += a * values[r, f]
    return out
