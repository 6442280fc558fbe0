"""Drawings of the Combine step."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba

import compsparse as cs
from compsparse.viz.packing import (
    draw_packing,
    draw_packing_demo,
    draw_worked_example,
    overlay_player,
    sparsity_player,
)
from compsparse.viz.style import kernel_colors


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _image_colors(ax) -> set[tuple]:
    image = ax.get_images()[0]
    rgba = image.cmap(image.norm(image.get_array()))
    return {tuple(np.round(c, 3)) for c in rgba.reshape(-1, 4)}


@pytest.mark.parametrize("kernel_shape", [(5, 5), (3, 4, 4), (30,)])
def test_packed_kernel_shows_one_colour_per_kernel(kernel_shape):
    n = 5
    masks = cs.complementary_masks(n, kernel_shape, n, seed=0)
    fig = draw_packing(cs.pack(masks.astype(float), n))
    axes = fig.axes
    assert len(axes) == n + 1
    expected = {tuple(np.round(to_rgba(c), 3)) for c in kernel_colors(n)}
    assert _image_colors(axes[-1]) == expected  # dense: every kernel's colour, nothing empty
    for j in range(n):  # each sparse kernel: its own colour plus the empty colour
        assert len(_image_colors(axes[j]) - {tuple(np.round(to_rgba("#f2f2f2"), 3))}) == 1


def test_highlight_keeps_only_that_kernel_in_the_packed_view():
    masks = cs.complementary_masks(4, (4, 4), 4, seed=1)
    fig = draw_packing(cs.pack(masks.astype(float), 4), highlight=2)
    assert len(_image_colors(fig.axes[-1])) == 2  # kernel 2's colour and the empty colour


def test_bad_group_is_refused():
    with pytest.raises(ValueError, match="group must be in"):
        draw_packing(cs.pack(np.eye(4), 2), group=2)


def test_overlay_player_adds_one_kernel_per_frame():
    masks = cs.complementary_masks(5, (5, 5), 5, seed=4)
    P = cs.pack(masks.astype(float), 5)
    player = overlay_player(P)
    assert len(player) == 6  # empty, then 1..5 kernels placed
    assert player.captions[-1].startswith("kernel 4 placed: 25 of 25")
    fig = draw_packing(P, placed=2)
    assert len(_image_colors(fig.axes[-1])) == 3  # two kernels' colours and the empty colour
    assert fig.axes[-1].get_title() == "packed: 10 of 25 filled"


def test_sparsity_player_has_one_frame_per_setting():
    player = sparsity_player((2, 5, 8))
    assert len(player) == 3 and "87.5% sparse" in player.captions[2]


@pytest.mark.parametrize(("n", "c_in"), [(2, 1), (5, 3), (8, 6)])
def test_packing_demo_shows_every_kernel_and_the_efficiency(n, c_in):
    fig = draw_packing_demo(n, size=4, c_in=c_in, seed=1, highlight=1)
    rows = min(c_in, 4)
    assert len(fig.axes) == rows * (n + 1)
    text = fig.texts[0].get_text()
    assert f"{n} kernels, each {1 - 1 / n:.0%} sparse" in text
    assert "packing efficiency 100%" in text
    packed = fig.axes[n]
    assert len(_image_colors(packed)) == 2  # highlight: kernel 1's colour and empty
    none = draw_packing_demo(n, size=4, c_in=c_in, seed=1, highlight=-1)  # -1: no highlight
    full = draw_packing_demo(n, size=4, c_in=c_in, seed=1)
    assert _image_colors(none.axes[n]) == _image_colors(full.axes[n])
    assert len(_image_colors(full.axes[n])) >= 2


def test_packing_demo_refuses_too_many_kernels():
    with pytest.raises(ValueError, match="n_per_group must be in"):
        draw_packing_demo(10, size=3, c_in=1)


def test_worked_example_shows_each_kernels_sum():
    layout = np.array([[0, 1, 2], [0, 2, 1], [1, 2, 0]])  # the paper's Figure 4b
    masks = (layout == np.arange(3)[:, None, None])[:, None]
    w = masks * np.arange(1, 10).reshape(1, 1, 3, 3)
    P = cs.pack(w, 3)
    x = np.arange(9).reshape(1, 3, 3)
    fig = draw_worked_example(P, x)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    want = cs.conv2d(x, P)[:, 0, 0]
    assert "= I00\u00b7A00 + I10\u00b7A10 + I22\u00b7A22" in texts
    for name, total in zip("ABC", want, strict=True):
        assert any(t.startswith("= ") and t.endswith(f"= {total}") for t in texts), name
    assert "B01" in texts and "C21" in texts
