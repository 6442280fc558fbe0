"""torch layers: complementary-masked Linear / Conv2d, and k-winners-take-all with boosting.

The masks come from :func:`compsparse.complementary_masks` and never change. They are applied in
the forward pass (``weight * mask``), so a pruned weight gets zero gradient; it is also zero in
the parameter itself, so weight decay and momentum leave it at zero.

Book: chapter "Training" (book/08_training.ipynb).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..packing import complementary_masks

__all__ = ["KWinners", "MaskedConv2d", "MaskedLinear"]


def _init_sparse(weight: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> None:
    """Uniform init scaled to the kernel's *non-zero* fan-in, zero outside the mask."""
    fan_in = max(1, int(mask.reshape(len(mask), -1).sum(dim=1).max()))
    bound = 1.0 / math.sqrt(fan_in) * math.sqrt(3.0)  # unit-variance outputs for unit inputs
    with torch.no_grad():
        weight.uniform_(-bound, bound, generator=generator)
        weight.mul_(mask)


class _Masked:
    """Mixin: the ``mask`` buffer and what the tests and exporter read from it."""

    mask: torch.Tensor
    weight: torch.Tensor
    n_per_group: int

    def _setup_mask(self, n_per_group: int, seed: int) -> None:
        shape = tuple(self.weight.shape)
        masks = complementary_masks(shape[0], shape[1:], n_per_group, seed=seed)
        self.n_per_group = int(n_per_group)
        self.register_buffer("mask", torch.from_numpy(masks))
        gen = torch.Generator().manual_seed(int(seed))
        _init_sparse(self.weight, self.mask, gen)

    def masked_weight(self) -> torch.Tensor:
        """The effective weight ``weight * mask``, same shape as ``weight``."""
        return self.weight * self.mask

    def weight_sparsity(self) -> float:
        """Fraction of weight positions outside the masks (the configured sparsity)."""
        return 1.0 - float(self.mask.float().mean())


class MaskedLinear(nn.Linear, _Masked):
    """``y = x @ (weight * mask).T + bias`` with fixed complementary masks.

    Args:
        in_features, out_features, bias: as :class:`torch.nn.Linear`.
        n_per_group: kernels (output units) packed per dense kernel; weight sparsity is
            ``1 - 1/n_per_group``. 1 means dense.
        seed: seed of the masks and of the initial weights.

    Shapes: ``(N, in_features) -> (N, out_features)``, float32.
    """

    def __init__(self, in_features, out_features, n_per_group=1, seed=0, bias=True):
        super().__init__(in_features, out_features, bias=bias)
        self._setup_mask(n_per_group, seed)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.masked_weight(), self.bias)


class MaskedConv2d(nn.Conv2d, _Masked):
    """A 2-D convolution (stride 1, no padding) whose kernels carry complementary masks.

    Args:
        in_channels, out_channels, kernel_size, bias: as :class:`torch.nn.Conv2d`.
        n_per_group: output channels packed per dense kernel (1: dense).
        seed: seed of the masks and of the initial weights.

    Shapes: ``(N, c_in, h, w) -> (N, c_out, h - kh + 1, w - kw + 1)``, float32.
    """

    def __init__(self, in_channels, out_channels, kernel_size, n_per_group=1, seed=0, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, bias=bias)
        self._setup_mask(n_per_group, seed)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.masked_weight(), self.bias)


def kwinners_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Bool mask of the ``k`` largest ``scores`` along dim 1, ties to the lower index.

    ``scores`` is ``(N, n)`` (global k-WTA of a linear layer) or ``(N, c, h, w)`` (local k-WTA:
    ``k`` channels at every pixel). Everything above the k-th largest value wins; of the values
    equal to it, the lowest indices fill the remaining places: the rule of
    :func:`compsparse.kwta`, so exactly ``k`` win.
    """
    kth = torch.topk(scores, k, dim=1).values.narrow(1, k - 1, 1)
    above = scores > kth
    equal = scores == kth
    mask = above | equal
    if bool((mask.sum(dim=1) > k).any()):  # ties at the k-th value: lower indices first
        need = k - above.sum(dim=1, keepdim=True)
        mask = above | (equal & (torch.cumsum(equal, dim=1) <= need))
    return mask


class KWinners(nn.Module):
    """k-winners-take-all along dim 1, with the authors' boosting by duty cycle in training.

    Args:
        n: units (linear, input ``(N, n)``) or channels (conv, input ``(N, n, h, w)``: local
            k-WTA, ``k`` channels per pixel).
        k: winners per sample (linear) or per pixel (conv), ``1 <= k <= n``.
        boost_strength: initial boost ``b``; in training units are ranked by
            ``x * exp((k/n - duty_cycle) * b)`` so that rarely winning units catch up. The
            trainer lowers ``b`` epoch by epoch (to 0 at the end: inference ranks ``x`` alone,
            as the hardware does).
        duty_cycle_period: samples over which duty cycles average.

    ``k_train`` (default ``k``) is the number of winners in training mode: the trainer may start
    it higher and lower it to ``k`` (k annealing; chapter "Training" measures what it is worth).
    Eval mode always uses ``k``.

    Exactly ``k`` winners; the output keeps the winners' (unboosted) values and zeros the rest,
    so gradients flow only through winners. Duty cycles (``(n,)``, the fraction of samples, and
    for conv of pixels, where a unit wins) update only in training mode.
    """

    def __init__(self, n: int, k: int, boost_strength: float = 1.5, duty_cycle_period: int = 1000):
        super().__init__()
        if not 1 <= k <= n:
            raise ValueError(f"k must satisfy 1 <= k <= n = {n}, got {k}")
        self.n, self.k = int(n), int(k)
        self.k_train = self.k  # winners in training mode; the trainer may start it higher
        self.duty_cycle_period = int(duty_cycle_period)
        self.register_buffer("duty_cycle", torch.zeros(n))
        self.register_buffer("boost_strength", torch.tensor(float(boost_strength)))
        self.register_buffer("learning_iterations", torch.tensor(0, dtype=torch.int64))

    def extra_repr(self) -> str:
        return f"n={self.n}, k={self.k}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.n:
            raise ValueError(f"KWinners expects {self.n} units on dim 1, got {tuple(x.shape)}")
        view = (1, -1) + (1,) * (x.dim() - 2)
        scores = x.detach()
        k = self.k_train if self.training else self.k
        boost = float(self.boost_strength)
        if self.training and boost > 0:
            factor = torch.exp((k / self.n - self.duty_cycle) * boost)
            scores = scores * factor.view(view)
        winners = kwinners_mask(scores, k)
        if self.training:
            self._update_duty_cycle(winners)
        return x * winners

    @torch.no_grad()
    def _update_duty_cycle(self, winners: torch.Tensor) -> None:
        batch = winners.shape[0]
        self.learning_iterations += batch
        period = min(self.duty_cycle_period, int(self.learning_iterations))
        dims = [0, *range(2, winners.dim())]
        pixels = int(np.prod(winners.shape[2:])) if winners.dim() > 2 else 1
        wins = winners.float().sum(dim=dims) / pixels
        self.duty_cycle.mul_(period - batch).add_(wins).div_(period)
