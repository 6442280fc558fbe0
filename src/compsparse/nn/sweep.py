"""``python -m compsparse sweep``: train recipes x seeds side by side, one JSON line per run.

One run trains the speech network with one named recipe (:data:`RECIPES`: a variant, changes to
its :class:`~.model.NetConfig` and to the :class:`~.train.TrainConfig` defaults) and one seed,
then measures validation accuracy, float32 test accuracy and int8 test accuracy (exported with
the same quantisation as ``python -m compsparse export`` and run through the integer pipeline).
Runs go to separate processes (``--jobs``); each finished run appends its line to ``--out``
straight away, and runs already in the file are skipped, so an interrupted sweep resumes. A run
that fails is reported with its error and leaves no line, so the same command runs it again.

It answers the question a single run cannot: whether a recipe's lead is larger than the spread
between seeds. Book: chapter "Training" (book/08_training.ipynb).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import signal
import time
import traceback
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

__all__ = [
    "DIAGNOSTIC_RECIPES",
    "PRUNE_RECIPES",
    "RECIPES",
    "REFERENCE_RECIPES",
    "SPLIT_RECIPES",
    "load_runs",
    "run_one",
    "summarise",
]

# The committed sparse-sparse recipe (chapter "Training"): k annealing and distillation.
_SS = {"k_start": 3.0, "k_anneal": 0.5, "distill": 0.5}

# name -> (variant, NetConfig changes, TrainConfig changes, what it tries)
RECIPES: dict[str, tuple[str, dict, dict, str]] = {
    "dense": ("dense", {}, {}, "the dense network (the reference)"),
    "sparse-dense": ("sparse-dense", {}, {}, "sparse weights, dense activations"),
    "base": ("sparse-sparse", {}, _SS, "the committed sparse-sparse recipe"),
    "noboost": ("sparse-sparse", {}, _SS | {"boost": 0.0}, "no k-WTA boosting"),
    "boostoff50": (
        "sparse-sparse",
        {},
        _SS | {"boost_off": 0.5},
        "boosting off for the last half of the epochs (not a quarter)",
    ),
    "k180": ("sparse-sparse", {"k": (7, 7, 180)}, _SS, "180 linear winners (88% zeros)"),
    "T2": ("sparse-sparse", {}, _SS | {"temperature": 2.0}, "distillation temperature 2"),
    "distill1": ("sparse-sparse", {}, _SS | {"distill": 1.0}, "distillation loss only"),
    "mom95": ("sparse-sparse", {}, _SS | {"momentum": 0.95}, "momentum 0.95"),
    "wd1e3": ("sparse-sparse", {}, _SS | {"weight_decay": 1e-3}, "weight decay 1e-3"),
    "bs32": ("sparse-sparse", {}, _SS | {"batch_size": 32, "lr": 0.05}, "batch 32, lr 0.05"),
    "ep60": ("sparse-sparse", {}, _SS | {"epochs": 60}, "60 epochs"),
    "noaug": ("sparse-sparse", {}, _SS | {"augment": False}, "no augmentation"),
    "kdense": (
        "sparse-sparse",
        {},
        _SS | {"k_start": 10.0},
        "dense activations at first (k x 10), k reached half-way",
    ),
    "kdense75": (
        "sparse-sparse",
        {},
        _SS | {"k_start": 10.0, "k_anneal": 0.75},
        "dense activations at first, k reached at 3/4 of the epochs",
    ),
    "adamw": (
        "sparse-sparse",
        {},
        _SS | {"optimizer": "adamw", "lr": 3e-3, "weight_decay": 0.05},
        "AdamW, lr 3e-3, decoupled weight decay 0.05",
    ),
    "adamw1e3": (
        "sparse-sparse",
        {},
        _SS | {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.05},
        "AdamW, lr 1e-3, decoupled weight decay 0.05",
    ),
    "adamw_kdense": (
        "sparse-sparse",
        {},
        _SS | {"optimizer": "adamw", "lr": 3e-3, "weight_decay": 0.05, "k_start": 10.0},
        "AdamW (lr 3e-3) and dense activations at first",
    ),
    # Other splits of the same weight budget: more of it in conv2, less in linear1 (their runs:
    # data/results/ablation/split_sweep_cpu.jsonl, on a CPU; chapter "Training").
    "conv2n4_lin30": (
        "sparse-sparse",
        {"n_per_group": (2, 4, 30, 1)},
        _SS,
        "conv2 4, linear1 30 kernels per group",
    ),
    "conv2n3_lin35": (
        "sparse-sparse",
        {"n_per_group": (2, 3, 35, 1)},
        _SS,
        "conv2 3, linear1 35 kernels per group",
    ),
    "conv2n3_noboost": (
        "sparse-sparse",
        {"n_per_group": (2, 3, 35, 1)},
        _SS | {"boost": 0.0},
        "conv2 3, linear1 35 kernels per group, no k-WTA boosting",
    ),
    "conv2n2": (
        "sparse-sparse",
        {"n_per_group": (2, 2, 50, 1)},
        _SS,
        "conv2 2, linear1 50 kernels per group",
    ),
    "conv2n2_lin40": (
        "sparse-sparse",
        {"n_per_group": (2, 2, 40, 1)},
        _SS,
        "conv2 2, linear1 40 kernels per group",
    ),
    "conv2n2_conv1dense": (
        "sparse-sparse",
        {"n_per_group": (1, 2, 50, 1)},
        _SS,
        "conv1 dense, conv2 2, linear1 50 kernels per group",
    ),
    "smooth": ("sparse-sparse", {}, _SS | {"label_smoothing": 0.1}, "label smoothing 0.1"),
    # The leads stacked, inside the paper's sparsity (180 linear winners is still 88% zeros).
    "conv2n3_smooth": (
        "sparse-sparse",
        {"n_per_group": (2, 3, 35, 1)},
        _SS | {"label_smoothing": 0.1},
        "conv2 3, linear1 35 kernels per group, label smoothing 0.1",
    ),
    "conv2n3_k180_smooth": (
        "sparse-sparse",
        {"n_per_group": (2, 3, 35, 1), "k": (7, 7, 180)},
        _SS | {"label_smoothing": 0.1},
        "conv2 3, linear1 35 kernels per group, 180 linear winners, label smoothing 0.1",
    ),
    "conv2n2_k180_smooth": (
        "sparse-sparse",
        {"n_per_group": (2, 2, 50, 1), "k": (7, 7, 180)},
        _SS | {"label_smoothing": 0.1},
        "conv2 2, linear1 50 kernels per group, 180 linear winners, label smoothing 0.1",
    ),
    # Start from the trained dense teacher instead of random masks and weights.
    "prune": (
        "sparse-sparse",
        {},
        _SS | {"prune": True},
        "masks by the dense network's weight magnitudes, its weights as the start",
    ),
    "prune_k1": (
        "sparse-sparse",
        {},
        _SS | {"prune": True, "k_start": 1.0},
        "pruned from the dense network, k winners from the first epoch",
    ),
    "prune_lr02": (
        "sparse-sparse",
        {},
        _SS | {"prune": True, "lr": 0.02},
        "pruned from the dense network, learning rate 0.02 (fine-tuning)",
    ),
    "prune_smooth": (
        "sparse-sparse",
        {},
        _SS | {"prune": True, "label_smoothing": 0.1},
        "pruned from the dense network, label smoothing 0.1",
    ),
    "prune_noboost": (
        "sparse-sparse",
        {},
        _SS | {"prune": True, "boost": 0.0},
        "pruned from the dense network, no k-WTA boosting",
    ),
    "prune_k1_noboost": (
        "sparse-sparse",
        {},
        _SS | {"prune": True, "k_start": 1.0, "boost": 0.0},
        "pruned from the dense network, k winners from the first epoch, no boosting",
    ),
    "prune_kdense": (
        "sparse-sparse",
        {},
        _SS | {"prune": True, "k_start": 10.0},
        "pruned from the dense network, dense activations at first, k reached half-way",
    ),
    "prune_kdense_noboost": (
        "sparse-sparse",
        {},
        _SS | {"prune": True, "k_start": 10.0, "boost": 0.0},
        "pruned from the dense network, dense activations at first, no boosting",
    ),
    "prune_T2_noboost": (
        "sparse-sparse",
        {},
        _SS | {"prune": True, "temperature": 2.0, "boost": 0.0},
        "pruned from the dense network, distillation temperature 2, no boosting",
    ),
    "prune_conv2n3_smooth": (
        "sparse-sparse",
        {"n_per_group": (2, 3, 35, 1)},
        _SS | {"prune": True, "label_smoothing": 0.1},
        "pruned from the dense network, conv2 3, linear1 35 kernels per group, label smoothing 0.1",
    ),
    # Diagnostics (labels start "diagnostic:"): one layer off the paper's sparsity on purpose,
    # to show where the lost points go.
    "kconv16": (
        "sparse-sparse",
        {"k": (16, 16, 150)},
        _SS,
        "diagnostic: 16 of 64 conv winners (75% zeros)",
    ),
    "klin300": (
        "sparse-sparse",
        {"k": (7, 7, 300)},
        _SS,
        "diagnostic: 300 linear winners (80% zeros)",
    ),
    "sd_conv2dense": (
        "sparse-dense",
        {"n_per_group": (2, 1, 25, 1)},
        {},
        "diagnostic: sparse-dense with conv2 dense",
    ),
    "sd_lin1dense": (
        "sparse-dense",
        {"n_per_group": (2, 8, 1, 1)},
        {},
        "diagnostic: sparse-dense with linear1 dense",
    ),
}

# Recipes that are not candidates for the sparse-sparse network: the two other variants, and
# the diagnostics.
REFERENCE_RECIPES = ("dense", "sparse-dense")
DIAGNOSTIC_RECIPES = tuple(n for n, r in RECIPES.items() if r[3].startswith("diagnostic:"))
# Sparse-sparse candidates that start from the trained dense network (a section of their own).
PRUNE_RECIPES = tuple(n for n, r in RECIPES.items() if r[2].get("prune", False))
# Sparse-sparse candidates with random masks that move weights between the layers; the chapter
# compares them with the paper-like split in a section of their own.
SPLIT_RECIPES = tuple(
    n
    for n, r in RECIPES.items()
    if "n_per_group" in r[1] and n not in DIAGNOSTIC_RECIPES + REFERENCE_RECIPES + PRUNE_RECIPES
)


def run_one(
    recipe: str,
    seed: int,
    data: str = "embedded",
    teacher: Path | None = None,
    device: str | None = None,
    epochs: int | None = None,
    limit: int | None = None,
    threads: int = 1,
) -> dict:
    """Train ``recipe`` with ``seed`` and measure it; returns the run's JSON row.

    Args:
        teacher: checkpoint to distil from (needed by recipes that distil or prune).
        epochs: override the recipe's epoch count (quick checks); limit: use only the first
            ``limit`` training clips.

    Returns:
        ``{"recipe", "seed", "val", "best_val", "train_acc", "test_float", "test_int8",
        "seconds", "device", "val_curve", "net", "train", "torch"}``: accuracies as fractions,
        ``net``/``train`` the full configurations.
    """
    import torch

    from ..evaluate import evaluate_quant
    from ..export import calibration_clips, quantize_model
    from .checkpoint import load_checkpoint
    from .data import augmenter, labels, load_data
    from .model import net_config
    from .train import TrainConfig, accuracy, train

    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; choose from {', '.join(RECIPES)}")
    variant, net_changes, train_changes, _ = RECIPES[recipe]
    torch.set_num_threads(threads)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    cfg = TrainConfig(seed=seed, **train_changes)
    if epochs:
        cfg = replace(cfg, epochs=epochs)
    names = labels(data)
    net = net_config(variant, seed=seed, n_classes=len(names), **net_changes)
    splits = {s: load_data(data, s) for s in ("train", "validation", "test")}
    if limit:
        splits["train"] = tuple(a[:limit] for a in splits["train"])
    teacher_model = None
    if _needs_teacher(recipe):
        if teacher is None:
            raise ValueError(f"recipe {recipe!r} needs --teacher (the dense checkpoint)")
        teacher_model, _ = load_checkpoint(teacher, device=device)
    t0 = time.perf_counter()
    model, history = train(
        net,
        cfg,
        splits,
        None,
        progress=False,
        device=device,
        augment=augmenter(data, seed) if cfg.augment else None,
        teacher=teacher_model,
    )
    seconds = time.perf_counter() - t0
    X_test, y_test = splits["test"]
    test_float = accuracy(model, X_test, y_test)
    float_model = model.cpu().eval().to_float_model(labels=names)
    calibration = calibration_clips(splits["train"][0])  # as `compsparse export` does
    int8 = evaluate_quant(quantize_model(float_model, calibration), X_test, y_test, check=0)
    return {
        "recipe": recipe,
        "seed": seed,
        "val": history[-1]["val_accuracy"],
        "best_val": max(h["val_accuracy"] for h in history),
        "train_acc": history[-1]["train_accuracy"],
        "test_float": test_float,
        "test_int8": int8["accuracy"],
        "seconds": seconds,
        "device": device,
        "host": torch.cuda.get_device_name() if device == "cuda" else platform.processor(),
        "val_curve": [round(h["val_accuracy"], 4) for h in history],
        "net": net.to_json(),
        "train": asdict(cfg),
        "torch": torch.__version__,
    }


def load_runs(path) -> list[dict]:
    """The rows of a sweep file (JSON lines); an empty list if it does not exist yet."""
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def summarise(runs: list[dict], key: str = "test_int8") -> list[dict]:
    """Per recipe, in :data:`RECIPES` order: ``{"recipe", "what", "n", "mean", "min", "max",
    "seeds"}`` of ``key`` over its runs (recipes without runs are left out)."""
    rows = []
    for name, (_, _, _, what) in RECIPES.items():
        values = [r[key] for r in runs if r["recipe"] == name]
        if values:
            seeds = sorted(r["seed"] for r in runs if r["recipe"] == name)
            rows.append(
                {
                    "recipe": name,
                    "what": what,
                    "n": len(values),
                    "mean": float(np.mean(values)),
                    "min": float(min(values)),
                    "max": float(max(values)),
                    "seeds": seeds,
                }
            )
    return rows


def _needs_teacher(recipe: str) -> bool:
    """Whether ``recipe`` distils from or prunes from the dense network (both off by default)."""
    changes = RECIPES[recipe][2]
    return changes.get("distill", 0.0) > 0 or changes.get("prune", False)


def _job(args: tuple) -> dict:
    recipe, seed, kwargs = args
    try:
        return run_one(recipe, seed, **kwargs)
    except Exception:  # one failed run must not cost the other runs their rows
        return {"recipe": recipe, "seed": seed, "error": traceback.format_exc()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--recipes",
        default=",".join(RECIPES),
        help=f"comma-separated names from: {', '.join(RECIPES)}",
    )
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--out", type=Path, required=True, help="JSON-lines file (appended)")
    parser.add_argument(
        "--teacher", type=Path, default=None, help="dense checkpoint to distil or prune from"
    )
    parser.add_argument("--data", default="embedded", help="'embedded' or a GSC folder")
    parser.add_argument("--jobs", type=int, default=1, help="runs side by side (processes)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per run")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--epochs", type=int, default=None, help="override every recipe's")
    parser.add_argument("--limit", type=int, default=None, help="first N training clips only")


def run(args: argparse.Namespace) -> int:
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    unknown = [r for r in recipes if r not in RECIPES]
    if unknown:
        print(f"compsparse sweep: unknown recipe(s) {unknown}; choose from {', '.join(RECIPES)}")
        return 2
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        print(f"compsparse sweep: --seeds {args.seeds!r}: expected integers such as 0,1,2")
        return 2
    if args.teacher is not None and not args.teacher.exists():
        print(f"compsparse sweep: --teacher {args.teacher}: no such checkpoint")
        return 2
    learners = [r for r in recipes if _needs_teacher(r)]
    if learners and args.teacher is None:
        print(
            f"compsparse sweep: recipe(s) {learners} learn from the dense network: pass --teacher "
            f"(train it with: python -m compsparse train --variant dense --out runs/dense)"
        )
        return 2
    from .data import DataError, check_source

    try:
        check_source(args.data)
    except DataError as err:
        print(f"compsparse sweep: {err}")
        return 2
    done = {(r["recipe"], r["seed"]) for r in load_runs(args.out)}
    todo = [(r, s) for s in seeds for r in recipes if (r, s) not in done]
    print(f"{len(todo)} runs to do, {len(done)} already in {args.out}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {
        "data": args.data,
        "teacher": args.teacher,
        "device": args.device,
        "epochs": args.epochs,
        "limit": args.limit,
        "threads": args.threads,
    }
    from tqdm.auto import tqdm

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))  # inherited by the runs
    # spawn, not fork: a forked child of a process that already runs torch threads can hang
    context = multiprocessing.get_context("spawn")
    # A Pool's exit terminates its workers, also on an exception; turning SIGTERM into one
    # (as Ctrl-C already is) stops the runs with the sweep instead of leaving them to train on.
    on_term = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    jobs, failed = [(r, s, kwargs) for r, s in todo], []
    try:
        with context.Pool(processes=max(1, args.jobs)) as pool:
            for row in tqdm(pool.imap_unordered(_job, jobs), total=len(jobs), desc="sweep"):
                if "error" in row:
                    failed.append(f"{row['recipe']} seed {row['seed']}")
                    tqdm.write(f"{failed[-1]} failed:\n{row['error']}")
                    continue
                with args.out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                tqdm.write(
                    f"{row['recipe']} seed {row['seed']}: val {row['val']:.3f}, "
                    f"test float32 {row['test_float']:.3f}, int8 {row['test_int8']:.3f}"
                )
    finally:
        signal.signal(signal.SIGTERM, on_term)
    if failed:
        print(
            f"compsparse sweep: {len(failed)} of {len(jobs)} runs failed ({', '.join(failed)}); "
            f"their errors are above, and the same command runs only them again"
        )
        return 1
    return 0


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)
