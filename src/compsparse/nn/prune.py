"""Start a sparse network from a trained dense one: masks by importance, weights copied.

Random complementary masks (:func:`compsparse.complementary_masks`) give every kernel a random
``1/n`` of its inputs. A trained dense network says which inputs each kernel actually uses, so
:func:`prune_from` chooses the masks with :func:`compsparse.complementary_masks_by_importance`
on the dense network's weights (batch norm folded in, so a weight counts by what it adds to the
next layer's input), then copies those weights, the batch-norm scales and shifts and the output
bias into the sparse network. The masks stay fixed from then on, as in any other run.

Book: chapter "Training" (book/08_training.ipynb).
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from ..packing import complementary_masks_by_importance
from .model import GSCNet

__all__ = ["prune_from"]


@torch.no_grad()
def prune_from(model: GSCNet, source: GSCNet) -> None:
    """Choose ``model``'s masks by ``source``'s weight magnitudes and start from its weights.

    Args:
        model: the sparse network to set up (its masks and parameters are replaced in place).
        source: a trained network of the same layer shapes, usually the dense one.

    Raises:
        ValueError: the two networks' layers differ in shape.
    """
    pairs = list(zip(model.masked_layers(), source.masked_layers(), strict=True))
    for layer, src in pairs:
        if layer.weight.shape != src.weight.shape:
            raise ValueError(
                f"cannot prune from a network of another shape: weight {tuple(src.weight.shape)} "
                f"where {tuple(layer.weight.shape)} is needed; train the source with the same "
                f"channels, hidden units and classes"
            )
    folded = copy.deepcopy(source).cpu().eval().to_float_model().layers
    for (layer, src), fl in zip(pairs, folded, strict=True):
        masks = complementary_masks_by_importance(np.abs(fl.weight), layer.n_per_group)
        mask = torch.from_numpy(masks).to(layer.mask.device)
        layer.mask.copy_(mask)
        layer.weight.copy_(src.weight.to(layer.weight.device) * mask)
        if layer.bias is not None and src.bias is not None:
            layer.bias.copy_(src.bias)
    # The learnt scales and shifts carry over; the running statistics do not, since pruning
    # changes what each batch norm sees (training re-estimates them).
    for bn, src_bn in ((model.bn1, source.bn1), (model.bn2, source.bn2), (model.bn3, source.bn3)):
        if bn.affine and src_bn.affine:
            bn.weight.copy_(src_bn.weight)
            bn.bias.copy_(src_bn.bias)
