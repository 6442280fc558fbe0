"""Compiled pooling, activation and k-WTA (Select) for the CPU engine (numba).

The rules are those of :mod:`compsparse.quant` and :func:`compsparse.kwta`: max-pool over
non-overlapping windows (floor mode) with the bias added after pooling (a per-channel constant
commutes with max); then either requantisation ``clip((v * M + 2**(s-1)) >> s, 0, 127)``
(int8 pipeline) or ReLU (float32); then k-WTA with ties to the lower index.

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = [
    "activate",
    "kth_largest_key",
    "kwta_global",
    "kwta_local",
    "kwta_local_net",
    "pool_chw_wide",
    "pool_hwc",
]

_opts = dict(nogil=True, cache=True, error_model="numpy")


@nb.njit(**_opts)
def activate(v, c, quantized, multiplier, shift):
    """One output value: requantised int8 of an integer ``v`` (channel ``c``), or ReLU."""
    if quantized:
        s = np.int64(shift[c])
        y = (np.int64(v) * np.int64(multiplier[c]) + (np.int64(1) << (s - 1))) >> s
        return min(max(y, 0), 127)
    return v if v > 0 else 0  # +0.0 for float inputs, never -0.0


@nb.njit(**_opts)
def pool_chw_wide(acc, w_in, oh, ow, pool, bias, out, tmp):
    """Max-pool ``(c, oh, ow)`` accumulators stored wide (row stride ``w_in``), plus bias.

    Rows first (a contiguous, vectorised max of ``pool`` input rows), then columns.

    Args:
        acc: ``(c, >= (oh - 1) * w_in + ow)`` from :func:`.kernels.conv_taps_sd`.
        out: ``(c, oh // pool, ow // pool)`` (the accumulator dtype), overwritten.
        tmp: ``(>= ow,)`` scratch of the accumulator dtype.
    """
    ph, pw = oh // pool, ow // pool
    width = pw * pool
    for c in range(acc.shape[0]):
        b = bias[c]
        for i in range(ph):
            first = acc[c, i * pool * w_in : i * pool * w_in + width]
            for q in range(width):
                tmp[q] = first[q]
            for u in range(1, pool):
                row = acc[c, (i * pool + u) * w_in : (i * pool + u) * w_in + width]
                for q in range(width):
                    tmp[q] = max(tmp[q], row[q])
            dst = out[c, i]
            if pool == 2:  # the network's case: a stride-2 pair max LLVM vectorises
                for j in range(pw):
                    dst[j] = max(tmp[2 * j], tmp[2 * j + 1]) + b
            else:
                for j in range(pw):
                    m = tmp[j * pool]
                    for v in range(1, pool):
                        m = max(m, tmp[j * pool + v])
                    dst[j] = m + b
    return out


@nb.njit(**_opts)
def pool_hwc(acc, oh, ow, c_out, pool, bias, out, tmp, quantized, multiplier, shift, act):
    """Max-pool channels-last ``(oh, ow * c_pad)`` accumulators, plus bias, into ``(c, ...)``,
    and activate them (:func:`activate`) on the way.

    The max runs over contiguous channel runs (vectorised) into ``tmp``; only the final writes
    go channels-first, the pooled value and its activation in the same pass.

    Args:
        acc: ``(oh, ow * c_pad)`` from the sparse-sparse conv kernels; ``c_pad >= c_out``.
        out, act: ``(c_out, oh // pool, ow // pool)``, overwritten: pooled accumulators
            (the accumulator dtype) and activations.
        tmp: ``(>= c_pad,)`` scratch of the accumulator dtype.
    """
    c_pad = acc.shape[1] // ow
    for i in range(oh // pool):
        for j in range(ow // pool):
            first = acc[i * pool, j * pool * c_pad : j * pool * c_pad + c_out]
            for c in range(c_out):
                tmp[c] = first[c]
            for u in range(pool):
                for v in range(pool):
                    col = (j * pool + v) * c_pad
                    src = acc[i * pool + u, col : col + c_out]
                    for c in range(c_out):
                        tmp[c] = max(tmp[c], src[c])
            for c in range(c_out):
                value = tmp[c] + bias[c]
                out[c, i, j] = value
                act[c, i, j] = activate(value, c, quantized, multiplier, shift)
    return out


@nb.njit(**_opts)
def kwta_local(act, k, ch, val):
    """k winners of each row of ``act`` ``(n_pix, c)`` (a pixel's channels); ties to lower c.

    Keeps a small list sorted by value (descending; equal values in channel order) and inserts
    a channel only if it beats the current k-th, so a later equal value never displaces an
    earlier one.

    Args:
        act: ``(n_pix, c)``, any strides (pass ``a.T`` for channels-first storage).
        ch, val: ``(n_pix * k,)`` outputs: pixel ``p``'s winners at ``p*k : p*k+k``.
    """
    for p in range(act.shape[0]):
        base = p * k
        n = 0
        for c in range(act.shape[1]):
            v = act[p, c]
            if n < k:
                pos = n
                n += 1
            elif v > val[base + k - 1]:
                pos = k - 1
            else:
                continue
            while pos > 0 and val[base + pos - 1] < v:
                val[base + pos] = val[base + pos - 1]
                ch[base + pos] = ch[base + pos - 1]
                pos -= 1
            val[base + pos] = v
            ch[base + pos] = c
    return ch, val


@nb.njit(**_opts)
def kth_largest_key(keys, k):
    """The k-th largest of integer ``keys`` (1 <= k <= n), by bisection on the value range.

    Each step counts ``keys >= mid`` in one vectorised pass, so the cost is
    ``n * log2(range)`` compares and no branches that depend on the data.
    """
    lo = np.int64(keys[0])
    hi = lo
    for i in range(keys.shape[0]):
        lo = min(lo, np.int64(keys[i]))
        hi = max(hi, np.int64(keys[i]))
    probe = np.empty(1, keys.dtype)  # mid in the keys' own type: compares stay narrow
    while lo < hi:
        # ceil((lo + hi) / 2) without forming lo + hi or hi - lo (float keys span all int64)
        probe[0] = (lo >> 1) + (hi >> 1) + ((lo | hi) & 1)
        mid = probe[0]
        count = 0
        for i in range(keys.shape[0]):
            count += keys[i] >= mid
        if count >= k:
            lo = np.int64(mid)
        else:
            hi = np.int64(mid) - 1
    return lo


@nb.njit(**_opts)
def kwta_global(values, keys, k, idx, val):
    """The k largest of ``values`` by their order ``keys``; ties to the lower index.

    Args:
        values: ``(n,)``; keys: ``(n,)`` integers ordered like ``values`` (the values themselves
            for integers, the float32 bits for non-negative floats).
        idx, val: ``(>= k,)`` outputs: winner positions, ascending, and their values.

    Returns:
        ``k``.
    """
    t = kth_largest_key(keys, k)
    above = 0
    for i in range(keys.shape[0]):
        above += np.int64(keys[i]) > t
    ties = k - above  # how many of the values equal to the threshold win: the first ones
    m = 0
    for i in range(values.shape[0]):
        key = np.int64(keys[i])
        if key > t or (key == t and ties > 0):
            if key == t:
                ties -= 1
            idx[m] = i
            val[m] = values[i]
            m += 1
    return m


@nb.njit(**_opts)
def kwta_local_net(act, order, k, ch, val, top, new, p_lo, p_hi):
    """Local k-WTA of non-negative ``act`` ``(c, n_pix)``, all pixels at once (vectorised).

    Each value becomes one integer *key*, ``order * c + (c - 1 - channel)``: keys sort like
    (value, then lower channel first), and no two channels of a pixel share one. Every pixel
    keeps its top ``k`` keys sorted; each channel, in order, is pushed through the list by
    ``k`` steps of ``max`` and ``min``, one vectorised pass over the pixels per step. No
    branches, and ties go to the lower channel as in :func:`kwta_local`.

    Args:
        act: ``(c, n_pix)`` values >= 0 (ReLU or requantised outputs); ``order``: the same as
            integers that sort like them (``act`` itself for integers, the int32 bits of
            float32).
        ch, val: ``(n_pix * k,)`` outputs as :func:`kwta_local`; only pixels
            ``p_lo..p_hi - 1`` are selected and written (a thread's share; ``0, n_pix``: all).
        top, new: ``(k, n_pix)`` and ``(n_pix,)`` key scratch, an integer type that holds
            ``(max(order) + 1) * c`` (int16 beside int8 values: 32 keys per vector). Only
            their columns ``p_lo..p_hi - 1`` are touched.
    """
    n_ch = act.shape[0]
    n = p_hi - p_lo
    # zero-based loops over slices: numba then knows no index is negative (no wrap-around
    # code), and LLVM vectorises
    fresh = new[p_lo:p_hi]
    for r in range(k):
        t = top[r, p_lo:p_hi]
        for p in range(n):
            t[p] = -1  # below every key: the first k channels fill the list
    for c in range(n_ch):
        row = order[c, p_lo:p_hi]
        tie = n_ch - 1 - c
        for p in range(n):
            fresh[p] = row[p] * n_ch + tie
        for r in range(k):
            t = top[r, p_lo:p_hi]
            for p in range(n):
                a, b = fresh[p], t[p]
                t[p] = max(a, b)
                fresh[p] = min(a, b)  # the smaller key travels down the list
    for p in range(p_lo, p_hi):
        for r in range(k):
            c = n_ch - 1 - top[r, p] % n_ch
            ch[p * k + r] = c
            val[p * k + r] = act[c, p]
    return ch, val
