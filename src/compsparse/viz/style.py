"""Shared look of the book's figures: one colour per kernel, used in every chapter."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.colors import ListedColormap, to_rgba

EMPTY = "#f2f2f2"  # a position no kernel owns
GRID = "#ffffff"


def kernel_colors(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` distinct colours, kernel ``i`` always gets colour ``i`` (tab10, then tab20)."""
    base = mpl.colormaps["tab10"].colors if n <= 10 else mpl.colormaps["tab20"].colors
    return [to_rgba(base[i % len(base)]) for i in range(n)]


def kernel_cmap(n: int) -> ListedColormap:
    """Colormap for integer images: ``-1`` -> empty, ``0..n-1`` -> kernel colours (use vmin=-1)."""
    return ListedColormap([to_rgba(EMPTY), *kernel_colors(n)])


def grid_lines(ax, shape: tuple[int, int]) -> None:
    """White cell borders on an ``imshow`` of ``shape`` and no ticks or frame."""
    h, w = shape
    for y in np.arange(0.5, h - 1, 1):
        ax.axhline(y, color=GRID, linewidth=1.5)
    for x in np.arange(0.5, w - 1, 1):
        ax.axvline(x, color=GRID, linewidth=1.5)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def text_color(rgba) -> str:
    """Black or white, whichever reads better on a cell of colour ``rgba``."""
    r, g, b = to_rgba(rgba)[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.6 else "white"


def cell_text(ax, row: int, col: int, text: str, background, size: float = 8, **kw) -> None:
    """Write ``text`` centred on cell ``(row, col)`` of an ``imshow``, readable on its colour."""
    ax.text(
        col, row, text, ha="center", va="center", fontsize=size, color=text_color(background), **kw
    )
