"""The speech network's models for the CPU benchmark: exported ones, or random ones of its shape.

Timings do not depend on the weights' values, only on shapes, packing and k, so until trained
models are exported into ``data/models/<variant>/`` the benchmark builds random complementary
weights of the paper's network (``32x32x1 -> conv 64 5x5 -> pool 2 -> conv 64 5x5 -> pool 2 ->
linear 1500 -> 12``, packing and k of ``compsparse.nn.model``) and quantises them with the same
exporter code (:func:`compsparse.export.quantize_model`).

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .export import FloatLayer, FloatModel, load_model, quantize_model
from .packing import complementary_masks
from .paths import data_dir, shown_path
from .quant import QuantModel

__all__ = ["dequantize", "random_float_model", "speech_models"]

# (name, kind, n_out, kernel, pool) of the paper's network; in_shape follows from the input.
ARCH = [
    ("conv1", "conv2d", 64, 5, 2),
    ("conv2", "conv2d", 64, 5, 2),
    ("linear1", "linear", 1500, None, 1),
    ("output", "linear", 12, None, 1),
]


def _paper_sparsity(variant: str) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    from .nn.model import VARIANTS  # the one place the per-layer packing and k are defined

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {sorted(VARIANTS)}")
    cfg = VARIANTS[variant]
    return cfg.n_per_group, cfg.k


def random_float_model(
    variant: str = "sparse-sparse",
    seed: int = 0,
    in_hw: int = 32,
    arch=ARCH,
    sparsity=None,
    input_offset: float = 0.0,
    input_std: float = 1.0,
) -> FloatModel:
    """A FloatModel of the speech network's shape with random complementary weights.

    Args:
        variant: ``"dense"``, ``"sparse-dense"`` or ``"sparse-sparse"`` (packing and k).
        sparsity: optional ``(n_per_group, k)`` overriding the variant's.
        input_offset, input_std: the input normalisation ``(x - offset) / std``.
    """
    n_per_group, ks = sparsity if sparsity is not None else _paper_sparsity(variant)
    rng = np.random.default_rng(seed)
    in_shape: tuple[int, ...] = (1, in_hw, in_hw)
    layers = []
    for i, (name, kind, n_out, kernel, pool) in enumerate(arch):
        kshape = (in_shape[0], kernel, kernel) if kind == "conv2d" else (int(np.prod(in_shape)),)
        masks = complementary_masks(n_out, kshape, n_per_group[i], seed=rng)
        fan_in = int(masks.reshape(n_out, -1).sum(axis=1).max())
        bound = np.sqrt(3.0 / fan_in)  # unit-variance outputs for unit-variance inputs
        w = (rng.uniform(-bound, bound, masks.shape) * masks).astype(np.float32)
        last = i == len(arch) - 1
        layer = FloatLayer(
            name=name,
            kind=kind,
            weight=w,
            mask=masks,
            n_per_group=n_per_group[i],
            bias=rng.normal(0.0, 0.1, n_out).astype(np.float32),
            in_shape=in_shape,
            pool=pool,
            k=None if ks is None or last else ks[i],
            relu=not last,
        )
        layers.append(layer)
        if kind == "conv2d":
            oh = (in_shape[1] - kernel + 1) // pool
            in_shape = (n_out, oh, oh)
        else:
            in_shape = (n_out,)
        if i + 1 < len(arch) and arch[i + 1][1] == "linear":
            in_shape = (int(np.prod(in_shape)),)
    meta = {"variant": variant, "source": f"random complementary weights, seed {seed}"}
    labels = [str(i) for i in range(arch[-1][2])]
    return FloatModel(layers, float(input_offset), float(input_std), labels, meta)


def dequantize(model: QuantModel) -> FloatModel:
    """The float twin of an int8 model: weights ``w * weight_scale``, biases likewise."""
    layers = []
    for ly in model.layers:
        w = ly.dense_weights().astype(np.float64)
        scale = np.asarray(ly.weight_scale, np.float64).reshape((-1,) + (1,) * (w.ndim - 1))
        mask = w != 0
        layers.append(
            FloatLayer(
                name=ly.name,
                kind=ly.kind,
                weight=(w * scale).astype(np.float32),
                mask=mask,
                n_per_group=ly.weights.n_per_group,
                bias=(ly.bias * np.ravel(scale) * ly.in_scale).astype(np.float32),
                in_shape=ly.in_shape,
                pool=ly.pool,
                k=ly.k,
                relu=not ly.is_output,
            )
        )
    std = model.input_scale / model.layers[0].in_scale  # input_scale = std * (first in_scale)
    return FloatModel(layers, model.input_offset, std, model.labels, model.meta)


def speech_models(
    variant: str, seed: int = 0, folder=None, features=None
) -> tuple[QuantModel, FloatModel, str]:
    """The int8 and float32 models of one variant, and where they came from.

    ``data/models/<variant>/`` (or ``folder``) if it holds an exported model (then the float
    model is its dequantised twin: the same network in float32), else random weights of the
    paper's shape, normalised for and quantised with calibration on ``features``
    ``(n, 32, 32)`` (random normal features if ``None``).
    """
    path: Path | None = Path(folder) if folder is not None else None
    if path is None:
        try:
            path = data_dir("models") / variant
        except FileNotFoundError:  # a checkout without exported models: random weights
            path = None
    if path is not None and (path / "model.json").is_file():
        q = load_model(path)
        return q, dequantize(q), f"exported model {shown_path(path)}"
    if features is None:
        features = np.random.default_rng(seed + 1).normal(0.0, 1.0, (64, 32, 32))
    calib = np.asarray(features, np.float32)
    f = random_float_model(
        variant, seed, input_offset=float(calib.mean()), input_std=float(calib.std()) or 1.0
    )
    return quantize_model(f, calib), f, f"random complementary weights (seed {seed})"
