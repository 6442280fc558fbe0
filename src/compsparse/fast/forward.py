"""The whole speech network as one compiled call: conv, conv, linear, linear (numba).

One call per word (or per chunk of a batch, one chunk per thread) avoids paying Python and
dispatch overhead between layers. Each layer's variant is chosen at run time by small integers:

* ``k > 0`` on a layer means its *output* goes through k-WTA, so the next layer runs
  sparse-sparse on the winners; ``k == 0`` passes the dense activation on (sparse-dense).
* ``strat`` picks the sparse-sparse kernel of conv2 and linear1: ``ROWS`` (unpacked rows:
  activation sparsity only, vectorised) or ``ROUTED`` (packed rows, one routed product at a time).

Arrays a variant does not use are passed as empty placeholders. Every intermediate goes into
buffers from :func:`buffers`, so a single-word caller can read them back (tests compare them with
:meth:`compsparse.quant.QuantModel.forward_layers`).

Two entry points share the same stages: :func:`forward` runs words one after the other on one
thread (a batch is split across threads by the caller); :func:`forward_split` runs one word on
``parts`` threads (batch 1 on several cores), in two launches of a few microseconds each (with
OpenMP): conv1 with its pooling and activation split by output channels; then conv1's k-WTA and
the sparse-sparse conv2 split by bands of input rows, each thread selecting the winners of its
own pixels and stamping them into its own accumulators (the conv is their sum). The rules behind
these splits are in :mod:`.parallel`.

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .kernels import (
    conv_dense_rows_ss,
    conv_routed_ss,
    linear_dense_rows_ss,
    linear_routed_sd,
    linear_routed_ss,
    taps_plane,
)
from .parallel import add_into, band, tap_band
from .select import (
    activate,
    kwta_global,
    kwta_local_net,
    pool_chw_wide,
    pool_hwc,
)

__all__ = ["ROUTED", "ROWS", "buffers", "forward", "forward_split"]

ROWS, ROUTED = 1, 2
_opts = dict(nogil=True, cache=True, error_model="numpy")

# positions in the tuple of buffers (module constants: numba reads them as literals)
X, WIDE1, POOLED1, OUT1, CH1, VAL1, PSTART1 = range(7)
ACC2, WIDE2, POOLED2, OUT2, CH2, VAL2, IDX2 = range(7, 14)
TOP1, NEW1, TOP2, NEW2, PTMP = range(14, 19)
Y3, OUT3, KEYS3, IDX3, VAL3, LOGITS = range(19, 25)


def buffers(dims, acc_dtype, act_dtype, parts: int = 1, linear1_dtype=None) -> tuple:
    """Scratch and intermediates of one word (numpy: allocated once, outside the hot loop).

    Args:
        dims: int64 array ``[h, w, c1, kh1, kw1, pool1, k1, c2, c2_pad, kh2, kw2, pool2, k2,
            n3, n3_pad, k3, n4_pad]``.
        acc_dtype, act_dtype: accumulators (float32 / int32) and activations (float32 /
            int16 holding int8 values).
        parts: threads of :func:`forward_split` (each has its own planes, accumulators and
            scratch).
        linear1_dtype: linear1's accumulators (default ``acc_dtype``; float32 for an int8
            layer whose sums are exact in float32).

    Returns:
        a tuple, in the order of the position constants (``X``, ``WIDE1``, ...).
    """
    h, w, c1, kh1, kw1, pool1, k1, c2, c2p, kh2, kw2, pool2, k2, n3, n3p, k3, n4p = (
        int(d) for d in dims
    )
    oh1, ow1 = h - kh1 + 1, w - kw1 + 1
    h2, w2 = oh1 // pool1, ow1 // pool1
    oh2, ow2 = h2 - kh2 + 1, w2 - kw2 + 1
    h3, w3 = oh2 // pool2, ow2 // pool2
    acc_t, act_t = np.dtype(acc_dtype), np.dtype(act_dtype)
    # local k-WTA keys (value * c + tie): int16 beside int8 values (32 per vector), else int64
    small = act_t.kind == "i" and act_t.itemsize <= 2 and max(c1, c2) <= 256
    key_t = np.dtype(np.int16) if small else np.dtype(np.int64)
    return (
        np.zeros(h * w, act_t),  # X: the (normalised / quantised) input, flattened
        np.zeros((parts, (oh1 - 1) * w + ow1), acc_t),  # conv1 wide plane of one channel
        np.zeros((c1, h2, w2), acc_t),  # pooled1
        np.zeros((c1, h2, w2), act_t),  # out1
        np.zeros(h2 * w2 * max(k1, 1), np.int64),  # winners of conv1: channels
        np.zeros(h2 * w2 * max(k1, 1), act_t),  # ... and values
        np.arange(h2 * w2 + 1, dtype=np.int64) * k1,  # pixel list starts (k1 per pixel)
        np.zeros((parts, oh2, ow2 * c2p), acc_t),  # conv2 accumulators (ss), channels last
        np.zeros((parts, (oh2 - 1) * w2 + ow2), acc_t),  # conv2 wide plane of one channel (sd)
        np.zeros((c2, h3, w3), acc_t),  # pooled2
        np.zeros((c2, h3, w3), act_t),  # out2
        np.zeros(h3 * w3 * max(k2, 1), np.int64),  # winners of conv2: channels
        np.zeros(h3 * w3 * max(k2, 1), act_t),  # ... values
        np.zeros(h3 * w3 * max(k2, 1), np.int64),  # ... as flat (c, i, j) indices
        # local k-WTA keys, one copy per thread (two threads writing into one cache line
        # would pass it back and forth on every pass)
        np.zeros((parts, max(k1, 1), h2 * w2), key_t),  # after conv1: each pixel's top k
        np.zeros((parts, h2 * w2), key_t),  # ... the key travelling down the list
        np.zeros((parts, max(k2, 1), h3 * w3), key_t),  # the same after conv2
        np.zeros((parts, h3 * w3), key_t),
        np.zeros((parts, max(w, w2, c2p)), acc_t),  # pooling scratch: a window's row maxima
        np.zeros(n3p, linear1_dtype or acc_t),  # linear1 accumulators
        np.zeros(n3, act_t),  # out3
        np.zeros(n3, np.float32),  # out3 as order keys (non-negative float32 bits)
        np.zeros(max(k3, 1), np.int64),  # winners of linear1: indices
        np.zeros(max(k3, 1), act_t),  # ... values
        np.zeros(n4p, acc_t),  # logits (+ padding), before the bias
    )


@nb.njit(**_opts)
def _input(features, in_scale, in_offset, quantized, x):
    """Normalise (float32) or quantise (int8, round half to even, clip) the input, as numpy."""
    f = features.ravel()
    scale, offset = np.float32(in_scale), np.float32(in_offset)
    for i in range(x.shape[0]):
        t = (np.float32(f[i]) - offset) / scale
        if quantized:
            t = min(max(np.rint(t), np.float32(-128.0)), np.float32(127.0))
        x[i] = t


@nb.njit(**_opts)
def _kwta_pixels(out, quantized, k, ch, val, top, new, p_lo, p_hi):
    """Local k-WTA of ``out`` ``(c, h, w)`` for pixels ``p_lo..p_hi - 1``: the values are their
    own order keys (int8), or their int32 bits (non-negative float32)."""
    act = out.reshape(out.shape[0], -1)
    if quantized:
        kwta_local_net(act, act, k, ch, val, top, new, p_lo, p_hi)
    else:
        kwta_local_net(act, act.view(np.int32), k, ch, val, top, new, p_lo, p_hi)


@nb.njit(**_opts)
def _activate_channel(pooled, o, quantized, mult, shift, out):
    """``out[o] = activate(pooled[o])`` with channel ``o``'s constants hoisted out of the loop,
    so that it vectorises."""
    src, dst = pooled[o].ravel(), out[o].ravel()
    if quantized:
        m_o, s_o = np.int64(mult[o]), np.int64(shift[o])
        half = np.int64(1) << (s_o - 1)
        for n in range(src.shape[0]):
            y = (np.int64(src[n]) * m_o + half) >> s_o
            dst[n] = min(max(y, 0), 127)
    else:
        for n in range(src.shape[0]):
            v = src[n]
            dst[n] = v if v > 0 else 0  # +0.0, never -0.0


@nb.njit(**_opts)
def _conv_block_sd(x, w_in, oh, ow, pool, layer, quantized, plane, tmp, pooled, out, part, parts):
    """Sparse-dense conv, max-pool, bias and activation of thread ``part``'s output channels,
    one channel at a time.

    The channel's wide plane (``plane``, a few KB) is pooled while it is still in L1 cache;
    for 2x2 pooling (the network's) row pairs are maxed as contiguous runs.

    Args:
        x: ``(c_in * h * w_in,)`` the input, flattened; ``layer``: ``(start, offset, weight,
            bias, multiplier, shift)``; ``oh, ow``: the conv output's height and width.
        plane, tmp: this thread's scratch; ``pooled``, ``out``: ``(c_out, ph, pw)``.
    """
    start, offset, weight, bias, mult, shift = layer
    ph, pw = pooled.shape[1], pooled.shape[2]
    o0, o1 = tap_band(start, part, parts)
    for o in range(o0, o1):
        taps_plane(x, start[o], start[o + 1], offset, weight, plane)
        if pool != 2:
            pool_chw_wide(
                plane.reshape(1, -1), w_in, oh, ow, pool, bias[o : o + 1], pooled[o : o + 1], tmp
            )
        else:
            b = bias[o]
            for i in range(ph):
                r0 = plane[2 * i * w_in : 2 * i * w_in + 2 * pw]
                r1 = plane[(2 * i + 1) * w_in : (2 * i + 1) * w_in + 2 * pw]
                for q in range(2 * pw):  # the max of the window's two rows: contiguous
                    tmp[q] = max(r0[q], r1[q])
                prow = pooled[o, i]
                for j in range(pw):
                    prow[j] = max(tmp[2 * j], tmp[2 * j + 1]) + b
        _activate_channel(pooled, o, quantized, mult, shift, out)


@nb.njit(**_opts)
def _stage1(x, dims, quantized, L1, bufs, part, parts):
    """conv1 (sparse-dense: its input is dense), pool and activation: thread ``part``'s
    output channels."""
    h, w, kh1, kw1, pool1 = dims[0], dims[1], dims[3], dims[4], dims[5]
    wide1, pooled1, out1, ptmp = bufs[WIDE1], bufs[POOLED1], bufs[OUT1], bufs[PTMP]
    oh1, ow1 = h - kh1 + 1, w - kw1 + 1
    _conv_block_sd(
        x, w, oh1, ow1, pool1, L1, quantized, wide1[part], ptmp[part], pooled1, out1, part, parts
    )


@nb.njit(**_opts)
def _stage2(dims, quantized, L2, bufs, part, parts):
    """conv2, thread ``part``'s share.

    Sparse-sparse (conv1 has k-WTA): the thread selects the winners of a band of conv1's
    pixel rows and stamps them into its own accumulators ``acc2[part]``; :func:`_stage_tail`
    adds the bands and pools. Sparse-dense: the thread computes, pools and activates a share of
    the output channels.
    """
    out1, ch1, val1, pstart1 = bufs[OUT1], bufs[CH1], bufs[VAL1], bufs[PSTART1]
    acc2, wide2, ptmp = bufs[ACC2], bufs[WIDE2], bufs[PTMP]
    pooled2, out2 = bufs[POOLED2], bufs[OUT2]
    strat2, t2_start, t2_off, t2_w, rows2, route2, b2, m2, s2 = L2
    k1, c2p, kh2, kw2, pool2 = dims[6], dims[8], dims[9], dims[10], dims[11]
    h2, w2 = out1.shape[1], out1.shape[2]
    oh2, ow2 = h2 - kh2 + 1, w2 - kw2 + 1
    if k1 == 0:
        layer = (t2_start, t2_off, t2_w, b2, m2, s2)
        _conv_block_sd(
            out1.ravel(),
            w2,
            oh2,
            ow2,
            pool2,
            layer,
            quantized,
            wide2[part],
            ptmp[part],
            pooled2,
            out2,
            part,
            parts,
        )
        return
    i0, i1 = band(part, parts, h2)
    _kwta_pixels(
        out1, quantized, k1, ch1, val1, bufs[TOP1][part], bufs[NEW1][part], i0 * w2, i1 * w2
    )
    acc = acc2[part]
    if strat2 == ROUTED:
        conv_routed_ss(pstart1, ch1, val1, (h2, w2), rows2, route2, kh2, kw2, c2p, acc, i0, i1)
    else:
        conv_dense_rows_ss(pstart1, ch1, val1, (h2, w2), rows2, kh2, kw2, c2p, acc, i0, i1)


@nb.njit(**_opts)
def _stage_tail(dims, quantized, L2, L3, L4, bufs, parts, logits_out):
    """On one thread (together a few microseconds): conv2's pooling and activation (after
    adding the threads' accumulators) and local k-WTA; then linear1 (on the flattened
    ``(c, h, w)`` output of conv2), activation, k-WTA and the output layer, into
    ``logits_out`` ``(n_out,)``."""
    acc2, pooled2, ptmp = bufs[ACC2], bufs[POOLED2], bufs[PTMP]
    out2, ch2, val2, idx2 = bufs[OUT2], bufs[CH2], bufs[VAL2], bufs[IDX2]
    y3, out3, keys3 = bufs[Y3], bufs[OUT3], bufs[KEYS3]
    idx3, val3, logits = bufs[IDX3], bufs[VAL3], bufs[LOGITS]
    strat3, rows3, route3, b3, m3, s3 = L3
    rows4, route4, b4 = L4
    b2, m2, s2 = L2[6], L2[7], L2[8]
    k1, c2, c2p, pool2, k2 = dims[6], dims[7], dims[8], dims[11], dims[12]
    n3, k3 = dims[13], dims[15]
    if k1 > 0:  # sparse-sparse conv2: the bands' sum, pooled and activated
        acc = acc2[0]
        for t in range(1, parts):
            add_into(acc, acc2[t])
        oh2, ow2 = acc.shape[0], acc.shape[1] // c2p
        pool_hwc(acc, oh2, ow2, c2, pool2, b2, pooled2, ptmp[0], quantized, m2, s2, out2)
    n_pix3 = out2.shape[1] * out2.shape[2]
    if k2 > 0:
        _kwta_pixels(out2, quantized, k2, ch2, val2, bufs[TOP2][0], bufs[NEW2][0], 0, n_pix3)
        for e in range(n_pix3 * k2):
            idx2[e] = ch2[e] * n_pix3 + e // k2
        if strat3 == ROUTED:
            linear_routed_ss(idx2, val2, n_pix3 * k2, rows3, route3, y3)
        else:
            linear_dense_rows_ss(idx2, val2, n_pix3 * k2, rows3, y3)
    else:
        linear_routed_sd(out2.ravel(), rows3, route3, y3)
    for o in range(n3):
        out3[o] = activate(y3[o] + b3[o], o, quantized, m3, s3)
        keys3[o] = out3[o]  # >= 0, so the float32 bit patterns sort like the values
    if k3 > 0:
        if quantized:  # int8 values are their own keys: 7 bisection steps
            kwta_global(out3, out3, k3, idx3, val3)
        else:
            kwta_global(out3, keys3.view(np.int32), k3, idx3, val3)
        if route4.shape[1] == logits.shape[0]:  # one kernel per group: routes are the identity
            linear_dense_rows_ss(idx3, val3, k3, rows4, logits)
        else:
            linear_routed_ss(idx3, val3, k3, rows4, route4, logits)
    else:
        linear_routed_sd(out3, rows4, route4, logits)
    for o in range(b4.shape[0]):
        logits_out[o] = logits[o] + b4[o]


@nb.njit(**_opts)
def forward(features, in_scale, in_offset, quantized, dims, L1, L2, L3, L4, bufs, logits_out):
    """Words ``features`` ``(N, h, w)`` through the network, one after the other, into
    ``logits_out`` ``(N, n_out)``; ``bufs`` (from :func:`buffers`) holds the intermediates of
    the last word.

    ``L1 = (start, offset, weight, bias, multiplier, shift)`` (conv1's taps),
    ``L2 = (strat, start, offset, weight, rows, route, bias, multiplier, shift)``,
    ``L3 = (strat, rows, route, bias, multiplier, shift)``, ``L4 = (rows, route, bias)``;
    see :class:`compsparse.fast.FastNet`. Releases the GIL, so threads can run chunks of a
    batch side by side.
    """
    for word in range(features.shape[0]):
        _input(features[word], in_scale, in_offset, quantized, bufs[X])
        _stage1(bufs[X], dims, quantized, L1, bufs, 0, 1)
        _stage2(dims, quantized, L2, bufs, 0, 1)
        _stage_tail(dims, quantized, L2, L3, L4, bufs, 1, logits_out[word])
    return logits_out


@nb.njit(parallel=True, **_opts)
def forward_split(
    features, in_scale, in_offset, quantized, dims, L1, L2, L3, L4, bufs, parts, logits_out
):
    """:func:`forward` with each word's conv stages split across ``parts`` threads (``bufs``
    from :func:`buffers` with the same ``parts``). For batch 1: a batch is better split into
    chunks of whole words, one per thread."""
    for word in range(features.shape[0]):
        _input(features[word], in_scale, in_offset, quantized, bufs[X])
        for part in nb.prange(parts):
            _stage1(bufs[X], dims, quantized, L1, bufs, part, parts)
        for part in nb.prange(parts):
            _stage2(dims, quantized, L2, bufs, part, parts)
        _stage_tail(dims, quantized, L2, L3, L4, bufs, parts, logits_out[word])
    return logits_out
