"""torch side of the book: masked complementary layers, k-WTA with boosting, the speech network.

Needs torch (``pip install compsparse[train]``), but only when a torch name is used: the
attributes below load lazily, so ``compsparse.nn.data`` works with numpy alone.

- :mod:`~compsparse.nn.layers`: ``MaskedLinear``, ``MaskedConv2d``, ``KWinners``.
- :mod:`~compsparse.nn.model`: ``GSCNet`` and its three variants (``VARIANTS``).
- :mod:`~compsparse.nn.train`: the training loop and ``python -m compsparse train``.
- :mod:`~compsparse.nn.checkpoint`: pickle-free checkpoints.
- :mod:`~compsparse.nn.data`: the speech data, with clear errors.
- :mod:`~compsparse.nn.sweep`: ``python -m compsparse sweep``, recipes x seeds side by side.
- :mod:`~compsparse.nn.splits`: what a split of the weight budget costs, beside its accuracy.

Book: chapter "Training" (book/08_training.ipynb).
"""

from __future__ import annotations

import importlib

_LAZY = {
    "KWinners": "layers",
    "MaskedConv2d": "layers",
    "MaskedLinear": "layers",
    "kwinners_mask": "layers",
    "VARIANTS": "model",
    "GSCNet": "model",
    "NetConfig": "model",
    "net_config": "model",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
