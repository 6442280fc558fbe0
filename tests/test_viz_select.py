"""Drawings of the Select step."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle

import compsparse as cs
from compsparse.kwta_hw import SORT8_COMPARATORS
from compsparse.viz import select as vs


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("distribution", vs.DISTRIBUTIONS)
def test_demo_activation_is_8_bit(distribution):
    x = vs.demo_activation(distribution, (16, 12), seed=1)
    assert x.dtype == np.uint8 and x.shape == (16, 12)


def test_demo_activation_refuses_unknown_distribution():
    with pytest.raises(ValueError, match="distribution must be one of"):
        vs.demo_activation("gamma")


@pytest.mark.parametrize("local", [True, False])
def test_select_demo_keeps_k_per_pixel_and_agrees_with_hardware(local):
    fig = vs.draw_select_demo(k=3, local=local, distribution=vs.DISTRIBUTIONS[2], seed=0)
    kept = fig.axes[1].get_images()[0].get_array()
    assert np.count_nonzero(~np.ma.getmaskarray(kept)) == 3 * 12
    if local:
        assert (np.count_nonzero(~np.ma.getmaskarray(kept), axis=0) == 3).all()
    assert "the same winners" in fig._suptitle.get_text()
    assert "DIFFERENT" not in fig._suptitle.get_text()


def test_histogram_colours_the_winning_bins():
    x = np.array([0, 5, 5, 9, 200, 200, 7], np.uint8)
    fig = vs.draw_histogram(x, 3)  # winners: both 200s and the first 9; threshold 9
    ax = fig.axes[0]
    winner = to_rgba(vs.WINNER)
    won = [b for b in ax.patches if b.get_facecolor() == winner and b.get_height() > 0]
    assert [int(b.get_x() + 0.5) for b in won] == [200]
    ties = [b for b in ax.patches if b.get_facecolor() == to_rgba("#7a3b8f")]
    assert len(ties) == 1 and ties[0].get_height() == 1


def test_sorting_network_draws_every_comparator():
    fig = vs.draw_sorting_network(np.array([3, 1, 4, 1, 5, 9, 2, 6]))
    ax = fig.axes[0]
    vertical = [
        ln for ln in ax.lines if ln.get_linestyle() == "-" and len(set(ln.get_xdata())) == 1
    ]
    assert len(vertical) == len(SORT8_COMPARATORS) == 19
    texts = [t.get_text() for t in ax.texts]
    assert texts[-8:] == ["9", "6", "5", "4", "3", "2", "1", "1"]  # the last stage, sorted


def test_merge_marks_k_winners_in_pop_order():
    x = np.arange(64, dtype=np.int16)[::-1].copy()
    fig = vs.draw_merge(x, 5)
    patches = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert sum(p.get_facecolor() == to_rgba(vs.WINNER) for p in patches) == 5
    labels = [t.get_text() for t in fig.axes[0].texts if "#" in t.get_text()]
    assert sorted(labels, key=lambda s: int(s.split("#")[1])) == [
        f"{63 - r}\n#{r + 1}" for r in range(5)
    ]
    assert cs.kwta(x, 5).indices.tolist() == list(range(5))
