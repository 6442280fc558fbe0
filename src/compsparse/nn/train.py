"""``python -m compsparse train``: train one variant of the speech network, resumably.

Seeds are fixed and the data order and augmentation of epoch ``e`` come from a generator seeded
with ``(seed, e)``, so an interrupted run resumed from its last checkpoint (written after every
epoch) ends with the same weights as an uninterrupted one on the same machine and thread count.
The learning rate follows a one-cycle schedule (linear warm-up, cosine decay to zero) computed
from the step number, so it has no state to save. k-WTA boosting starts at ``boost`` and decays
by ``boost_factor`` per epoch; the last ``boost_off`` fraction of the epochs runs without it,
so the network ends trained for what inference (and the hardware) does: rank raw values.

Book: chapter "Training" (book/08_training.ipynb).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from .model import VARIANTS, GSCNet, NetConfig, net_config
from .prune import prune_from

__all__ = ["TrainConfig", "accuracy", "boost_at", "lr_at", "train"]

OPTIMIZERS = ("sgd", "adamw")
HELP = "train the speech network (dense, sparse-dense or sparse-sparse) with checkpoints"


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (one-cycle learning rate; SGD with Nesterov momentum, or AdamW).

    ``optimizer`` is ``"sgd"`` or ``"adamw"`` (``momentum`` is SGD's only; AdamW's weight decay
    is decoupled, so its ``weight_decay`` is on another scale). ``label_smoothing`` softens
    the cross-entropy targets. ``prune`` starts from the teacher: masks chosen by its weight
    magnitudes and its weights copied (:func:`~.prune.prune_from`).
    """

    epochs: int = 40
    batch_size: int = 64
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup: float = 0.15
    boost: float = 1.5
    boost_factor: float = 0.9
    boost_off: float = 0.25
    k_start: float = 1.0
    k_anneal: float = 0.0
    distill: float = 0.0
    temperature: float = 4.0
    augment: bool = True
    seed: int = 0
    optimizer: str = "sgd"
    label_smoothing: float = 0.0
    prune: bool = False

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer {self.optimizer!r}: choose one of {OPTIMIZERS}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label smoothing {self.label_smoothing}: expected 0 <= value < 1")


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """One-cycle: ``lr/10 -> lr`` linearly over ``warmup`` of the steps, then cosine to 0."""
    warm = max(1, round(cfg.warmup * total))
    if step < warm:
        return cfg.lr * (0.1 + 0.9 * step / warm)
    t = (step - warm) / max(1, total - warm)
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * min(t, 1.0)))


def k_factor_at(epoch: int, cfg: TrainConfig) -> float:
    """Training k as a multiple of k: ``k_start`` at epoch 0, linearly down to 1 at ``k_anneal``
    of the epochs, then 1."""
    end = cfg.k_anneal * cfg.epochs
    if epoch >= end:
        return 1.0
    return cfg.k_start + (1.0 - cfg.k_start) * epoch / end


def boost_at(epoch: int, cfg: TrainConfig) -> float:
    """Boost strength of ``epoch``: ``boost * boost_factor**epoch``, 0 in the last epochs."""
    if epoch >= cfg.epochs - round(cfg.boost_off * cfg.epochs):
        return 0.0
    return cfg.boost * cfg.boost_factor**epoch


@torch.no_grad()
def accuracy(model: GSCNet, X: np.ndarray, y: np.ndarray, batch_size: int = 500) -> float:
    """Fraction of ``X`` ``(n, h, w)`` classified as ``y`` (eval mode, float)."""
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(X), batch_size):
        logits = model(torch.from_numpy(X[i : i + batch_size]).to(device))
        correct += int((logits.argmax(1).cpu() == torch.from_numpy(y[i : i + batch_size])).sum())
    return correct / max(1, len(X))


def _distill_loss(logits, teacher, xb, temperature: float):
    """Hinton's distillation term: KL from the teacher's softened outputs, times T**2."""
    with torch.no_grad():
        soft = F.softmax(teacher(xb) / temperature, dim=1)
    log_p = F.log_softmax(logits / temperature, dim=1)
    return F.kl_div(log_p, soft, reduction="batchmean") * temperature**2


def _optimizer(model: GSCNet, cfg: TrainConfig) -> torch.optim.Optimizer:
    decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
    rest = [p for n, p in model.named_parameters() if not n.endswith("weight")]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}]
    if rest:
        groups.append({"params": rest, "weight_decay": 0.0})
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=True)


def train(
    net: NetConfig,
    cfg: TrainConfig,
    data: dict,
    out: Path | None = None,
    resume: bool = True,
    progress: bool = True,
    device: str | None = None,
    augment=None,
    info: dict | None = None,
    teacher: GSCNet | None = None,
) -> tuple[GSCNet, list[dict]]:
    """Train ``net`` with ``cfg``; returns the model (eval mode) and the per-epoch history.

    Args:
        data: ``{"train": (X, y), "validation": (X, y)}``, float32 ``(n, h, w)``, int64 ``(n,)``.
        out: folder for ``checkpoint.npz`` and ``history.json`` (``None``: keep nothing).
        resume: continue from ``out/checkpoint.npz`` if it exists (same configuration only).
        device: ``"cpu"``, ``"cuda"``, or ``None`` for a GPU when present.
        augment: ``f(epoch) -> X``, the augmented training features of an epoch (or ``None``);
            its first ``len(X)`` rows must match ``data["train"]``'s labels.
        info: extra JSON stored in the checkpoint (data source, labels).
        teacher: a trained model to distil from (weight ``cfg.distill``, temperature
            ``cfg.temperature``) and, with ``cfg.prune``, to prune from; or ``None``.
    """
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if cfg.prune and teacher is None:
        raise ValueError("pruning starts from a trained network: pass a teacher")
    if teacher is not None:
        teacher = teacher.to(device).eval()
    torch.use_deterministic_algorithms(True, warn_only=device != "cpu")
    torch.manual_seed(cfg.seed)
    X, y = data["train"]
    Xv, yv = data["validation"]
    model = GSCNet(net).to(device)
    model.input_offset.fill_(float(X.mean()))
    model.input_std.fill_(float(X.std()))
    resuming = out is not None and resume and checkpoint_path(out).is_file()
    if cfg.prune and not resuming:  # a checkpoint holds the pruned masks and weights already
        prune_from(model, teacher)
    optimizer = _optimizer(model, cfg)
    history: list[dict] = []
    start = 0
    if resuming:
        loaded, meta = load_checkpoint(out, device=device)
        same = _as_json(meta["config"]) == _as_json(net.to_json())
        # settings added since the checkpoint was written count as their defaults
        saved = asdict(TrainConfig()) | meta["train"]
        if not same or _as_json(saved) != _as_json(asdict(cfg)):
            raise ValueError(
                f"{out} holds a checkpoint of another configuration; use a new --out folder, or "
                f"--no-resume to start over there"
            )
        model = loaded
        optimizer = _optimizer(model, cfg)
        load_checkpoint(out, optimizer=optimizer, device=device)
        history, start = meta["history"], meta["epoch"]
    steps_per_epoch = math.ceil(len(X) / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        rng = np.random.default_rng([cfg.seed, epoch])
        Xe = augment(epoch)[: len(X)] if (augment is not None and cfg.augment) else X
        order = rng.permutation(len(X))
        model.set_boost(boost_at(epoch, cfg))
        model.set_k_factor(k_factor_at(epoch, cfg))
        model.train()
        loss_sum = correct = seen = 0
        bar = _bar(steps_per_epoch, f"{net.variant} {epoch + 1}/{cfg.epochs}", progress)
        for step in range(steps_per_epoch):
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            if len(idx) < 2:  # batch norm needs two samples
                continue
            for group in optimizer.param_groups:
                group["lr"] = lr_at(epoch * steps_per_epoch + step, total, cfg)
            xb = torch.from_numpy(np.ascontiguousarray(Xe[idx])).to(device)
            yb = torch.from_numpy(y[idx]).to(device)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=cfg.label_smoothing)
            if teacher is not None and cfg.distill > 0:
                loss = (1 - cfg.distill) * loss + cfg.distill * _distill_loss(
                    logits, teacher, xb, cfg.temperature
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(idx)
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        val = accuracy(model, Xv, yv)
        bar.set_postfix(
            loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}", val=f"{val:.3f}"
        )
        bar.close()
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": loss_sum / seen,
                "train_accuracy": correct / seen,
                "val_accuracy": val,
                "lr_end": optimizer.param_groups[0]["lr"],
                "boost": boost_at(epoch, cfg) if model.kwinners() else None,
                "seconds": time.perf_counter() - t0,
                "load_average": os.getloadavg()[0],  # other work sharing the machine
            }
        )
        if out is not None:
            meta = {"epoch": epoch + 1, "history": history, "train": asdict(cfg), **(info or {})}
            save_checkpoint(out, model, optimizer, meta)
            (Path(out) / "history.json").write_text(json.dumps(meta, indent=1) + "\n")
    model.eval()
    return model, history


def _as_json(d: dict) -> str:
    return json.dumps(d, sort_keys=True)


def _bar(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=True, dynamic_ncols=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    parser.add_argument("--variant", required=True, choices=sorted(VARIANTS))
    parser.add_argument("--data", default="embedded", help="'embedded' or a GSC folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for checkpoint/history")
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--lr", type=float, default=d.lr)
    parser.add_argument(
        "--weight-decay",
        type=float,
        default=d.weight_decay,
        help="SGD weight decay on the parameters named weight (biases exempt)",
    )
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument(
        "--teacher",
        type=Path,
        default=None,
        help="a trained checkpoint (e.g. the dense run) to distil from",
    )
    parser.add_argument(
        "--distill", type=float, default=0.5, help="weight of the distillation loss with --teacher"
    )
    parser.add_argument(
        "--k-start",
        type=float,
        default=d.k_start,
        help="train k-WTA with k times this many winners at first (sparse-sparse)",
    )
    parser.add_argument(
        "--k-anneal",
        type=float,
        default=d.k_anneal,
        help="fraction of the epochs over which the training k falls to k",
    )
    parser.add_argument(
        "--label-smoothing",
        type=float,
        default=d.label_smoothing,
        help="soften the cross-entropy targets by this much (0 <= value < 1)",
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="start from --teacher: masks chosen by its weight magnitudes, its weights copied",
    )
    parser.add_argument(
        "--kernels-per-group",
        default=None,
        help="kernels per packed kernel of conv1, conv2, linear1, output, e.g. 2,3,35,1 "
        "(weight sparsity 1 - 1/n; default: the variant's, 2,8,25,1 when sparse)",
    )
    parser.add_argument("--no-augment", action="store_true", help="train on the clips as they are")
    parser.add_argument(
        "--no-resume", action="store_true", help="start over even if --out has a checkpoint"
    )
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--limit", type=int, default=None, help="use only the first N training clips"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _kernels_per_group(text: str | None, variant: str) -> dict:
    """``{"n_per_group": (n1, n2, n3, n4)}`` from ``"n1,n2,n3,n4"``, or ``{}`` for no text."""
    if text is None:
        return {}
    if variant == "dense":
        raise ValueError(
            "the dense variant has no sparse weights; use sparse-dense or sparse-sparse"
        )
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or min(values) < 1:
        raise ValueError(
            f"{text!r}: expected four positive integers (conv1, conv2, linear1, output), "
            f"such as 2,8,25,1"
        )
    return {"n_per_group": values}


def run(args: argparse.Namespace) -> int:
    from .data import DataError, augmenter, labels, load_data

    try:
        packing = _kernels_per_group(args.kernels_per_group, args.variant)
    except ValueError as err:
        print(f"compsparse train: --kernels-per-group: {err}")
        return 2
    try:
        cfg = TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            weight_decay=args.weight_decay,
            seed=args.seed,
            augment=not args.no_augment,
            distill=args.distill if args.teacher else 0.0,
            k_start=args.k_start,
            k_anneal=args.k_anneal,
            label_smoothing=args.label_smoothing,
            prune=args.prune,
        )
        if args.prune and (args.teacher is None or args.variant == "dense"):
            raise ValueError("--prune makes a sparse variant from a trained --teacher; pass both")
    except ValueError as err:
        print(f"compsparse train: {err}")
        return 2
    torch.set_num_threads(args.threads)
    teacher = None
    if args.teacher is not None:
        try:
            teacher, _ = load_checkpoint(args.teacher, device=args.device or "cpu")
        except FileNotFoundError as err:
            print(f"compsparse train: --teacher: {err}")
            return 2
    try:
        data = {split: load_data(args.data, split) for split in ("train", "validation")}
        augment = augmenter(args.data, args.seed) if cfg.augment else None
        names = labels(args.data)
    except DataError as err:
        print(f"compsparse train: {err}")
        return 2
    if args.limit:
        data["train"] = tuple(a[: args.limit] for a in data["train"])
    net = net_config(args.variant, seed=args.seed, n_classes=len(names), **packing)
    from ..benchtools import machine_info

    info = {
        "data": str(args.data),
        "labels": names,
        "threads": args.threads,
        "teacher": None if args.teacher is None else str(args.teacher),
        "machine": machine_info() | {"torch": torch.__version__, "device": args.device or "auto"},
    }
    t0 = time.perf_counter()
    _, history = train(
        net,
        cfg,
        data,
        args.out,
        not args.no_resume,
        not args.quiet,
        args.device,
        augment,
        info,
        teacher,
    )
    summary = {
        "variant": args.variant,
        "epochs": len(history),
        "val_accuracy": history[-1]["val_accuracy"] if history else None,
        "train_seconds_total": sum(h["seconds"] for h in history),
        "this_run_seconds": time.perf_counter() - t0,
        "checkpoint": str(checkpoint_path(args.out)),
    }
    print(json.dumps(summary, indent=1))
    return 0
