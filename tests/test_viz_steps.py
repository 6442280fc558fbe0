"""Drawings of the opening chapter, Multiply and Sum: the expected artists, from real arrays."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Rectangle

import compsparse as cs
from compsparse.viz import datapath as vd
from compsparse.viz import multiply as vm
from compsparse.viz import overview as vo


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_claim_puts_this_books_counts_beside_the_papers_numbers():
    macs = cs.linear_macs(1600, 1500, 20, 160)
    fig = vo.draw_claim({"dense": macs.dense, "both": macs.sparse_sparse})
    book, paper = fig.axes
    assert "this book" in book.get_title() and "paper" in paper.get_title()
    assert [p.get_width() for p in book.patches] == [macs.dense, macs.sparse_sparse]
    assert "(200x fewer)" in [t.get_text() for t in book.texts][1]
    assert max(p.get_width() for p in paper.patches) == pytest.approx(112.3)


def test_matching_joins_the_common_indices():
    w = np.zeros(20)
    x = np.zeros(20)
    w[[1, 4, 7, 12]] = 1
    x[[4, 5, 12, 19]] = 1
    fig = vo.draw_matching(w, x)
    ax = fig.axes[0]
    assert len(ax.lines) == 2  # indices 4 and 12
    assert ax.get_title().startswith("2 useful products; finding them took 5 merge steps")


def _conv(seed=2):
    rng = np.random.default_rng(seed)
    masks = cs.complementary_masks(3, (2, 3, 3), 3, seed=seed)
    w = (rng.integers(1, 5, masks.shape) * masks).astype(np.int8)
    return cs.pack(w, 3), rng.integers(0, 9, (2, 3, 3)).astype(np.int8)


@pytest.mark.parametrize("k", [None, 1])
def test_hadamard_shows_products_only_where_multiplied(k):
    P, x = _conv()
    trace = cs.trace_conv2d(x, P, k=k)
    fig = vm.draw_hadamard(trace, P)
    assert len(fig.axes) == 2 * 5
    product_axes = [fig.axes[4], fig.axes[9]]
    shown = sum(len(ax.texts) for ax in product_axes)
    assert shown == trace.products.size
    assert f"{trace.products.size} multiplies" in fig._suptitle.get_text()


def test_weight_memory_outlines_the_addressed_columns():
    masks = cs.complementary_masks(8, 32, 4, seed=1)
    P = cs.pack(masks.astype(np.int8) * 3, 4)
    a = cs.kwta(np.arange(32, dtype=np.int8), 5)
    fig = vm.draw_weight_memory(P, a)
    outlines = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and not p.get_fill()]
    assert sorted(round(p.get_x() + 0.04) for p in outlines) == a.indices.tolist()
    assert fig.axes[0].get_title().startswith("5 of 32 addresses read: 10 multiplies")


def test_sums_against_dense_reports_the_largest_difference():
    fig = vd.draw_sums(np.array([3, -1, 0]), np.array([3, -1, 0]), "conv")
    assert fig.axes[0].get_title() == "conv: largest difference 0"
    assert len(fig.axes[0].patches) == 3


def test_datapath_draws_one_result_per_kernel_with_the_layers_output():
    rng = np.random.default_rng(5)
    masks = cs.complementary_masks(8, 24, 8, seed=5)
    w = (rng.integers(1, 6, masks.shape) * masks).astype(np.int8)
    P = cs.pack(w, 8)
    x = rng.integers(0, 60, 24).astype(np.int8)
    fig = vd.draw_datapath(x, 6, P)
    texts = [t.get_text() for t in fig.axes[0].texts]
    y = cs.linear(cs.kwta(x, 6), P)
    assert [t for t in texts if t.startswith("y")] == [f"y{j} = {v}" for j, v in enumerate(y)]
    assert sum(t.startswith(tuple(f"{int(v)} | id" for v in P.values[0])) for t in texts) == 6
