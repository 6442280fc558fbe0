"""Small random integer models for the quant/export tests, and an independent golden model."""

from __future__ import annotations

import numpy as np
from reference import dense_conv2d, dense_linear

import compsparse as cs
from compsparse.quant import QuantLayer, QuantModel, quantize_multiplier

# (kind, n_out, kernel, pool) of a scaled-down speech network on 12x12 inputs
ARCH = [("conv2d", 6, 5, 2), ("conv2d", 8, 3, 2), ("linear", 10, None, 1), ("linear", 4, None, 1)]
SPARSITY = {"dense": (1, 1, 1, 1), "sparse-dense": (2, 4, 5, 1), "sparse-sparse": (2, 4, 5, 1)}
KS = {"dense": None, "sparse-dense": None, "sparse-sparse": (2, 3, 4)}


def random_quant_model(variant: str, seed: int = 0, in_hw: int = 12) -> QuantModel:
    """A random int8 model of the speech network's shape (scaled down), weights in masks."""
    rng = np.random.default_rng(seed)
    in_shape: tuple[int, ...] = (1, in_hw, in_hw)
    layers = []
    for i, (kind, n_out, kernel, pool) in enumerate(ARCH):
        last = i == len(ARCH) - 1
        if kind == "conv2d":
            kshape = (in_shape[0], kernel, kernel)
        else:
            kshape = (int(np.prod(in_shape)),)
        n = SPARSITY[variant][i]
        masks = cs.complementary_masks(n_out, kshape, n, seed=rng)
        w = rng.integers(-127, 128, (n_out, *kshape)).astype(np.int8) * masks
        fan = int(masks.reshape(n_out, -1).sum(axis=1).max())
        bias = rng.integers(-3000, 3000, n_out).astype(np.int32)
        mult = shift = None
        if not last:
            pairs = [quantize_multiplier(rng.uniform(0.5, 2.0) / (fan * 40)) for _ in range(n_out)]
            mult = np.array([p[0] for p in pairs], np.int32)
            shift = np.array([p[1] for p in pairs], np.int32)
        k = KS[variant][i] if KS[variant] is not None and not last else None
        layer = QuantLayer(
            name=f"l{i}",
            kind=kind,
            weights=cs.pack(w.astype(np.int8), n, masks=masks),
            bias=bias,
            multiplier=mult,
            shift=shift,
            in_shape=in_shape,
            pool=pool,
            k=k,
            in_min=-128 if i == 0 else 0,
            weight_scale=np.ones(n_out),
        )
        layers.append(layer)
        in_shape = layer.out_shape if kind == "conv2d" else (n_out,)
        if i < len(ARCH) - 1 and ARCH[i + 1][0] == "linear" and len(in_shape) == 3:
            in_shape = (int(np.prod(in_shape)),)
    return QuantModel(layers, input_scale=0.5, input_offset=-40.0, labels=list("abcd"))


def golden_logits(model: QuantModel, xq: np.ndarray) -> np.ndarray:
    """Independent integer pipeline for one int8 input: dense loops, Python-int rounding."""
    x = xq.astype(np.int64).reshape(model.input_shape)
    for layer in model.layers:
        w = layer.weights.unpack().astype(np.int64)
        x = x.reshape(layer.in_shape)
        if layer.kind == "conv2d":
            acc = dense_conv2d(x, w) + layer.bias[:, None, None]
            p = layer.pool
            c, h, wd = acc.shape
            acc = np.array(
                [
                    [
                        [
                            acc[ch, i * p : i * p + p, j * p : j * p + p].max()
                            for j in range(wd // p)
                        ]
                        for i in range(h // p)
                    ]
                    for ch in range(c)
                ]
            ).reshape(c, h // p, wd // p)
        else:
            acc = dense_linear(x, w) + layer.bias
        if layer.is_output:
            return acc
        flat = acc.reshape(len(acc), -1)
        y = np.empty_like(flat)
        for ch in range(len(flat)):
            m, s = int(layer.multiplier[ch]), int(layer.shift[ch])
            for j, a in enumerate(flat[ch]):
                y[ch, j] = min(max((int(a) * m + 2 ** (s - 1)) // 2**s, 0), 127)
        y = y.reshape(acc.shape)
        if layer.k is not None:
            cols = y.reshape(len(y), -1) if layer.kind == "conv2d" else y.reshape(-1, 1)
            keep = np.zeros(cols.shape, bool)
            if layer.kind == "conv2d":  # per pixel: k largest channels, lower channel on ties
                for j in range(cols.shape[1]):
                    order = sorted(range(cols.shape[0]), key=lambda ch, j=j: (-cols[ch, j], ch))
                    keep[order[: layer.k], j] = True
            else:
                order = sorted(range(len(cols)), key=lambda i: (-cols[i, 0], i))
                keep[order[: layer.k], 0] = True
            y = np.where(keep, cols, 0).reshape(y.shape)
        x = y
    raise AssertionError("no output layer")
