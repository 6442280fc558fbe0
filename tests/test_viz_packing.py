"""Drawings of the Combine step."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.colors import to_rgba

import compsparse as cs
from compsparse.viz.packing import draw_packing
from compsparse.viz.style import kernel_colors


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
