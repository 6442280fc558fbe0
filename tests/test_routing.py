"""Route and Sum as circuits: serial and parallel routing give the layer's sums exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import compsparse as cs
from compsparse.routing import arbitrate, parallel_route, product_stream, serial_route


@st.composite
def traces(draw):
    """A traced conv position, sparse-dense or sparse-sparse, with int8 weights."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    c_in, k_hw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    n_per_group = draw(st.integers(1, min(5, c_in * k_hw * k_hw)))
    c_out = draw(st.integers(1, 7))
    masks = cs.complementary_masks(c_out, (c_in, k_hw, k_hw), n_per_group, seed=rng)
    w = (rng.integers(-5, 6, masks.shape) * masks).astype(np.int8)
    x = rng.integers(-9, 10, (c_in, k_hw + 2, k_hw + 1)).astype(np.int8)
    k = draw(st.none() | st.integers(1, c_in))
    return cs.trace_conv2d(x, cs.pack(w, n_per_group), k=k, position=(1, 1)), c_out


@given(traces())
def test_serial_and_parallel_routing_give_the_traced_sums(case):
    trace, n_kernels = case
    products, kernels, inputs, groups = product_stream(trace)
    assert products.size == trace.products.size
    assert np.array_equal(trace.kernels[groups, np.searchsorted(trace.selected, inputs)], kernels)
    serial = serial_route(products, kernels, n_kernels)
    parallel = parallel_route(products, kernels, n_kernels)
    assert np.array_equal(serial.sums, trace.sums) and serial.cycles == products.size
    assert np.array_equal(parallel.sums, trace.sums)
    if products.size:
        assert np.array_equal(serial.running[-1], trace.sums)
        # each cycle changes exactly the accumulator its product is routed to
        before = np.vstack([np.zeros(n_kernels, products.dtype), serial.running[:-1]])
        assert np.array_equal(
            (serial.running - before)[np.arange(products.size), kernels], products
        )


@given(st.lists(st.integers(0, 5), max_size=40))
def test_arbitration_gives_every_product_its_own_tree_input(kernels):
    kernels = np.array(kernels, np.int64)
    slots = arbitrate(kernels, 6)
    pairs = set(zip(kernels.tolist(), slots.tolist(), strict=True))
    assert len(pairs) == kernels.size  # no two products share (kernel, slot)
    for k in range(6):  # a kernel's slots are 0, 1, 2, ... in arrival order
        assert slots[kernels == k].tolist() == list(range(np.count_nonzero(kernels == k)))


def test_parallel_tree_depth_and_width():
    r = parallel_route(np.arange(1, 8), np.array([0, 0, 0, 0, 0, 1, 2]), 3)
    assert r.lanes.shape == (3, 5) and r.depth == 3
    assert r.sums.tolist() == [15, 6, 7] and r.slots.tolist() == [0, 1, 2, 3, 4, 0, 0]
    empty = parallel_route(np.zeros(0, np.int64), np.zeros(0, np.int64), 2)
    assert empty.sums.tolist() == [0, 0] and empty.depth == 0


def test_bad_routing_inputs_are_refused():
    with pytest.raises(ValueError, match="equal length"):
        serial_route(np.zeros(3), np.zeros(2, int), 2)
    with pytest.raises(ValueError, match=r"in \[0, 2\)"):
        parallel_route(np.zeros(2), np.array([0, 2]), 2)
