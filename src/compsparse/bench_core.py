"""``python -m compsparse bench-core``: the numpy reference at the speech network's layer sizes.

Times dense numpy against ``cs.linear``/``cs.conv2d`` sparse-dense and sparse-sparse on the two
big layers of the GSC network (conv 64->64 5x5 on 14x14, linear 1600->1500) at 95% weight
sparsity and about 10% of activations kept, and writes the medians as JSON. This is the readable
reference, not the fast path (that is ``compsparse.fast``); the numbers show it is not
pathological.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from .benchtools import machine_info, time_interleaved
from .costmodel import conv2d_macs, linear_macs
from .kwta import kwta
from .ops import _windows, conv2d, linear
from .packing import complementary_masks, pack

HELP = "time the numpy reference of the five steps at the GSC layer sizes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("data/results/core_bench.json"), help="JSON file to write"
    )
    parser.add_argument(
        "--repeats", type=int, default=21, help="timed samples per candidate (median reported)"
    )
    parser.add_argument(
        "--n-per-group", type=int, default=20, help="kernels per group (20: 95%% weight sparsity)"
    )
    parser.add_argument("--seed", type=int, default=0)


def _layers(n_per_group: int, seed: int) -> dict[str, dict]:
    rng = np.random.default_rng(seed)
    conv_w = rng.standard_normal((64, 64, 5, 5)).astype(np.float32)
    conv_w *= complementary_masks(64, (64, 5, 5), n_per_group, seed=rng)
    conv_x = np.maximum(rng.standard_normal((64, 14, 14)), 0).astype(np.float32)
    lin_w = rng.standard_normal((1500, 1600)).astype(np.float32)
    lin_w *= complementary_masks(1500, 1600, n_per_group, seed=rng)
    lin_x = np.maximum(rng.standard_normal(1600), 0).astype(np.float32)
    conv_k, lin_k = 7, 160  # 7 of 64 channels per pixel (10.9%), 160 of 1600 units (10%)
    conv_P, lin_P = pack(conv_w, n_per_group), pack(lin_w, n_per_group)
    conv_a, lin_a = kwta(conv_x, conv_k, axis=0), kwta(lin_x, lin_k)
    conv_dense_w = conv_w.reshape(64, -1)

    def numpy_conv():  # im2col + matmul: what a plain numpy user writes
        return conv_dense_w @ _windows(conv_x, (5, 5), (10, 10), 1, 0).T

    return {
        "conv2 64->64 5x5 on 14x14": {
            "macs": conv2d_macs(64, 64, 5, (10, 10), n_per_group, conv_k)._asdict(),
            "candidates": {
                "numpy dense": numpy_conv,
                "cs.conv2d sparse-dense": lambda: conv2d(conv_x, conv_P),
                "cs.conv2d sparse-sparse": lambda: conv2d(conv_a, conv_P),
            },
        },
        "linear 1600->1500": {
            "macs": linear_macs(1600, 1500, n_per_group, lin_k)._asdict(),
            "candidates": {
                "numpy dense": lambda: lin_w @ lin_x,
                "cs.linear sparse-dense": lambda: linear(lin_x, lin_P),
                "cs.linear sparse-sparse": lambda: linear(lin_a, lin_P),
            },
        },
    }


def run(args: argparse.Namespace) -> int:
    results = {"machine": machine_info(), "n_per_group": args.n_per_group, "layers": {}}
    for name, layer in _layers(args.n_per_group, args.seed).items():
        timings = time_interleaved(layer["candidates"], repeats=args.repeats)
        base = timings["numpy dense"]["median_s"]
        for t in timings.values():
            t["ratio_vs_numpy_dense"] = base / t["median_s"]
        results["layers"][name] = {"macs": layer["macs"], "timings": timings}
        print(name)
        for cand, t in timings.items():
            print(
                f"  {cand:<26} {t['median_s'] * 1e3:8.3f} ms  "
                f"({t['ratio_vs_numpy_dense']:.2f}x numpy dense)"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0
