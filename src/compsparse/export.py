"""Trained float model -> packed int8 model file, and the numpy-only loader.

A trained network reaches this module as a :class:`FloatModel`: batch norm folded into the
weights and biases, masked weights, k per layer (``compsparse.nn`` builds it from a checkpoint).
:func:`quantize_model` turns it into a :class:`~compsparse.quant.QuantModel` (the scheme is in
``compsparse.quant``); :func:`save_model` writes it as two files in one folder:

``model.json``
    ``format`` ("compsparse-int8"), ``format_version`` (1), ``labels``, ``input``
    (``shape``, ``scale``, ``offset``, ``min``, ``max``, ``rule``), ``layers`` (one object per
    layer, input to output: ``name``, ``kind``, ``in_shape``, ``acc_shape``, ``out_shape``,
    ``kernel_shape``, ``n_kernels``, ``n_per_group``, ``n_groups``, ``stride`` 1, ``padding`` 0,
    ``pool``, ``k``, ``kwta`` ("local" over channels / "global" / null), ``requantize``
    (false for the output layer), ``in_min``, ``out_min``, ``out_max``, ``in_scale``,
    ``out_scale``, ``acc_bits``, ``weight_positions``, ``weight_nonzero``) and ``meta``.
``model.npz`` (no pickle; per layer NAME)
    ``NAME.values`` int8 ``(n_groups, *kernel_shape)``, ``NAME.kernel_ids`` uint8 same shape
    (position ``[g, ...]`` belongs to kernel ``g * n_per_group + kernel_ids[g, ...]``),
    ``NAME.bias`` int32 ``(n_kernels,)``, ``NAME.weight_scale`` float64 ``(n_kernels,)``, and
    for every layer but the output ``NAME.multiplier`` and ``NAME.shift`` int32 ``(n_kernels,)``.

:func:`load_model` reads it back with numpy alone (``allow_pickle=False``). The ``export``
command also writes ``golden.npz``: every intermediate of a few test clips
(:func:`golden_vectors`), for testbenches that must match the pipeline bit for bit.

Book: chapter "int8" (book/09_int8.ipynb).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .kwta import kwta
from .ops import conv2d, linear
from .packing import PackedKernels, pack
from .quant import (
    ACT_MAX,
    ACT_MIN,
    INPUT_MAX,
    INPUT_MIN,
    WEIGHT_MAX,
    QuantLayer,
    QuantModel,
    _reshape,
    batched_kwta,
    batched_matmul,
    maxpool,
    quantize_multiplier,
)

__all__ = [
    "FloatLayer",
    "FloatModel",
    "calibration_clips",
    "golden_vectors",
    "load_model",
    "quantize_model",
    "save_model",
]

FORMAT, FORMAT_VERSION = "compsparse-int8", 1
HELP = "quantise a trained checkpoint to int8 and write the packed model (npz + JSON)"


@dataclass(frozen=True, eq=False)
class FloatLayer:
    """One trained layer with batch norm folded in. ``c`` = output channels / units.

    Attributes:
        name, kind: e.g. ``"conv1"``, ``"conv2d"`` or ``"linear"``.
        weight: ``(c, *kernel_shape)`` float32, zero outside ``mask``.
        mask: bool, same shape: the complementary masks the layer trained with.
        n_per_group: kernels packed per dense kernel.
        bias: ``(c,)`` float32.
        in_shape: ``(c_in, h, w)`` or ``(n_in,)``.
        pool: max-pool size (1: none); k: k-WTA winners or ``None``.
        relu: ReLU after pooling (every layer but the output).
    """

    name: str
    kind: str
    weight: np.ndarray
    mask: np.ndarray
    n_per_group: int
    bias: np.ndarray
    in_shape: tuple[int, ...]
    pool: int = 1
    k: int | None = None
    relu: bool = True

    def packed(self) -> PackedKernels:
        """The float weights packed along the output dimension."""
        return pack(self.weight, self.n_per_group, masks=self.mask)


@dataclass(eq=False)
class FloatModel:
    """The float network in numpy: the real-valued twin of the integer pipeline.

    ``input_offset`` and ``input_std`` normalise the features: ``(x - offset) / std``.
    """

    layers: list[FloatLayer]
    input_offset: float
    input_std: float
    labels: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def normalize(self, features) -> np.ndarray:
        """``(x - offset) / std`` in float32, same shape."""
        x = np.asarray(features, dtype=np.float32)
        return (x - np.float32(self.input_offset)) / np.float32(self.input_std)

    def forward_layers(self, features) -> list[dict]:
        """Every intermediate for ONE ``(h, w)`` input, with cs.conv2d / cs.linear / cs.kwta.

        Returns one dict per layer: ``input``, ``acc`` (with bias), ``pooled``, ``out`` (after
        ReLU; ``None`` for the output layer) and ``active`` (SparseActivation or ``None``).
        """
        x = self.normalize(features).astype(np.float64).reshape(self.layers[0].in_shape)
        result = []
        for layer in self.layers:
            x = _reshape(x, layer.in_shape)
            op = conv2d if layer.kind == "conv2d" else linear
            acc = op(x, layer.packed()) + layer.bias.reshape(
                (-1,) + (1,) * (len(layer.in_shape) - 1)
            )
            pooled = maxpool(acc, layer.pool)
            out = np.maximum(pooled, 0) if layer.relu else None
            active = None
            if layer.k is not None:
                active = kwta(out, layer.k, axis=0 if layer.kind == "conv2d" else None)
            result.append(dict(input=x, acc=acc, pooled=pooled, out=out, active=active))
            x = active if active is not None else out
        return result

    def logits(
        self, features, batch_size: int = 256, collect: list | None = None, stats=None
    ) -> np.ndarray:
        """``(n, n_classes)`` float32 logits of ``(n, h, w)`` features (numpy, im2col).

        ``collect``, if a list, receives one list per hidden layer of its ReLU outputs (pooled,
        before k-WTA), one array per batch: the calibration data of :func:`quantize_model`.
        ``stats``, if a dict, receives per layer the ``zeros`` and ``total`` counts of its input.
        """
        x = self.normalize(features).reshape((-1, *self.layers[0].in_shape))
        parts = []
        for start in range(0, len(x), batch_size):
            parts.append(self._batch(x[start : start + batch_size], collect, stats))
        return np.concatenate(parts)

    def _batch(self, x: np.ndarray, collect, stats) -> np.ndarray:
        for i, layer in enumerate(self.layers):
            x = x.reshape((len(x), *layer.in_shape))
            count_zeros(stats, layer.name, x)
            wt = layer.weight.reshape(len(layer.weight), -1).T.astype(np.float32)
            acc = batched_matmul(layer.kind, x, wt, layer.weight.shape[1:])
            acc = acc + layer.bias.reshape((1, -1) + (1,) * (acc.ndim - 2))
            x = maxpool(acc, layer.pool)
            if not layer.relu:
                return x
            x = np.maximum(x, 0)
            if collect is not None:
                if len(collect) <= i:
                    collect.append([])
                collect[i].append(x)
            if layer.k is not None:
                x = batched_kwta(x, layer.k)
        return x


def count_zeros(stats: dict | None, name: str, x: np.ndarray) -> None:
    """Add ``x``'s zero and total counts to ``stats[name]`` (no-op when ``stats`` is None)."""
    if stats is not None:
        entry = stats.setdefault(name, {"zeros": 0, "total": 0})
        entry["zeros"] += int(x.size - np.count_nonzero(x))
        entry["total"] += int(x.size)


def quantize_model(
    model: FloatModel, calibration, percentile: float = 99.99, input_percentile: float = 99.99
) -> QuantModel:
    """Post-training int8 quantisation of a float model.

    Args:
        model: the float network.
        calibration: ``(n, h, w)`` float features (training data) to choose activation scales.
        percentile: each hidden layer's output scale is this percentile of its ReLU outputs on
            the calibration set, divided by 127 (larger values saturate at 127).
        input_percentile: the same for ``|normalised input|`` and the input quantiser.

    Returns:
        The :class:`QuantModel`. Weights: symmetric per kernel (``max|w| / 127``) except the
        output layer, which uses one scale for all classes so that its logits compare.
    """
    xn = model.normalize(calibration)
    s_in = float(np.percentile(np.abs(xn), input_percentile)) / INPUT_MAX
    collected: list = []
    model.logits(calibration, collect=collected)
    out_scales = [float(np.percentile(np.concatenate(c), percentile)) / ACT_MAX for c in collected]
    input_scale = float(np.float32(model.input_std * s_in))
    layers = []
    in_min = INPUT_MIN
    for i, fl in enumerate(model.layers):
        w = fl.weight.astype(np.float64).reshape(len(fl.weight), -1)
        peak = np.abs(w).max(axis=1)
        if not fl.relu:
            peak = np.full_like(peak, peak.max())
        s_w = np.where(peak > 0, peak / WEIGHT_MAX, 1.0)
        w_q = np.clip(np.rint(w / s_w[:, None]), -WEIGHT_MAX, WEIGHT_MAX).astype(np.int8)
        w_q = w_q.reshape(fl.weight.shape) * fl.mask
        bound = (
            2**31 - 1 - int(np.abs(w_q.reshape(len(w_q), -1).astype(np.int64)).sum(1).max()) * 128
        )
        b_q = np.clip(np.rint(fl.bias / (s_in * s_w)), -bound, bound).astype(np.int32)
        mult = shift = None
        s_out = None
        if fl.relu:
            s_out = out_scales[i] if out_scales[i] > 0 else 1.0
            pairs = [quantize_multiplier(s_in * s / s_out) for s in s_w]
            mult = np.array([p[0] for p in pairs], dtype=np.int32)
            shift = np.array([p[1] for p in pairs], dtype=np.int32)
        packed = pack(w_q.astype(np.int8), fl.n_per_group, masks=fl.mask)
        layers.append(
            QuantLayer(
                name=fl.name,
                kind=fl.kind,
                weights=packed,
                bias=b_q,
                multiplier=mult,
                shift=shift,
                in_shape=tuple(fl.in_shape),
                pool=fl.pool,
                k=fl.k,
                in_min=in_min,
                in_scale=s_in,
                weight_scale=s_w,
                out_scale=s_out,
            )
        )
        in_min, s_in = ACT_MIN, s_out
    meta = dict(model.meta, calibration=dict(n=len(xn), percentile=percentile))
    return QuantModel(layers, input_scale, float(model.input_offset), list(model.labels), meta)


def _layer_json(layer: QuantLayer) -> dict:
    p = layer.weights
    return {
        "name": layer.name,
        "kind": layer.kind,
        "in_shape": list(layer.in_shape),
        "acc_shape": list(layer.acc_shape),
        "out_shape": list(layer.out_shape),
        "kernel_shape": list(p.kernel_shape),
        "n_kernels": p.n_kernels,
        "n_per_group": p.n_per_group,
        "n_groups": p.n_groups,
        "stride": 1,
        "padding": 0,
        "pool": layer.pool,
        "k": layer.k,
        "kwta": None if layer.k is None else ("local" if layer.kind == "conv2d" else "global"),
        "requantize": not layer.is_output,
        "in_min": layer.in_min,
        "out_min": None if layer.is_output else ACT_MIN,
        "out_max": None if layer.is_output else ACT_MAX,
        "in_scale": layer.in_scale,
        "out_scale": layer.out_scale,
        "acc_bits": layer.acc_bits,
        "weight_positions": int(np.prod(p.kernel_shape)) * p.n_kernels,
        "weight_nonzero": int(np.count_nonzero(p.values)),
    }


def save_model(model: QuantModel, path) -> Path:
    """Write ``model.json`` and ``model.npz`` into the folder ``path`` (created if needed)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for layer in model.layers:
        if layer.acc_bits > 32:
            raise OverflowError(f"{layer.name} needs {layer.acc_bits}-bit accumulators (> 32)")
        arrays[f"{layer.name}.values"] = layer.weights.values
        arrays[f"{layer.name}.kernel_ids"] = layer.weights.kernel_ids.astype(np.uint8)
        arrays[f"{layer.name}.bias"] = layer.bias
        arrays[f"{layer.name}.weight_scale"] = np.asarray(layer.weight_scale, np.float64)
        if not layer.is_output:
            arrays[f"{layer.name}.multiplier"] = layer.multiplier.astype(np.int32)
            arrays[f"{layer.name}.shift"] = layer.shift.astype(np.int32)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "labels": list(model.labels),
        "input": {
            "shape": list(model.input_shape),
            "scale": model.input_scale,
            "offset": model.input_offset,
            "min": INPUT_MIN,
            "max": INPUT_MAX,
            "rule": "clip(rint((x - offset) / scale), min, max), float32, round half to even",
        },
        "layers": [_layer_json(layer) for layer in model.layers],
        "meta": model.meta,
    }
    np.savez_compressed(folder / "model.npz", **arrays)
    (folder / "model.json").write_text(json.dumps(doc, indent=1) + "\n")
    return folder


def load_model(path) -> QuantModel:
    """Read a model written by :func:`save_model` (folder or its ``model.json``), numpy only."""
    folder = Path(path)
    folder = folder.parent if folder.suffix == ".json" else folder
    if not (folder / "model.json").is_file() or not (folder / "model.npz").is_file():
        raise FileNotFoundError(
            f"no exported model in {folder} (expected model.json and model.npz); create one "
            f"with `python -m compsparse export CHECKPOINT --out {folder}`"
        )
    doc = json.loads((folder / "model.json").read_text())
    if doc.get("format") != FORMAT or doc.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{folder}/model.json is not a {FORMAT} v{FORMAT_VERSION} model; re-export it"
        )
    layers = []
    with np.load(folder / "model.npz", allow_pickle=False) as npz:
        for spec in doc["layers"]:
            name = spec["name"]
            ids = npz[f"{name}.kernel_ids"]
            if ids.size and int(ids.max()) >= spec["n_per_group"]:
                raise ValueError(f"{name}: kernel id >= n_per_group; the file is corrupt")
            packed = PackedKernels(
                values=npz[f"{name}.values"],
                kernel_ids=ids,
                n_per_group=spec["n_per_group"],
                n_kernels=spec["n_kernels"],
            )
            requant = spec["requantize"]
            layers.append(
                QuantLayer(
                    name=name,
                    kind=spec["kind"],
                    weights=packed,
                    bias=npz[f"{name}.bias"],
                    multiplier=npz[f"{name}.multiplier"] if requant else None,
                    shift=npz[f"{name}.shift"] if requant else None,
                    in_shape=tuple(spec["in_shape"]),
                    pool=spec["pool"],
                    k=spec["k"],
                    in_min=spec["in_min"],
                    in_scale=spec["in_scale"],
                    weight_scale=npz[f"{name}.weight_scale"],
                    out_scale=spec["out_scale"],
                )
            )
    inp = doc["input"]
    return QuantModel(layers, inp["scale"], inp["offset"], doc["labels"], doc["meta"])


def golden_vectors(model: QuantModel, features) -> dict[str, np.ndarray]:
    """Every intermediate of :meth:`QuantModel.forward_layers` for a few clips, for testbenches.

    Keys (``n`` clips): ``features`` float32 ``(n, h, w)``; ``input`` int8 ``(n, *input_shape)``;
    per layer NAME ``NAME.acc`` int32 ``(n, *acc_shape)``, ``NAME.pooled`` int32
    ``(n, *out_shape)``; for hidden layers ``NAME.out`` int8 ``(n, *out_shape)``; with k-WTA
    ``NAME.active`` int8 (dense, losers 0) and ``NAME.active_indices`` int64 ``(n, nnz)`` (flat,
    ascending); ``logits`` int32 ``(n, n_classes)``.
    """
    features = np.asarray(features, dtype=np.float32)
    runs = [model.forward_layers(x) for x in features]
    out = {"features": features, "input": model.quantize(features).reshape(-1, *model.input_shape)}
    for i, layer in enumerate(model.layers):
        steps = [run[i] for run in runs]
        out[f"{layer.name}.acc"] = np.stack([s.acc for s in steps])
        out[f"{layer.name}.pooled"] = np.stack([s.pooled for s in steps])
        if not layer.is_output:
            out[f"{layer.name}.out"] = np.stack([s.out for s in steps])
        if layer.k is not None:
            out[f"{layer.name}.active"] = np.stack([s.active.to_dense() for s in steps])
            out[f"{layer.name}.active_indices"] = np.stack([s.active.indices for s in steps])
    out["logits"] = out[f"{model.layers[-1].name}.acc"]
    return out


def calibration_clips(features: np.ndarray, n: int = 1000) -> np.ndarray:
    """The ``n`` training clips (fixed seed, in order) that choose the activation scales:
    ``features[pick]`` of ``(N, h, w)``, all of them when ``N <= n``."""
    rng = np.random.default_rng(0)
    return features[np.sort(rng.choice(len(features), size=min(n, len(features)), replace=False))]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=Path, help="training folder or its checkpoint.npz")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the model into")
    parser.add_argument("--data", default="embedded", help="'embedded' or a GSC folder")
    parser.add_argument("--calibration", type=int, default=1000, help="training clips to calibrate")
    parser.add_argument("--percentile", type=float, default=99.99)
    parser.add_argument(
        "--golden", type=int, default=4, help="test clips to write to golden.npz (0: none)"
    )


def run(args: argparse.Namespace) -> int:
    from .nn.checkpoint import load_float_model  # torch is needed to read a checkpoint
    from .nn.data import load_data

    model = load_float_model(args.checkpoint)
    x, _ = load_data(args.data, "train")
    qmodel = quantize_model(model, calibration_clips(x, args.calibration), args.percentile)
    save_model(qmodel, args.out)
    print(f"wrote {args.out}/model.json and model.npz ({len(qmodel.layers)} layers)")
    if args.golden > 0:
        x_test, _ = load_data(args.data, "test")
        np.savez_compressed(
            args.out / "golden.npz", **golden_vectors(qmodel, x_test[: args.golden])
        )
        print(f"wrote {args.out}/golden.npz (every intermediate of {args.golden} test clips)")
    return 0
