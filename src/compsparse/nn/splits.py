"""What a split of the weight budget between the layers buys in accuracy, and what it costs.

The paper gives its sparse network's total of non-zero weights, not how the layers share them.
:func:`split_costs` says what one split costs: the weights its masks keep, conv2's ideal
multiply-adds per clip in the sparse-sparse network (:func:`compsparse.costmodel.conv2d_macs`)
and, from the performance model (:mod:`compsparse.perfmodel`), the DSP blocks of one
sparse-sparse design and whether it fits the Ultra96-V2's ZU3EG.
:func:`compare_splits` puts that beside the accuracy of ``python -m compsparse sweep`` runs,
each seed compared with the reference recipe's run of the same seed.

Book: chapter "Training" (book/08_training.ipynb).
"""

from __future__ import annotations

import numpy as np

from .. import perfmodel as pm
from ..costmodel import conv2d_macs
from .model import GSCNet, NetConfig
from .sweep import RECIPES

__all__ = ["compare_splits", "split_costs"]


def split_costs(net: NetConfig) -> dict:
    """The cost of ``net``'s split of the weights, its ``n_per_group``.

    conv2's MACs count ``net.k`` winners per input pixel; the performance model's design has the
    book's k (:data:`compsparse.hls_models.PAPER_K`), which every split in the sweep keeps.

    Returns:
        ``{"n_per_group", "weights", "conv2_macs", "dsp", "fits_zu3eg"}``:
        ``weights`` the non-zero weights of all four layers, ``conv2_macs`` conv2's
        sparse-sparse multiply-adds per clip, the rest the performance model's numbers for one
        sparse-sparse design with this packing.
    """
    layers = pm.speech_layers("sparse-sparse", tuple(net.n_per_group))
    small = pm.predict("sparse-sparse", "ZU3EG", layers=layers)
    conv2_hw = (net.in_hw - net.kernel + 1) // net.pool - net.kernel + 1
    k_in = net.k[0] if net.k is not None else None
    conv2 = conv2d_macs(*net.channels, net.kernel, (conv2_hw, conv2_hw), net.n_per_group[1], k_in)
    return {
        "n_per_group": tuple(net.n_per_group),
        "weights": GSCNet(net).nonzero_weights(),
        "conv2_macs": conv2.sparse_sparse,
        "dsp": small.resources.dsp,
        "fits_zu3eg": small.instances > 0,
    }


def compare_splits(runs: list[dict], reference: str = "base", key: str = "test_int8") -> dict:
    """Per recipe of ``runs`` (in :data:`~.sweep.RECIPES` order): its split's cost and accuracy.

    Args:
        runs: sweep rows (:func:`~.sweep.load_runs`); ``reference`` must have run every seed
            that another recipe ran.
        key: the accuracy compared (``"test_int8"``, ``"test_float"``...).

    Returns:
        ``{recipe: split_costs(...) | {"seeds", "mean", "gains"}}``: ``gains`` the accuracy
        minus the reference's, seed by seed (fractions, 0 for the reference itself).
    """
    of = {(r["recipe"], r["seed"]): r for r in runs}
    out = {}
    for name in (n for n in RECIPES if any(r["recipe"] == n for r in runs)):
        seeds = sorted(s for recipe, s in of if recipe == name)
        missing = [s for s in seeds if (reference, s) not in of]
        if missing:
            raise ValueError(
                f"{name!r} ran seeds {missing} that the reference {reference!r} did not; "
                f"run {reference!r} with those seeds too"
            )
        values = [of[name, s][key] for s in seeds]
        out[name] = split_costs(NetConfig.from_json(of[name, seeds[0]]["net"])) | {
            "seeds": seeds,
            "mean": float(np.mean(values)),
            "gains": [v - of[reference, s][key] for v, s in zip(values, seeds, strict=True)],
        }
    return out
