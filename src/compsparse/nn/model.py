"""The paper's speech network in three variants: dense, sparse-dense, sparse-sparse.

``32x32x1 -> conv 64 5x5 -> max-pool 2 -> conv 64 5x5 -> max-pool 2 -> linear 1500 -> 12``.
Each hidden block is ``masked conv/linear -> batch norm -> max-pool -> ReLU -> k-WTA``. k-WTA
comes *after* pooling, so what the next layer receives has exactly ``k`` winners per pixel
(conv) or ``k`` of all units (linear): the sparse-sparse input really is k-sparse, and the
hardware sees ``conv -> bias -> pool -> requantise -> k-WTA``. Batch norm folds into the
weights and biases for export (:meth:`GSCNet.to_float_model`).

Book: chapter "Training" (book/08_training.ipynb).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch import nn

from ..export import FloatLayer, FloatModel
from .layers import KWinners, MaskedConv2d, MaskedLinear

__all__ = ["VARIANTS", "GSCNet", "NetConfig", "net_config"]


@dataclass(frozen=True)
class NetConfig:
    """Architecture and sparsity of one network.

    Attributes:
        variant: ``"dense"``, ``"sparse-dense"`` or ``"sparse-sparse"``.
        in_hw: input height = width (32); channels, hidden, n_classes: layer widths.
        kernel: conv kernel size (5); pool: max-pool size (2).
        n_per_group: kernels per packed dense kernel for conv1, conv2, linear1, output
            (weight sparsity ``1 - 1/n``).
        k: k-WTA winners after conv1, conv2 (per pixel, of ``channels``) and linear1 (of
            ``hidden``); ``None`` for no k-WTA (dense activations).
        seed: seed of the masks and the initial weights.
        bn_affine: learn a scale and shift in each batch norm (folded at export either way).
    """

    variant: str
    in_hw: int = 32
    channels: tuple[int, int] = (64, 64)
    hidden: int = 1500
    n_classes: int = 12
    kernel: int = 5
    pool: int = 2
    n_per_group: tuple[int, int, int, int] = (1, 1, 1, 1)
    k: tuple[int, int, int] | None = None
    seed: int = 0
    bn_affine: bool = False

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> NetConfig:
        d = dict(d)
        for key in ("channels", "n_per_group", "k"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)


# Sparsity chosen to match the paper's 127,696 non-zero weights (see the chapter's table):
# conv1 50% (n=2), conv2 87.5% (n=8), linear 96% (n=25), output dense -> 127,600 weights
# (127,728 with the conv biases, which the paper's dense count includes). k: 7 of 64 channels
# per pixel (89.1% zeros) and 150 of 1500 units (90% zeros).
PAPER_N_PER_GROUP = (2, 8, 25, 1)
PAPER_K = (7, 7, 150)
VARIANTS: dict[str, NetConfig] = {
    "dense": NetConfig("dense", bn_affine=True),
    "sparse-dense": NetConfig("sparse-dense", n_per_group=PAPER_N_PER_GROUP, bn_affine=True),
    "sparse-sparse": NetConfig(
        "sparse-sparse", n_per_group=PAPER_N_PER_GROUP, k=PAPER_K, bn_affine=True
    ),
}


def net_config(variant: str, **changes) -> NetConfig:
    """The configuration of ``variant``, with ``changes`` (e.g. smaller widths for tests)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {sorted(VARIANTS)}")
    return replace(VARIANTS[variant], **changes)


class GSCNet(nn.Module):
    """The speech network. Input ``(N, 1, h, w)`` or ``(N, h, w)`` float32 log-mel features
    (un-normalised: the model subtracts ``input_offset`` and divides by ``input_std``, buffers
    set from the training data). Output ``(N, n_classes)`` logits."""

    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = c = config
        seeds = [c.seed * 100 + i for i in range(4)]
        (c1, c2), npg = c.channels, c.n_per_group
        self.register_buffer("input_offset", torch.tensor(0.0))
        self.register_buffer("input_std", torch.tensor(1.0))
        self.conv1 = MaskedConv2d(1, c1, c.kernel, npg[0], seeds[0], bias=False)
        self.bn1 = nn.BatchNorm2d(c1, affine=c.bn_affine)
        self.conv2 = MaskedConv2d(c1, c2, c.kernel, npg[1], seeds[1], bias=False)
        self.bn2 = nn.BatchNorm2d(c2, affine=c.bn_affine)
        hw = ((c.in_hw - c.kernel + 1) // c.pool - c.kernel + 1) // c.pool
        self.flat = c2 * hw * hw
        self.linear1 = MaskedLinear(self.flat, c.hidden, npg[2], seeds[2], bias=False)
        self.bn3 = nn.BatchNorm1d(c.hidden, affine=c.bn_affine)
        self.output = MaskedLinear(c.hidden, c.n_classes, npg[3], seeds[3], bias=True)
        self.pool = nn.MaxPool2d(c.pool)
        if c.k is None:
            self.kw1 = self.kw2 = self.kw3 = None
        else:
            self.kw1 = KWinners(c1, c.k[0])
            self.kw2 = KWinners(c2, c.k[1])
            self.kw3 = KWinners(c.hidden, c.k[2])

    def kwinners(self) -> list[KWinners]:
        """The k-WTA modules (empty without k-WTA)."""
        return [m for m in (self.kw1, self.kw2, self.kw3) if m is not None]

    def masked_layers(self) -> list[nn.Module]:
        """conv1, conv2, linear1, output."""
        return [self.conv1, self.conv2, self.linear1, self.output]

    def nonzero_weights(self) -> int:
        """Weights the masks keep, over all four layers (biases not counted)."""
        return sum(int(layer.mask.sum()) for layer in self.masked_layers())

    def set_boost(self, strength: float) -> None:
        """Set the boost strength of every k-WTA module."""
        for m in self.kwinners():
            m.boost_strength.fill_(float(strength))

    def set_k_factor(self, factor: float) -> None:
        """Train every k-WTA module with ``min(n, round(k * factor))`` winners (factor >= 1)."""
        for m in self.kwinners():
            m.k_train = min(m.n, max(m.k, round(m.k * factor)))

    def forward(self, x: torch.Tensor, taps: list | None = None) -> torch.Tensor:
        """Logits; ``taps``, if a list, receives the input of every layer (for sparsity)."""
        if x.dim() == 3:
            x = x.unsqueeze(1)
        x = (x - self.input_offset) / self.input_std
        blocks = (
            (self.conv1, self.bn1, True, self.kw1),
            (self.conv2, self.bn2, True, self.kw2),
            (self.linear1, self.bn3, False, self.kw3),
        )
        for layer, bn, pool, kw in blocks:
            if layer is self.linear1:
                x = x.flatten(1)
            if taps is not None:
                taps.append(x)
            x = bn(layer(x))
            x = torch.relu(self.pool(x) if pool else x)
            if kw is not None:
                x = kw(x)
        if taps is not None:
            taps.append(x)
        return self.output(x)

    @torch.no_grad()
    def to_float_model(self, labels=()) -> FloatModel:
        """The network with batch norm folded in, as numpy arrays (call in eval mode)."""
        c = self.config
        hw1 = c.in_hw - c.kernel + 1
        in_shapes = [(1, c.in_hw, c.in_hw), (c.channels[0], hw1 // c.pool, hw1 // c.pool)]
        in_shapes += [(self.flat,), (c.hidden,)]
        bns = [self.bn1, self.bn2, self.bn3, None]
        ks = [*c.k, None] if c.k is not None else [None] * 4
        layers = []
        names = ["conv1", "conv2", "linear1", "output"]
        for i, (layer, bn) in enumerate(zip(self.masked_layers(), bns, strict=True)):
            w = layer.masked_weight().double()
            b = layer.bias.double() if layer.bias is not None else torch.zeros(len(w)).double()
            if bn is not None:
                inv = 1.0 / torch.sqrt(bn.running_var.double() + bn.eps)
                if bn.affine:
                    inv = inv * bn.weight.double()
                w = w * inv.view((-1,) + (1,) * (w.dim() - 1))
                b = (b - bn.running_mean.double()) * inv
                if bn.affine:
                    b = b + bn.bias.double()
            mask = layer.mask.numpy()
            layers.append(
                FloatLayer(
                    name=names[i],
                    kind="conv2d" if w.dim() == 4 else "linear",
                    weight=(w.numpy() * mask).astype(np.float32),
                    mask=mask,
                    n_per_group=layer.n_per_group,
                    bias=b.numpy().astype(np.float32),
                    in_shape=in_shapes[i],
                    pool=c.pool if i < 2 else 1,
                    k=ks[i],
                    relu=i < 3,
                )
            )
        meta = {"variant": c.variant, "config": c.to_json()}
        return FloatModel(
            layers, float(self.input_offset), float(self.input_std), list(labels), meta
        )
