"""Drawings of the Route step: one frame per product, serial and parallel circuits."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import ConnectionPatch

import compsparse as cs
from compsparse.routing import product_stream, serial_route
from compsparse.viz import routing as vr


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _packed(seed=3, n=3, shape=(2, 3, 3)):
    rng = np.random.default_rng(seed)
    masks = cs.complementary_masks(n, shape, n, seed=seed)
    w = rng.integers(1, 4, masks.shape) * rng.choice([-1, 1], masks.shape) * masks
    x = rng.integers(0, 10, (shape[0], shape[1] + 1, shape[2] + 1)).astype(np.int8)
    return cs.pack(w.astype(np.int8), n), x


@pytest.mark.parametrize("k", [None, 1])
def test_routing_player_has_one_frame_per_product(k):
    P, x = _packed()
    trace = cs.trace_conv2d(x, P, k=k, position=(1, 0))
    player = vr.routing_player(trace, P.kernel_shape, P.kernel_ids[0])
    assert len(player) == trace.products.size == (18 if k is None else 9)
    assert len(set(player.frames)) == len(player)  # every frame shows something new


def test_routing_frame_points_at_the_products_kernel_and_shows_running_sums():
    P, x = _packed()
    trace = cs.trace_conv2d(x, P)
    products, kernels, _, _ = product_stream(trace)
    running = serial_route(products, kernels, 3).running
    for step in (0, 7, 17):
        fig = vr.draw_routing_frame(trace, P.kernel_shape, step)
        arrows = [a for a in fig.artists if isinstance(a, ConnectionPatch)]
        assert len(arrows) == 1
        acc = fig.axes[-1]
        bold = [t for t in acc.texts if t.get_fontweight() == "bold"]
        assert [t.get_text() for t in bold] == [f"{running[step, kernels[step]]:g}"]
        assert f"kernel {kernels[step]}" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="step must be in"):
        vr.draw_routing_frame(trace, P.kernel_shape, 18)


def test_routing_figures_refuse_several_groups():
    P, x = _packed(n=3, shape=(1, 3, 3))
    P2 = cs.pack(np.concatenate([P.unpack(), P.unpack()]), 3)
    with pytest.raises(ValueError, match="one packed kernel"):
        vr.draw_routing_frame(cs.trace_conv2d(x, P2), P2.kernel_shape, 0)


def test_serial_and_parallel_circuits_report_their_cost():
    P, x = _packed()
    trace = cs.trace_conv2d(x, P, k=1)
    serial = vr.draw_serial_routing(trace)
    assert "9 cycles" in serial.axes[0].get_title()
    sums = [t.get_text() for t in serial.axes[0].texts if "\u03a3" in t.get_text()]
    assert sums == [f"accumulator {j}:  \u03a3 = {s:g}" for j, s in enumerate(trace.sums)]
    parallel = vr.draw_parallel_routing(cs.trace_conv2d(x, P))
    assert "18 products in one step" in parallel.axes[0].get_title()
    assert "depth 3" in parallel.axes[0].get_title()  # 6 inputs per tree
