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
from .select import (
    activate,
    kwta_global,
    kwta_local_net,
    pool_chw_wide,
    pool_hwc,
)

__all__ = ["ROUTED", "ROWS", "buffers", "forward"]

ROWS, ROUTED = 1, 2
_opts = dict(nogil=True, cache=True, error_model="numpy")


def buffers(dims, acc_dtype, act_dtype) -> tuple:
    """Scratch and intermediates of one word (numpy: allocated once, outside the hot loop).

    Args:
        dims: int64 array ``[h, w, c1, kh1, kw1, pool1, k1, c2, c2_pad, kh2, kw2, pool2, k2,
            n3, n3_pad, k3, n4_pad]``.
        acc_dtype, act_dtype: accumulators (float32 / int32) and activations (float32 / int8).

    Returns:
        a tuple, in the order :func:`forward` unpacks it.
    """
    h, w, c1, kh1, kw1, pool1, k1, c2, c2p, kh2, kw2, pool2, k2, n3, n3p, k3, n4p = (
        int(d) for d in dims
    )
    oh1, ow1 = h - kh1 + 1, w - kw1 + 1
    h2, w2 = oh1 // pool1, ow1 // pool1
    oh2, ow2 = h2 - kh2 + 1, w2 - kw2 + 1
    h3, w3 = oh2 // pool2, ow2 // pool2
    acc_t, act_t = np.dtype(acc_dtype), np.dtype(act_dtype)
    # channel ids in the lanes' width: int8 beside int8 values (64 per vector), else int32
    id_t = np.dtype(np.int8) if act_t == np.int8 and max(c1, c2) < 128 else np.dtype(np.int32)
    return (
        np.zeros(h * w, act_t),  # x: the (normalised / quantised) input, flattened
        np.zeros((oh1 - 1) * w + ow1, acc_t),  # conv1 accumulators of one channel, wide rows
        np.zeros((c1, h2, w2), acc_t),  # pooled1
        np.zeros((c1, h2, w2), act_t),  # out1
        np.zeros(h2 * w2 * max(k1, 1), np.int64),  # winners of conv1: channels
        np.zeros(h2 * w2 * max(k1, 1), act_t),  # ... and values
        np.arange(h2 * w2 + 1, dtype=np.int64) * k1,  # pixel list starts (k1 per pixel)
        np.zeros((oh2, ow2 * c2p), acc_t),  # conv2 accumulators, channels last (ss)
        np.zeros((oh2 - 1) * w2 + ow2, acc_t),  # conv2 accumulators of one channel (sd)
        np.zeros((c2, h3, w3), acc_t),  # pooled2
        np.zeros((c2, h3, w3), act_t),  # out2
        np.zeros(h3 * w3 * max(k2, 1), np.int64),  # winners of conv2: channels
        np.zeros(h3 * w3 * max(k2, 1), act_t),  # ... values
        np.zeros(h3 * w3 * max(k2, 1), np.int64),  # ... as flat (c, i, j) indices
        np.zeros((max(k1, 1), h2 * w2), act_t),  # local k-WTA after conv1: top-k values
        np.zeros((max(k1, 1), h2 * w2), id_t),  # ... their channels
        np.zeros(h2 * w2, act_t),  # ... the value travelling down the list
        np.zeros(h2 * w2, id_t),  # ... its channel
        np.zeros((max(k2, 1), h3 * w3), act_t),  # the same after conv2
        np.zeros((max(k2, 1), h3 * w3), id_t),
        np.zeros(h3 * w3, act_t),
        np.zeros(h3 * w3, id_t),
        np.zeros(max(w, w2, c2p), acc_t),  # pooling scratch: the max of a window's rows
        np.zeros(n3p, acc_t),  # linear1 accumulators
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
def _activate_all(pooled, quantized, mult, shift, out):
    """``out[c, ...] = activate(pooled[c, ...])`` for ``(c, n)`` views."""
    for c in range(pooled.shape[0]):
        for n in range(pooled.shape[1]):
            out[c, n] = activate(pooled[c, n], c, quantized, mult, shift)


@nb.njit(**_opts)
def _conv_block_sd(
    x,
    start,
    offset,
    weight,
    w_in,
    oh,
    ow,
    pool,
    bias,
    quantized,
    mult,
    shift,
    plane,
    tmp,
    pooled,
    out,
):
    """Sparse-dense conv, max-pool, bias and activation, one output channel at a time.

    The channel's wide plane (``plane``, a few KB) is pooled while it is still in L1 cache;
    for 2x2 pooling (the network's) row pairs are maxed as contiguous runs, and the activation
    runs over the channel's pooled plane with the channel's constants hoisted out of the loop.
    """
    n_out = pooled.shape[0]
    ph, pw = pooled.shape[1], pooled.shape[2]
    for o in range(n_out):
        taps_plane(x, start[o], start[o + 1], offset, weight, plane)
        if pool != 2:
            pool_chw_wide(
                plane.reshape(1, -1), w_in, oh, ow, pool, bias[o : o + 1], pooled[o : o + 1], tmp
            )
            dst, src = out[o].ravel(), pooled[o].ravel()
            for n in range(src.shape[0]):
                dst[n] = activate(src[n], o, quantized, mult, shift)
            continue
        b = bias[o]
        for i in range(ph):
            r0 = plane[2 * i * w_in : 2 * i * w_in + 2 * pw]
            r1 = plane[(2 * i + 1) * w_in : (2 * i + 1) * w_in + 2 * pw]
            for q in range(2 * pw):  # the max of the window's two rows: contiguous
                tmp[q] = max(r0[q], r1[q])
            prow = pooled[o, i]
            for j in range(pw):
                prow[j] = max(tmp[2 * j], tmp[2 * j + 1]) + b
        src, dst = pooled[o].ravel(), out[o].ravel()
        if quantized:  # one branch per channel, so each loop below vectorises
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
def forward(
    features,
    in_scale,
    in_offset,
    quantized,
    dims,
    t1_start,
    t1_off,
    t1_w,
    b1,
    m1,
    s1,
    strat2,
    t2_start,
    t2_off,
    t2_w,
    rows2,
    route2,
    b2,
    m2,
    s2,
    strat3,
    rows3,
    route3,
    b3,
    m3,
    s3,
    rows4,
    route4,
    b4,
    bufs,
    logits_out,
):
    """Words ``features`` ``(N, h, w)`` through the network, one after the other, into
    ``logits_out`` ``(N, n_out)``; ``bufs`` holds the intermediates of the last word.

    Releases the GIL, so threads can run chunks of a batch side by side (cheaper to compile
    than a numba ``prange``, and as fast for whole words).
    """
    (
        x,
        wide1,
        pooled1,
        out1,
        ch1,
        val1,
        pstart1,
        acc2,
        wide2,
        pooled2,
        out2,
        ch2,
        val2,
        idx2,
        tv1,
        tc1,
        nv1,
        nc1,
        tv2,
        tc2,
        nv2,
        nc2,
        ptmp,
        y3,
        out3,
        keys3,
        idx3,
        val3,
        logits,
    ) = bufs
    h, w, c1, kh1, kw1, pool1, k1 = dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], dims[6]
    c2, c2p, kh2, kw2, pool2, k2 = dims[7], dims[8], dims[9], dims[10], dims[11], dims[12]
    n3, k3 = dims[13], dims[15]
    n4 = b4.shape[0]
    for word in range(features.shape[0]):
        _input(features[word], in_scale, in_offset, quantized, x)

        # conv1: sparse-dense (the input is dense), routing resolved at load time
        oh1, ow1 = h - kh1 + 1, w - kw1 + 1
        _conv_block_sd(
            x,
            t1_start,
            t1_off,
            t1_w,
            w,
            oh1,
            ow1,
            pool1,
            b1,
            quantized,
            m1,
            s1,
            wide1,
            ptmp,
            pooled1,
            out1,
        )
        h2, w2 = pooled1.shape[1], pooled1.shape[2]

        # conv2: sparse-sparse on conv1's winners, or sparse-dense on its whole output
        oh2, ow2 = h2 - kh2 + 1, w2 - kw2 + 1
        if k1 > 0:
            kwta_local_net(out1.reshape(c1, -1), k1, ch1, val1, tv1, tc1, nv1, nc1)
            if strat2 == ROUTED:
                conv_routed_ss(pstart1, ch1, val1, (h2, w2), rows2, route2, kh2, kw2, c2p, acc2)
            else:
                conv_dense_rows_ss(pstart1, ch1, val1, (h2, w2), rows2, kh2, kw2, c2p, acc2)
            pool_hwc(acc2, oh2, ow2, c2, pool2, b2, pooled2, ptmp)
            _activate_all(pooled2.reshape(c2, -1), quantized, m2, s2, out2.reshape(c2, -1))
        else:
            _conv_block_sd(
                out1.ravel(),
                t2_start,
                t2_off,
                t2_w,
                w2,
                oh2,
                ow2,
                pool2,
                b2,
                quantized,
                m2,
                s2,
                wide2,
                ptmp,
                pooled2,
                out2,
            )
        n_pix3 = pooled2.shape[1] * pooled2.shape[2]

        # linear1 on the flattened (c, h, w) output of conv2
        if k2 > 0:
            kwta_local_net(out2.reshape(c2, -1), k2, ch2, val2, tv2, tc2, nv2, nc2)
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

        # output layer: routed rows (a dense layer is n_per_group = 1)
        if k3 > 0:
            if quantized:  # int8 values are their own keys: 7 bisection steps
                kwta_global(out3, out3.view(np.int8), k3, idx3, val3)
            else:
                kwta_global(out3, keys3.view(np.int32), k3, idx3, val3)
            linear_routed_ss(idx3, val3, k3, rows4, route4, logits)
        else:
            linear_routed_sd(out3, rows4, route4, logits)
        for o in range(n4):
            logits_out[word, o] = logits[o] + b4[o]
    return logits_out
