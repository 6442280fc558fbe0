"""Plain dense references for the tests, written independently of compsparse.ops."""

from __future__ import annotations

import numpy as np


def dense_linear(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """y[o] = sum_i w[o, i] x[i], accumulated in int64 for integers."""
    acc = np.int64 if np.issubdtype(np.result_type(x, w), np.integer) else np.result_type(x, w)
    return w.astype(acc) @ x.astype(acc)


def dense_conv2d(x: np.ndarray, w: np.ndarray, stride=(1, 1), padding=(0, 0)) -> np.ndarray:
    """Cross-correlation of x (c, h, w) with w (o, c, kh, kw), one output position at a time."""
    acc = np.int64 if np.issubdtype(np.result_type(x, w), np.integer) else np.result_type(x, w)
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x.astype(acc), ((0, 0), (ph, ph), (pw, pw)))
    _, kh, kw = w.shape[1:]
    oh = (xp.shape[1] - kh) // sh + 1
    ow = (xp.shape[2] - kw) // sw + 1
    y = np.zeros((w.shape[0], oh, ow), acc)
    for p in range(oh):
        for q in range(ow):
            window = xp[:, p * sh : p * sh + kh, q * sw : q * sw + kw]
            y[:, p, q] = np.tensordot(w.astype(acc), window, axes=3)
    return y


def brute_kwta(x: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k winners of a 1-D x: repeatedly take the first maximum."""
    x = list(x)
    taken: list[int] = []
    for _ in range(k):
        best = None
        for i, v in enumerate(x):
            if i not in taken and (best is None or v > x[best]):
                best = i
        taken.append(best)
    return np.array(sorted(taken))
