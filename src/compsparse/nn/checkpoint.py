"""Training checkpoints as numpy ``.npz`` (no pickle), written atomically.

Keys: ``model/<state_dict key>`` (parameters and buffers: weights, masks, batch-norm statistics,
duty cycles, boost), ``optim/<param index>/<state key>`` (e.g. momentum buffers), and ``meta``:
UTF-8 JSON bytes (uint8) with the network config, the training settings, the completed epochs,
the history and the optimiser's hyper-parameters. ``np.load(..., allow_pickle=False)`` reads it.

Book: chapter "Training" (book/08_training.ipynb).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from ..export import FloatModel
from .model import GSCNet, NetConfig

__all__ = [
    "CHECKPOINT",
    "checkpoint_path",
    "load_checkpoint",
    "load_float_model",
    "save_checkpoint",
]

CHECKPOINT = "checkpoint.npz"


def checkpoint_path(path) -> Path:
    """``path`` itself if it is a file, else ``path/checkpoint.npz``."""
    path = Path(path)
    return path if path.suffix == ".npz" else path / CHECKPOINT


def save_checkpoint(path, model: GSCNet, optimizer: torch.optim.Optimizer | None, meta: dict):
    """Write model (and optimiser) state and ``meta`` to ``path`` atomically (tmp + rename)."""
    path = checkpoint_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"model/{k}": v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    meta = dict(meta, config=model.config.to_json())
    if optimizer is not None:
        state = optimizer.state_dict()
        for index, entries in state["state"].items():
            for key, value in entries.items():
                arrays[f"optim/{index}/{key}"] = torch.as_tensor(value).cpu().numpy()
        meta["optimizer_param_groups"] = state["param_groups"]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load_checkpoint(path, optimizer: torch.optim.Optimizer | None = None, device="cpu"):
    """Read a checkpoint: returns ``(model, meta)``; fills ``optimizer`` if given.

    Raises:
        FileNotFoundError: no checkpoint at ``path`` (the message says how to make one).
    """
    path = checkpoint_path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {path}; train one with "
            f"`python -m compsparse train --variant sparse-sparse --data embedded --out DIR`"
        )
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(npz["meta"].tobytes().decode())
        model = GSCNet(NetConfig.from_json(meta["config"])).to(device)
        state = {k[6:]: torch.from_numpy(npz[k]) for k in npz.files if k.startswith("model/")}
        model.load_state_dict(state)
        if optimizer is not None and "optimizer_param_groups" in meta:
            opt_state: dict = {}
            for key in npz.files:
                if key.startswith("optim/"):
                    _, index, name = key.split("/", 2)
                    opt_state.setdefault(int(index), {})[name] = torch.from_numpy(npz[key])
            optimizer.load_state_dict(
                {"state": opt_state, "param_groups": meta["optimizer_param_groups"]}
            )
    return model, meta


def load_float_model(path) -> FloatModel:
    """The trained network of a checkpoint, batch norm folded, as a numpy :class:`FloatModel`."""
    model, meta = load_checkpoint(path)
    model.eval()
    fm = model.to_float_model(labels=meta.get("labels", []))
    fm.meta.update(
        {
            "epochs": meta.get("epoch"),
            "data": meta.get("data"),
            "train": meta.get("train"),
        }
    )
    return fm
