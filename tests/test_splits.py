"""Splits of the weight budget: what one costs, and its accuracy beside the reference's."""

from __future__ import annotations

import pytest

from compsparse import perfmodel as pm
from compsparse.nn.model import net_config
from compsparse.nn.splits import compare_splits, split_costs


def test_the_paper_like_split_fits_the_small_board_and_conv2_at_two_does_not():
    book = split_costs(net_config("sparse-sparse"))  # the variant's default split
    assert book["n_per_group"] == (2, 8, 25, 1) and book["weights"] == 127_600
    assert book["conv2_macs"] == 10 * 10 * (64 // 8) * 7 * 25  # pixels, packed kernels, k, 5x5
    assert book["fits_zu3eg"]
    assert [c["NPG"] for c in pm.speech_layers("sparse-sparse", (2, 2, 50, 1))] == [2, 2, 50, 1]
    denser = split_costs(net_config("sparse-sparse", n_per_group=(2, 2, 50, 1)))
    assert denser["weights"] == 118_000 and denser["conv2_macs"] == 4 * book["conv2_macs"]
    assert denser["dsp"] > book["dsp"] and not denser["fits_zu3eg"]


def _row(recipe, seed, accuracy, n_per_group):
    net = net_config("sparse-sparse", seed=seed, n_per_group=n_per_group)
    return {"recipe": recipe, "seed": seed, "test_int8": accuracy, "net": net.to_json()}


def test_compare_splits_pairs_each_seed_with_the_reference():
    runs = [
        _row("conv2n2", 1, 0.95, (2, 2, 50, 1)),
        _row("base", 0, 0.93, (2, 8, 25, 1)),
        _row("base", 1, 0.94, (2, 8, 25, 1)),
        _row("conv2n2", 0, 0.92, (2, 2, 50, 1)),
    ]
    out = compare_splits(runs)
    assert list(out) == ["base", "conv2n2"]  # the recipes' order, not the rows'
    assert out["base"]["gains"] == [0.0, 0.0]
    assert out["conv2n2"]["seeds"] == [0, 1]
    assert out["conv2n2"]["gains"] == pytest.approx([-0.01, 0.01])
    assert out["conv2n2"]["mean"] == pytest.approx(0.935)
    assert out["conv2n2"]["n_per_group"] == (2, 2, 50, 1)
    with pytest.raises(ValueError, match="run 'base' with those seeds"):
        compare_splits([*runs, _row("conv2n2", 2, 0.9, (2, 2, 50, 1))])
