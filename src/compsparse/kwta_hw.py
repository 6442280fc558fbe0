"""Select in hardware: the paper's two k-WTA circuits, bit-exact in numpy.

Both pick exactly the winners of :func:`compsparse.kwta` (the ``k`` largest values, ties to the
lower index), but the way a circuit would, so that the HLS kernels can be written against them:

* **Histogram threshold** (8-bit activations, any ``k``): count the values in 256 bins, read the
  bins from the top down until ``k`` values are covered; that bin is the threshold. A second pass
  in index order takes every value above it and the first ``k - above`` values equal to it.
* **Sorting network + FIFOs + comparator tree** (local k-WTA, e.g. 64 channels): split the
  candidates into groups of 8, sort each with the 19-comparator, 6-layer network
  :data:`SORT8_LAYERS`, put each sorted group in a FIFO, then ``k`` times let a comparator tree
  over the FIFO heads pick the best head and pop it.

Every comparison in both uses the same total order on ``(value, index)`` pairs: a pair *beats*
another when its value is larger, or the values are equal and its index is lower. Inputs are
integers (quantised activations); indices are positions along the k-WTA axis.

Book: chapter "Select" (book/03_select.ipynb).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kwta import SparseActivation

__all__ = [
    "SORT8_COMPARATORS",
    "SORT8_LAYERS",
    "HistogramThreshold",
    "SortMergeTrace",
    "histogram_threshold",
    "kwta_histogram",
    "kwta_sorting_network",
    "sort8_stages",
    "sort_merge_topk",
]

#: The 8-input sorting network: 6 layers, 19 comparators. Comparator ``(i, j)`` (``i < j``) leaves
#: the better of the two pairs on wire ``i``, so wire 0 ends with the best (largest) pair.
SORT8_LAYERS: tuple[tuple[tuple[int, int], ...], ...] = (
    ((0, 2), (1, 3), (4, 6), (5, 7)),
    ((0, 4), (1, 5), (2, 6), (3, 7)),
    ((0, 1), (2, 3), (4, 5), (6, 7)),
    ((2, 4), (3, 5)),
    ((1, 4), (3, 6)),
    ((1, 2), (3, 4), (5, 6)),
)
#: The same 19 comparators in the order the layers apply them.
SORT8_COMPARATORS: tuple[tuple[int, int], ...] = tuple(c for layer in SORT8_LAYERS for c in layer)

GROUP = 8  # inputs of one sorting network


# ------------------------------------------------------------------ shared checks and order


def _check(x, k, axis, *, eight_bit: bool):
    """Validate; return (x as (positions, n) rows, k, axis or None)."""
    x = np.asarray(x)
    if eight_bit and x.dtype not in (np.dtype(np.uint8), np.dtype(np.int8)):
        raise ValueError(
            f"the histogram method counts 8-bit activations in 256 bins; got dtype {x.dtype}: "
            f"quantise to uint8 or int8 first (or use kwta_sorting_network / cs.kwta)"
        )
    if not np.issubdtype(x.dtype, np.integer) or x.dtype == bool:
        raise ValueError(
            f"hardware k-WTA works on integer (quantised) activations, got dtype {x.dtype}; "
            f"quantise first, or use cs.kwta for real values"
        )
    if x.size == 0:
        raise ValueError("x is empty: k-WTA needs at least one candidate")
    if axis is not None:
        if isinstance(axis, bool) or int(axis) != axis or not -x.ndim <= axis < x.ndim:
            raise ValueError(f"axis must be None or an int in [{-x.ndim}, {x.ndim}), got {axis!r}")
        axis = int(axis) % x.ndim
        rows = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    else:
        rows = x.reshape(1, -1)
    n = rows.shape[1]
    if isinstance(k, bool) or int(k) != k or not 1 <= k <= n:
        raise ValueError(f"k must be an int with 1 <= k <= {n} (the candidates), got {k!r}")
    return x, rows, int(k), axis


def _to_sparse(x: np.ndarray, won_rows: np.ndarray, axis) -> SparseActivation:
    """(positions, n) bool winners back to a SparseActivation of x's shape."""
    if axis is None:
        won = won_rows.reshape(x.shape)
    else:
        moved = np.moveaxis(np.empty(x.shape, bool), axis, -1).shape
        won = np.moveaxis(won_rows.reshape(moved), -1, axis)
    indices = np.flatnonzero(won)
    return SparseActivation(indices=indices, values=x.ravel()[indices], shape=x.shape)


def _beats(va, ia, oka, vb, ib, okb):
    """Element-wise: does pair a beat pair b? Invalid (padding, empty FIFO) pairs never win."""
    return oka & (~okb | (va > vb) | ((va == vb) & (ia < ib)))


# ------------------------------------------------------------------ histogram threshold


@dataclass(frozen=True, eq=False)
class HistogramThreshold:
    """What the histogram method computed for one set of candidates.

    Attributes:
        counts: ``(256,)`` int64, how many candidates fall in each bin. Bin ``b`` holds value
            ``b`` for uint8 and ``b - 128`` for int8.
        bin: int, the threshold bin: the highest bin whose count, added to the counts of every
            bin above it, reaches ``k``.
        threshold: int, the value of that bin.
        n_above: int, candidates strictly above the threshold (all of them win).
        n_ties: int, candidates equal to the threshold that win (the first ones in index order);
            ``n_above + n_ties == k``.
    """

    counts: np.ndarray
    bin: int
    threshold: int
    n_above: int
    n_ties: int


def _offset(dtype) -> int:
    return 128 if np.dtype(dtype) == np.dtype(np.int8) else 0


def _histogram_rows(rows: np.ndarray, k: int):
    """Vectorised over rows: (counts (R, 256), bin (R,), n_above (R,), winners (R, n))."""
    bins = rows.astype(np.int64) + _offset(rows.dtype)  # (R, n) in [0, 256)
    r = rows.shape[0]
    counts = np.zeros((r, 256), np.int64)
    np.add.at(counts, (np.arange(r)[:, None], bins), 1)
    from_top = np.cumsum(counts[:, ::-1], axis=1)  # from_top[:, t] counts bins >= 255 - t
    t = np.argmax(from_top >= k, axis=1)  # first bin, reading down, that covers k values
    threshold_bin = 255 - t
    n_above = from_top[np.arange(r), t] - counts[np.arange(r), threshold_bin]
    at = bins == threshold_bin[:, None]
    # second pass in index order: the first (k - n_above) values equal to the threshold win
    rank_at = np.cumsum(at, axis=1) - 1
    winners = (bins > threshold_bin[:, None]) | (at & (rank_at < (k - n_above)[:, None]))
    return counts, threshold_bin, n_above, winners


def histogram_threshold(x, k: int) -> HistogramThreshold:
    """The histogram method's threshold for one 1-D set of 8-bit candidates.

    Args:
        x: ``(n,)`` uint8 or int8 activations.
        k: winners, ``1 <= k <= n``.

    Returns:
        :class:`HistogramThreshold`.
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D (one set of candidates), got shape {x.shape}")
    _, rows, k, _ = _check(x, k, None, eight_bit=True)
    counts, b, above, _ = _histogram_rows(rows, k)
    b, above = int(b[0]), int(above[0])
    return HistogramThreshold(
        counts=counts[0], bin=b, threshold=b - _offset(x.dtype), n_above=above, n_ties=k - above
    )


def kwta_histogram(x, k: int, axis: int | None = None) -> SparseActivation:
    """k-WTA by the 256-bin histogram method; the same winners as ``cs.kwta(x, k, axis)``.

    Args:
        x: uint8 or int8 activations, any shape.
        k: winners (per position when ``axis`` is given).
        axis: ``None`` for global k-WTA, or the axis to select along (0 for ``(c, h, w)``).

    Returns:
        :class:`~compsparse.kwta.SparseActivation`.

    Book: chapter "Select".
    """
    x, rows, k, axis = _check(x, k, axis, eight_bit=True)
    return _to_sparse(x, _histogram_rows(rows, k)[3], axis)


# ------------------------------------------------------------------ sorting network + merge


def _sort8(values, indices, valid, layers=SORT8_LAYERS, stages=None):
    """Apply the network along the last axis (length 8) of (..., 8) arrays, in place."""
    for layer in layers:
        for i, j in layer:
            swap = _beats(
                values[..., j], indices[..., j], valid[..., j],
                values[..., i], indices[..., i], valid[..., i],
            )  # fmt: skip
            for a in (values, indices, valid):
                a[..., i], a[..., j] = (
                    np.where(swap, a[..., j], a[..., i]),
                    np.where(swap, a[..., i], a[..., j]),
                )
        if stages is not None:
            stages.append((values.copy(), indices.copy()))


def sort8_stages(values, indices=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Run 8 candidates through :data:`SORT8_LAYERS` and keep every stage.

    Args:
        values: ``(8,)`` integers.
        indices: ``(8,)`` their indices (default ``0..7``), used to break ties.

    Returns:
        7 ``(values, indices)`` pairs of ``(8,)`` arrays: the input, then the wires after each of
        the 6 layers. The last is sorted best first.
    """
    values = np.array(values)
    indices = np.arange(GROUP) if indices is None else np.array(indices, np.int64)
    if values.shape != (GROUP,) or indices.shape != (GROUP,):
        raise ValueError(f"a sorting network sorts exactly {GROUP} values, got {values.shape}")
    stages = [(values.copy(), indices.copy())]
    _sort8(values, indices, np.ones(GROUP, bool), stages=stages)
    return stages


@dataclass(frozen=True, eq=False)
class SortMergeTrace:
    """What the sorting-network method did for one set of ``n`` candidates.

    Attributes:
        sorted_values: ``(n_groups, 8)`` each group after its sorting network, best first (the
            FIFO contents, head first); padding of a last, partial group is at the end.
        sorted_indices: ``(n_groups, 8)`` int64 the candidates' indices (-1 for padding).
        winners: ``(k,)`` int64 the winners' indices in the order the comparator tree popped them.
        fifo: ``(k,)`` int64 which FIFO (group) each winner was popped from.
    """

    sorted_values: np.ndarray
    sorted_indices: np.ndarray
    winners: np.ndarray
    fifo: np.ndarray


def _sort_merge_rows(rows: np.ndarray, k: int):
    """Vectorised over rows: (sorted values, sorted indices, valid, winners, fifo)."""
    r, n = rows.shape
    n_groups = -(-n // GROUP)
    pad = n_groups * GROUP - n
    values = np.concatenate([rows, np.zeros((r, pad), rows.dtype)], axis=1)
    indices = np.broadcast_to(np.arange(n_groups * GROUP), values.shape).copy()
    valid = indices < n
    indices[~valid] = -1
    values, indices, valid = (a.reshape(r, n_groups, GROUP) for a in (values, indices, valid))
    _sort8(values, indices, valid)

    # comparator tree over the FIFO heads; leaves padded to a power of two with empty FIFOs
    leaves = 1 << max(0, (n_groups - 1).bit_length())
    head = np.zeros((r, n_groups), np.int64)
    winners = np.zeros((r, k), np.int64)
    fifo = np.zeros((r, k), np.int64)
    rr = np.arange(r)[:, None]
    for step in range(k):
        ok = head < GROUP
        at = np.minimum(head, GROUP - 1)[..., None]
        v = np.take_along_axis(values, at, axis=2)[..., 0]
        i = np.take_along_axis(indices, at, axis=2)[..., 0]
        ok &= np.take_along_axis(valid, at, axis=2)[..., 0]
        g = np.broadcast_to(np.arange(n_groups), (r, n_groups))
        extra = leaves - n_groups
        v, i, g = (np.pad(a, ((0, 0), (0, extra))) for a in (v, i, g))
        ok = np.pad(ok, ((0, 0), (0, extra)))
        while v.shape[1] > 1:  # one tree level: pairs (0,1), (2,3), ...
            left = _beats(v[:, 0::2], i[:, 0::2], ok[:, 0::2], v[:, 1::2], i[:, 1::2], ok[:, 1::2])
            pick = lambda a, left=left: np.where(left, a[:, 0::2], a[:, 1::2])  # noqa: E731
            v, i, g, ok = pick(v), pick(i), pick(g), pick(ok)
        winners[:, step], fifo[:, step] = i[:, 0], g[:, 0]
        head[rr[:, 0], g[:, 0]] += 1  # pop the winner's FIFO
    return values, indices, valid, winners, fifo


def sort_merge_topk(x, k: int) -> SortMergeTrace:
    """The sorting-network method on one 1-D set of candidates, with what each stage held.

    Args:
        x: ``(n,)`` integers (any integer dtype); ``n`` need not be a multiple of 8: a last,
            partial group is padded with entries that never win.
        k: winners, ``1 <= k <= n``.

    Returns:
        :class:`SortMergeTrace`.
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D (one set of candidates), got shape {x.shape}")
    _, rows, k, _ = _check(x, k, None, eight_bit=False)
    values, indices, _, winners, fifo = _sort_merge_rows(rows, k)
    return SortMergeTrace(
        sorted_values=values[0], sorted_indices=indices[0], winners=winners[0], fifo=fifo[0]
    )


def kwta_sorting_network(x, k: int, axis: int | None = None) -> SparseActivation:
    """k-WTA by sorting networks, FIFOs and a comparator tree; the same winners as ``cs.kwta``.

    Args:
        x: integer activations, any shape.
        k: winners (per position when ``axis`` is given).
        axis: ``None`` for global k-WTA, or the axis to select along (0 for ``(c, h, w)``: with
            64 channels, 8 groups of 8 at every pixel, as in the paper).

    Returns:
        :class:`~compsparse.kwta.SparseActivation`.

    Book: chapter "Select".
    """
    x, rows, k, axis = _check(x, k, axis, eight_bit=False)
    winners = _sort_merge_rows(rows, k)[3]
    won = np.zeros(rows.shape, bool)
    np.put_along_axis(won, winners, True, axis=1)
    return _to_sparse(x, won, axis)
