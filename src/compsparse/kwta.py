"""Select: k-winners-take-all, the step that makes activations sparse.

``kwta`` keeps exactly ``k`` winners, globally (linear layers) or locally along one axis (conv
layers: the channels at each pixel). Ties go to the lower index, the one rule shared by the
numpy reference, the integer pipeline, the HLS kernels and the CPU engine.

Book: chapter "Select" (book/03_select.ipynb).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SparseActivation", "kwta", "topk_order"]


@dataclass(frozen=True, eq=False)
class SparseActivation:
    """A sparse activation: the winners of k-WTA and where they are.

    Attributes:
        indices: ``(nnz,)`` int64, flat (C-order) indices into an array of ``shape``,
            strictly ascending.
        values: ``(nnz,)``, the activation dtype: the values at those indices.
        shape: shape of the dense activation, e.g. ``(n,)`` or ``(c, h, w)``.

    Book: chapter "Select".
    """

    indices: np.ndarray
    values: np.ndarray
    shape: tuple[int, ...]

    def __post_init__(self):
        indices = np.asarray(self.indices, dtype=np.int64)
        values = np.asarray(self.values)
        shape = tuple(int(n) for n in self.shape)
        if indices.ndim != 1 or values.shape != indices.shape:
            raise ValueError(
                "indices and values must be 1-D of equal length, "
                f"got {indices.shape} and {values.shape}"
            )
        size = int(np.prod(shape))
        if indices.size and (
            indices[0] < 0 or indices[-1] >= size or np.any(np.diff(indices) <= 0)
        ):
            raise ValueError(
                f"indices must be strictly ascending flat indices in [0, {size}) for shape {shape}"
            )
        object.__setattr__(self, "indices", indices)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "shape", shape)

    @classmethod
    def from_dense(cls, x) -> SparseActivation:
        """The non-zero entries of a dense array, as a :class:`SparseActivation`."""
        x = np.asarray(x)
        indices = np.flatnonzero(x)
        return cls(indices=indices, values=x.ravel()[indices], shape=x.shape)

    @property
    def nnz(self) -> int:
        """Number of stored entries (the winners)."""
        return int(self.indices.size)

    @property
    def density(self) -> float:
        """Fraction of the dense activation that is stored."""
        return self.nnz / int(np.prod(self.shape))

    def to_dense(self) -> np.ndarray:
        """The dense activation of ``shape``: winners' values, zeros elsewhere."""
        out = np.zeros(int(np.prod(self.shape)), dtype=self.values.dtype)
        out[self.indices] = self.values
        return out.reshape(self.shape)


def topk_order(x, axis: int = -1) -> np.ndarray:
    """Indices that sort ``x`` along ``axis`` by decreasing value, ties by increasing index.

    This is the ranking behind :func:`kwta`: the first ``k`` entries are the winners. It works for
    every real and integer dtype without negating values (negating -128 in int8 overflows).
    """
    x = np.asarray(x)
    n = x.shape[axis]
    # A stable ascending sort of the reversed array, reversed again, is a descending sort in
    # which equal values keep increasing original order.
    reversed_order = np.argsort(np.flip(x, axis=axis), axis=axis, kind="stable")
    return (n - 1) - np.flip(reversed_order, axis=axis)


def kwta(x, k: int, axis: int | None = None) -> SparseActivation:
    """Select: keep the ``k`` largest values of ``x``, zero the rest.

    Args:
        x: real or integer array, any shape (``(n,)`` for a linear layer's input,
            ``(c, h, w)`` for a conv layer's).
        k: number of winners, ``1 <= k <= n`` where ``n`` is the number of candidates (all of
            ``x`` for global k-WTA, ``x.shape[axis]`` for local).
        axis: ``None`` for global k-WTA over every element; an int for local k-WTA: ``k``
            winners along that axis at every position of the other axes (for ``(c, h, w)``
            conv activations, ``axis=0`` picks ``k`` channels at each pixel).

    Returns:
        :class:`SparseActivation` with exactly ``k`` winners (global) or ``k`` per position
        (local). Ties go to the lower index: the lower flat index for global k-WTA, the lower
        index along ``axis`` for local. Winners keep their values even when negative.

    Raises:
        ValueError: ``k`` out of range, NaN in ``x``, or a bad ``axis``.
    """
    x = np.asarray(x)
    if x.dtype == bool or not (
        np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
    ):
        raise ValueError(f"x must be a real or integer array, got dtype {x.dtype}")
    if x.size == 0:
        raise ValueError("x is empty: k-WTA needs at least one candidate")
    if np.issubdtype(x.dtype, np.floating) and np.isnan(x).any():
        where = tuple(int(i) for i in np.argwhere(np.isnan(x))[0])
        raise ValueError(f"x contains NaN (first at {where}); k-WTA cannot rank NaN")
    if axis is not None:
        if isinstance(axis, bool) or int(axis) != axis or not -x.ndim <= axis < x.ndim:
            raise ValueError(f"axis must be None or an int in [{-x.ndim}, {x.ndim}), got {axis!r}")
        axis = int(axis) % x.ndim
    n = x.size if axis is None else x.shape[axis]
    if isinstance(k, bool) or int(k) != k or not 1 <= k <= n:
        scope = "elements of x" if axis is None else f"entries along axis {axis}"
        raise ValueError(f"k must be an int with 1 <= k <= {n} (the number of {scope}), got {k!r}")
    k = int(k)

    if axis is None:
        winners = np.zeros(x.size, dtype=bool)
        winners[topk_order(x.ravel())[:k]] = True
    else:
        order = topk_order(x, axis=axis)
        winners = np.zeros(x.shape, dtype=bool)
        np.put_along_axis(winners, np.take(order, np.arange(k), axis=axis), True, axis=axis)
    indices = np.flatnonzero(winners)
    return SparseActivation(indices=indices, values=x.ravel()[indices], shape=x.shape)
