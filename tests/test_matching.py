"""The work of pairing unstructured non-zeros, counted the way a merge walk does it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from compsparse.matching import _walk_steps, intersect_sorted, matching_work

INDEX_SETS = st.sets(st.integers(0, 60), max_size=30).map(lambda s: np.array(sorted(s), np.int64))


@given(INDEX_SETS, INDEX_SETS)
def test_walk_finds_the_common_indices_and_the_formula_counts_its_steps(a, b):
    matches, steps = intersect_sorted(a, b)
    assert np.array_equal(matches, np.intersect1d(a, b))
    assert _walk_steps(a, b, matches.size) == steps
    assert steps <= a.size + b.size


def test_matching_work_of_a_small_layer():
    w = np.array([[1, 0, 2, 0, 0, 3], [0, 4, 0, 0, 5, 0]])
    x = np.array([0, 0, 7, 0, 8, 9])
    work = matching_work(w, x)
    assert (work.products, work.nnz_weights, work.nnz_inputs) == (3, 5, 3)
    expected = sum(intersect_sorted(np.flatnonzero(row), np.flatnonzero(x))[1] for row in w)
    assert work.steps == expected
    assert work.products == np.count_nonzero((w != 0) & (x != 0))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="strictly ascending"):
        intersect_sorted([3, 1], [1])
    with pytest.raises(ValueError, match="n_out, n_in"):
        matching_work(np.ones((2, 3)), np.ones(2))
