"""``python -m compsparse evaluate MODEL``: accuracy and measured sparsity, as JSON.

``MODEL`` is an exported int8 model folder (``model.json`` + ``model.npz``: evaluated with the
numpy integer pipeline, no torch) or a training folder / ``checkpoint.npz`` (evaluated in float
with the numpy float pipeline, batch norm folded; reading the checkpoint needs torch).

Reported per layer: the weight sparsity (positions outside the masks, and the zero weights), the
k of its k-WTA, and the measured activation sparsity of the layer's *input* (fraction of zeros
over the evaluated clips). For an int8 model the fast batched path is checked bit for bit
against the reference :meth:`~compsparse.quant.QuantModel.forward_layers` on the first clips.
``--out FILE`` also writes the JSON, with every clip's predicted class.

Book: chapters "Training" and "int8".
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HELP = "accuracy and measured weight/activation sparsity of a model or checkpoint (JSON)"


def _owned(kernel_size: int, n_per_group: int, n_kernels: int) -> int:
    """Weight positions owned by a kernel: every position of a full group and, in a partial
    last group, its kernels' shares, which :func:`compsparse.complementary_masks` makes the
    first shares of a full group. (The packed kernel ids cannot tell: unused positions have
    id 0 too.)"""
    full = n_kernels // n_per_group
    shares = [len(s) for s in np.array_split(np.arange(kernel_size), n_per_group)]
    return full * kernel_size + sum(shares[: n_kernels - full * n_per_group])


def evaluate_quant(model, X: np.ndarray, y: np.ndarray, check: int = 3) -> dict:
    """Accuracy and per-layer sparsity of a :class:`~compsparse.quant.QuantModel` on ``(X, y)``."""
    stats: dict = {}
    t0 = time.perf_counter()
    logits = model.logits(X, stats=stats)
    seconds = time.perf_counter() - t0
    exact = all(
        np.array_equal(model.forward_layers(X[i])[-1].acc, logits[i])
        for i in range(min(check, len(X)))
    )
    layers = []
    for layer in model.layers:
        p = layer.weights
        size = int(np.prod(p.kernel_shape))
        positions, owned = size * p.n_kernels, _owned(size, p.n_per_group, p.n_kernels)
        layers.append(
            _layer_row(layer.name, p.n_per_group, positions, owned, int(np.count_nonzero(p.values)))
            | {"k": layer.k, "acc_bits": layer.acc_bits}
            | _input_sparsity(stats[layer.name])
        )
    return {
        "precision": "int8",
        "accuracy": float(np.mean(np.argmax(logits, axis=1) == y)),
        "predictions": np.argmax(logits, axis=1).tolist(),
        "seconds": seconds,
        "reference_check": {"clips": min(check, len(X)), "bit_exact": bool(exact)},
        "layers": layers,
    }


def evaluate_float(model, X: np.ndarray, y: np.ndarray) -> dict:
    """Accuracy and per-layer sparsity of a :class:`~compsparse.export.FloatModel`."""
    stats: dict = {}
    t0 = time.perf_counter()
    logits = model.logits(X, stats=stats)
    seconds = time.perf_counter() - t0
    layers = []
    for layer in model.layers:
        positions = int(layer.mask.size)
        owned, nonzero = int(layer.mask.sum()), int(np.count_nonzero(layer.weight))
        row = _layer_row(layer.name, layer.n_per_group, positions, owned, nonzero)
        layers.append(row | {"k": layer.k} | _input_sparsity(stats[layer.name]))
    return {
        "precision": "float32",
        "accuracy": float(np.mean(np.argmax(logits, axis=1) == y)),
        "predictions": np.argmax(logits, axis=1).tolist(),
        "seconds": seconds,
        "layers": layers,
    }


def _layer_row(name, n_per_group, positions, owned, nonzero) -> dict:
    return {
        "name": name,
        "n_per_group": n_per_group,
        "weight_positions": positions,
        "weights_in_masks": owned,
        "weights_nonzero": nonzero,
        "weight_sparsity": 1.0 - owned / positions,
        "weight_sparsity_configured": 1.0 - 1.0 / n_per_group,
    }


def _input_sparsity(entry: dict) -> dict:
    return {"input_sparsity": entry["zeros"] / entry["total"]}


def evaluate_path(path, data: str = "embedded", split: str = "test", check: int = 3) -> dict:
    """Evaluate an exported model folder or a checkpoint on ``data``'s ``split``."""
    from .nn.data import load_data  # numpy-only path when data is the embedded set

    path = Path(path)
    X, y = load_data(data, split)
    if (path / "model.json").is_file() or path.suffix == ".json":
        from .export import load_model

        model = load_model(path)
        result = evaluate_quant(model, X, y, check)
    else:
        from .nn.checkpoint import load_float_model

        model = load_float_model(path)
        result = evaluate_float(model, X, y)
    counts = np.bincount(y)
    result = {
        "model": str(path),
        "variant": model.meta.get("variant"),
        "data": data,
        "split": split,
        "n": len(y),
        "chance_uniform": 1.0 / np.count_nonzero(counts),
        "majority_class": float(counts.max() / len(y)),
        **result,
    }
    result["weights_in_masks"] = sum(row["weights_in_masks"] for row in result["layers"])
    result["weight_positions"] = sum(row["weight_positions"] for row in result["layers"])
    return result


VARIANTS = ("dense", "sparse-dense", "sparse-sparse")


def committed_results(root=None) -> dict:
    """The committed results of the three variants, for the chapters and tests.

    Returns ``{variant: {"training": history JSON, "float32": evaluate JSON, "int8": evaluate
    JSON}}`` from ``data/results/training/VARIANT.json`` and
    ``data/results/evaluate/VARIANT-{float32,int8}.json`` (entries missing if not there).
    """
    from .paths import data_dir

    base = Path(root) if root is not None else data_dir("results")
    out: dict = {}
    for variant in VARIANTS:
        files = {
            "training": base / "training" / f"{variant}.json",
            "float32": base / "evaluate" / f"{variant}-float32.json",
            "int8": base / "evaluate" / f"{variant}-int8.json",
        }
        out[variant] = {k: json.loads(p.read_text()) for k, p in files.items() if p.is_file()}
    return out


# How the sparse-sparse network was trained, from the plain recipe to the committed model's.
RECIPES = {
    "plain": "the dense network's recipe",
    "k-anneal": "+ training k from 3k down to k (`--k-start 3 --k-anneal 0.5`)",
    "k-anneal-distill": "+ distillation from the dense network (`--teacher runs/dense`)",
    "prune-split": "+ masks and weights from the dense network (`--prune`), conv2 3 and linear1 "
    "35 kernels per group (`--kernels-per-group 2,3,35,1`), label smoothing 0.1",
}


def recipe_results(root=None) -> list[dict]:
    """float32 and int8 test accuracy of the sparse-sparse network under each recipe.

    The last recipe is the committed model (``data/results/evaluate/``); the others are in
    ``data/results/ablation/sparse-sparse-RECIPE-{float32,int8}.json``. Returns one row per
    recipe found: ``{"recipe", "what", "float32", "int8"}`` (accuracies as fractions).
    """
    from .paths import data_dir

    base = Path(root) if root is not None else data_dir("results")
    final = list(RECIPES)[-1]
    rows = []
    for recipe, what in RECIPES.items():
        stem = "evaluate/sparse-sparse" if recipe == final else f"ablation/sparse-sparse-{recipe}"
        files = {p: base / f"{stem}-{p}.json" for p in ("float32", "int8")}
        if not all(f.is_file() for f in files.values()):
            continue
        acc = {p: json.loads(f.read_text())["accuracy"] for p, f in files.items()}
        rows.append({"recipe": recipe, "what": what, **acc})
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="exported model folder, or a checkpoint")
    parser.add_argument("--data", default="embedded", help="'embedded' or a GSC folder")
    parser.add_argument("--split", default="test", choices=["train", "validation", "test"])
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--check", type=int, default=3, help="clips checked against the reference")


def run(args: argparse.Namespace) -> int:
    from .nn.data import DataError

    try:
        result = evaluate_path(args.model, args.data, args.split, args.check)
    except (DataError, FileNotFoundError) as err:
        print(f"compsparse evaluate: {err}")
        return 2
    predictions = result.pop("predictions")
    print(json.dumps(result, indent=1))
    if args.out is not None:  # the file also keeps every clip's predicted class, on one line
        args.out.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(result, indent=1)
        text = text[:-2] + ',\n "predictions": ' + json.dumps(predictions) + "\n}\n"
        args.out.write_text(text)
    if result.get("reference_check", {}).get("bit_exact") is False:
        print("compsparse evaluate: the batched int8 path differs from the reference!")
        return 1
    return 0
