"""The cost Complementary Sparsity removes: pairing non-zeros of unstructured sparse operands.

With unstructured weight sparsity and sparse activations, a useful multiply needs a weight and an
activation that are both non-zero at the same index. A processor that stores both as index
lists must *find* those pairs at run time, for instance by walking the two sorted lists side by
side (a merge). Each step of the walk is a compare-and-branch, and there are far more steps than
useful products.

Book: chapter "Two sparsities" (book/01_two_sparsities.ipynb).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["MatchingWork", "intersect_sorted", "matching_work"]


class MatchingWork(NamedTuple):
    """Work of pairing the non-zeros of a sparse matrix with those of a sparse vector.

    Attributes:
        products: int, useful multiply-accumulates (index pairs that meet).
        steps: int, steps of the merge walks that found them (one compare per step).
        nnz_weights: int, non-zero weights.
        nnz_inputs: int, non-zero inputs.
    """

    products: int
    steps: int
    nnz_weights: int
    nnz_inputs: int


def intersect_sorted(a, b) -> tuple[np.ndarray, int]:
    """Walk two strictly ascending index lists side by side; return the matches and the steps.

    Each step compares the two current indices and advances the smaller one (both on a match);
    the walk stops when either list is used up. This is the reference loop; it is what
    :func:`matching_work` counts.

    Args:
        a, b: ``(na,)`` and ``(nb,)`` strictly ascending ints.

    Returns:
        ``(matches, steps)``: ``(n_match,)`` int64 common indices, and the number of steps.
    """
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    for name, v in (("a", a), ("b", b)):
        if v.ndim != 1 or np.any(np.diff(v) <= 0):
            raise ValueError(f"{name} must be a strictly ascending 1-D index list")
    i = j = steps = 0
    matches = []
    while i < a.size and j < b.size:
        steps += 1
        if a[i] == b[j]:
            matches.append(a[i])
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return np.array(matches, np.int64), steps


def _walk_steps(a: np.ndarray, b: np.ndarray, n_match: int) -> int:
    """Steps of :func:`intersect_sorted` without the loop: what each list consumes, less matches."""
    if a.size == 0 or b.size == 0:
        return 0
    used_a = np.searchsorted(a, b[-1], side="right")  # a's entries up to b's last
    used_b = np.searchsorted(b, a[-1], side="right")
    return int(used_a + used_b - n_match)


def matching_work(weights, x) -> MatchingWork:
    """Count the useful products and the merge steps of ``weights @ x`` on index lists.

    Args:
        weights: ``(n_out, n_in)`` sparse weights (zeros are absent entries).
        x: ``(n_in,)`` sparse activation.

    Returns:
        :class:`MatchingWork` summed over the ``n_out`` rows.
    """
    w = np.asarray(weights)
    x = np.asarray(x)
    if w.ndim != 2 or x.shape != (w.shape[1],):
        raise ValueError(f"need weights (n_out, n_in) and x (n_in,), got {w.shape} and {x.shape}")
    xi = np.flatnonzero(x)
    on = x != 0
    products = steps = 0
    for row in w:
        wi = np.flatnonzero(row)
        n_match = int(np.count_nonzero(on[wi]))
        products += n_match
        steps += _walk_steps(wi, xi, n_match)
    return MatchingWork(
        products=products,
        steps=steps,
        nnz_weights=int(np.count_nonzero(w)),
        nnz_inputs=int(xi.size),
    )
