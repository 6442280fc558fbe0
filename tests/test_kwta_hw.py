"""Select in hardware: the histogram and sorting-network methods pick exactly cs.kwta's winners."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import compsparse as cs
from compsparse.kwta import topk_order
from compsparse.kwta_hw import (
    SORT8_COMPARATORS,
    SORT8_LAYERS,
    histogram_threshold,
    kwta_histogram,
    kwta_sorting_network,
    sort8_stages,
    sort_merge_topk,
)


@st.composite
def int_activations(draw, dtypes=(np.int8, np.uint8), max_dims=3):
    """Integer arrays, often with many ties (a narrow range of values)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, max_side=9))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    info = np.iinfo(dtype)
    lo, hi = int(info.min), int(info.max)
    if draw(st.booleans()):
        lo = draw(st.integers(lo, hi))
        hi = min(hi, lo + 3)
    return draw(hnp.arrays(dtype, shape, elements=st.integers(lo, hi)))


def test_the_network_has_19_comparators_in_6_layers_and_sorts_every_input():
    assert len(SORT8_LAYERS) == 6 and len(SORT8_COMPARATORS) == 19
    for layer in SORT8_LAYERS:  # a layer's comparators touch disjoint wires
        wires = [w for c in layer for w in c]
        assert len(wires) == len(set(wires)) and all(i < j for i, j in layer)
    # 0-1 principle: a comparator network that sorts all 2^8 bit vectors sorts every input
    for bits in itertools.product([0, 1], repeat=8):
        values, _ = sort8_stages(np.array(bits))[-1]
        assert np.all(np.diff(values) <= 0), bits


def test_sorting_network_breaks_ties_by_index():
    values, indices = sort8_stages(np.array([2, 5, 2, 5, 2, 5, 2, 5]))[-1]
    assert values.tolist() == [5, 5, 5, 5, 2, 2, 2, 2]
    assert indices.tolist() == [1, 3, 5, 7, 0, 2, 4, 6]
    assert len(sort8_stages(np.arange(8))) == 7  # the input and one state per layer


@given(int_activations(), st.data())
def test_histogram_method_picks_the_kwta_winners(x, data):
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    n = x.size if axis is None else x.shape[axis]
    k = data.draw(st.integers(1, n))
    got, want = kwta_histogram(x, k, axis=axis), cs.kwta(x, k, axis=axis)
    assert np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.values, want.values) and got.values.dtype == x.dtype


@given(int_activations(dtypes=(np.int8, np.uint8, np.int16, np.int64)), st.data())
def test_sorting_network_method_picks_the_kwta_winners(x, data):
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    n = x.size if axis is None else x.shape[axis]
    k = data.draw(st.integers(1, n))
    got, want = kwta_sorting_network(x, k, axis=axis), cs.kwta(x, k, axis=axis)
    assert np.array_equal(got.indices, want.indices)


@given(hnp.arrays(np.uint8, st.integers(1, 300)), st.data())
def test_histogram_threshold_accounts_for_every_winner(x, data):
    k = data.draw(st.integers(1, x.size))
    h = histogram_threshold(x, k)
    assert h.counts.sum() == x.size and np.array_equal(h.counts, np.bincount(x, minlength=256))
    assert h.n_above == np.count_nonzero(x > h.threshold)
    assert 1 <= h.n_ties <= np.count_nonzero(x == h.threshold)
    assert h.n_above + h.n_ties == k


def test_histogram_threshold_of_int8_uses_offset_bins():
    h = histogram_threshold(np.array([-128, -1, -1, 0, 127], np.int8), 3)
    assert (h.threshold, h.bin, h.n_above, h.n_ties) == (-1, 127, 2, 1)
    assert h.counts[0] == 1 and h.counts[255] == 1


@given(hnp.arrays(np.int16, st.integers(1, 70), elements=st.integers(-4, 4)), st.data())
def test_merge_pops_winners_best_first(x, data):
    k = data.draw(st.integers(1, x.size))
    t = sort_merge_topk(x, k)
    order = topk_order(x)[:k]
    assert np.array_equal(t.winners, order)  # popped in rank order: value, then index
    groups = -(-x.size // 8)
    assert t.sorted_values.shape == (groups, 8)
    assert np.array_equal(t.fifo, t.winners // 8)
    real = t.sorted_indices >= 0
    assert np.array_equal(np.sort(t.sorted_indices[real]), np.arange(x.size))


def test_paper_configuration_64_channels_in_8_groups():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 4, 4)).astype(np.uint8)
    for k in (1, 8, 13):
        want = cs.kwta(x, k, axis=0).indices
        assert np.array_equal(kwta_sorting_network(x, k, axis=0).indices, want)
        assert np.array_equal(kwta_histogram(x, k, axis=0).indices, want)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: kwta_histogram(np.arange(5, dtype=np.int16), 2), "8-bit"),
        (lambda: kwta_histogram(np.arange(5.0), 2), "8-bit"),
        (lambda: kwta_sorting_network(np.arange(5.0), 2), "integer"),
        (lambda: kwta_sorting_network(np.arange(5), 6), "1 <= k <= 5"),
        (lambda: kwta_sorting_network(np.ones((2, 3), int), 1, axis=2), "axis"),
        (lambda: histogram_threshold(np.ones((2, 3), np.uint8), 1), "1-D"),
        (lambda: sort8_stages(np.arange(7)), "exactly 8"),
    ],
)
def test_bad_inputs_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
