"""Cost models: multiply-accumulate counts of a layer run dense, sparse-dense and sparse-sparse.

The counts are what each execution style multiplies, assuming perfect packing: sparse-dense
multiplies every position of every packed kernel; sparse-sparse only the selected activations'
rows. Routing and k-WTA costs are not MACs and are not counted here.

Book: chapter "Two sparsities" (book/01_two_sparsities.ipynb).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Macs", "conv2d_macs", "linear_macs"]


class Macs(NamedTuple):
    """Multiply-accumulates of one layer for one input (ints)."""

    dense: int
    sparse_dense: int
    sparse_sparse: int

    @property
    def sparse_dense_speedup(self) -> float:
        """Ideal speed-up of sparse-dense over dense (dense MACs / sparse-dense MACs)."""
        return self.dense / self.sparse_dense

    @property
    def sparse_sparse_speedup(self) -> float:
        """Ideal speed-up of sparse-sparse over dense (dense MACs / sparse-sparse MACs)."""
        return self.dense / self.sparse_sparse


def _groups(n_kernels: int, n_per_group: int) -> int:
    if n_kernels < 1 or n_per_group < 1:
        raise ValueError(
            f"need n_kernels >= 1 and n_per_group >= 1, got {n_kernels}, {n_per_group}"
        )
    return -(-n_kernels // n_per_group)


def linear_macs(n_in: int, n_out: int, n_per_group: int = 1, k: int | None = None) -> Macs:
    """MACs of a linear layer ``(n_out, n_in)``.

    Args:
        n_per_group: kernels packed per dense kernel (weight density ``1 / n_per_group``).
        k: winners of the input's global k-WTA; ``None`` means a dense input (``k = n_in``).
    """
    k = n_in if k is None else k
    if not 1 <= k <= n_in:
        raise ValueError(f"k must be in [1, n_in={n_in}], got {k}")
    groups = _groups(n_out, n_per_group)
    return Macs(dense=n_in * n_out, sparse_dense=n_in * groups, sparse_sparse=k * groups)


def conv2d_macs(
    c_in: int,
    c_out: int,
    kernel: int | tuple[int, int],
    out_hw: tuple[int, int],
    n_per_group: int = 1,
    k: int | None = None,
) -> Macs:
    """MACs of a conv layer with ``(c_out, c_in, kh, kw)`` kernels and an ``out_hw`` output.

    Args:
        n_per_group: kernels packed per dense kernel.
        k: winners per pixel of the input's local k-WTA (``k`` of ``c_in`` channels);
            ``None`` means a dense input. Windows are counted as if fully inside the input.
    """
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    k = c_in if k is None else k
    if not 1 <= k <= c_in:
        raise ValueError(f"k must be in [1, c_in={c_in}], got {k}")
    positions = out_hw[0] * out_hw[1]
    groups = _groups(c_out, n_per_group)
    return Macs(
        dense=positions * c_out * c_in * kh * kw,
        sparse_dense=positions * groups * c_in * kh * kw,
        sparse_sparse=positions * groups * k * kh * kw,
    )
