"""CPU layouts of packed weights, converted once from :class:`~compsparse.packing.PackedKernels`.

``PackedKernels`` is indexed like the FPGA reads it: packed kernel first, ``(n_groups,
*kernel_shape)``. A CPU wants the opposite: one *selected activation* should read one contiguous
row. So every layout here is indexed by input position first. Three of them, for three ways of
running a layer (numpy only; the compiled kernels in ``compsparse.fast.kernels`` read them):

``RoutedRows`` (sparse-sparse, packed)
    For input position ``r`` (``i`` of a linear layer, ``(c, dy, dx)`` of a conv kernel): the
    ``G = n_groups`` packed weights ``values[r, g]`` and where each product goes,
    ``route[r, g] = g * n_per_group + kernel_id`` (Route resolved at load time into an output
    index). A selected activation costs ``G`` multiply-adds, the packed MAC count.
``DenseRows`` (sparse-sparse, activation sparsity only)
    The unpacked weights, transposed: row ``r`` holds the weights of every output kernel at
    input position ``r`` (zeros where a kernel has none). ``n_out`` multiply-adds per selected
    activation, ``n_per_group`` times the packed count, but contiguous, so SIMD lanes fill.
``Taps`` (sparse-dense conv)
    With a dense input every product's destination is known before the input arrives, so Route
    disappears at load time: each output kernel keeps the list of its own non-zero positions
    (the packed kernel sorted by kernel id) as offsets into the flattened input plane.

Conv rows are stored *stamp-ordered*: ``(c_in, kh, kw * C)`` with the ``kw`` axis reversed, so
that the contributions of one input pixel to ``kw`` neighbouring output pixels of one output row
are one contiguous run, matching an output stored ``(oh, ow * C)`` (channels last).

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..packing import PackedKernels

__all__ = [
    "DenseRows",
    "RoutedRows",
    "Taps",
    "conv_dense_rows",
    "conv_routed_rows",
    "conv_taps",
    "float32_exact",
    "float32_rows_if_exact",
    "linear_dense_rows",
    "linear_routed_rows",
    "packed_bytes",
]


@dataclass(frozen=True, eq=False)
class RoutedRows:
    """Packed weights by input position, with their destinations.

    Attributes:
        values: ``(n_rows, width)`` weight dtype. Linear: ``n_rows = n_in``, ``width = G``.
            Conv: ``n_rows = c_in * kh``, ``width = kw * G`` (stamp order, ``kw`` reversed).
        route: ``(n_rows, width)`` int16 (int32 where an index does not fit): the output index
            of each product. Linear: the kernel ``g * n_per_group + id``. Conv:
            ``dxr * n_out_pad + kernel`` within one output row run (``dxr = kw - 1 - dx``).
        n_out_pad: ``n_groups * n_per_group`` accumulators (kernels of a partial last group
            included; only the first ``n_kernels`` are returned).
    """

    values: np.ndarray
    route: np.ndarray
    n_out_pad: int

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes + self.route.nbytes)


@dataclass(frozen=True, eq=False)
class DenseRows:
    """Unpacked weights by input position.

    Attributes:
        values: linear ``(n_in, n_out_pad)``; conv ``(c_in * kh, kw * n_out_pad)`` (stamp order).
        n_out_pad: columns per input position (``n_groups * n_per_group``; extra columns 0).
    """

    values: np.ndarray
    n_out_pad: int

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes)


@dataclass(frozen=True, eq=False)
class Taps:
    """Each output kernel's own non-zero weights, as offsets into a flattened input.

    Attributes:
        start: ``(n_out + 1,)`` int64: kernel ``o`` owns taps ``start[o]:start[o+1]``.
        offset: ``(n_taps,)`` int64: ``c * h * w + dy * w + dx`` for an input ``(c_in, h, w)``.
        weight: ``(n_taps,)`` weight dtype.
        in_hw: the ``(h, w)`` the offsets were computed for.
    """

    start: np.ndarray
    offset: np.ndarray
    weight: np.ndarray
    in_hw: tuple[int, int]

    @property
    def nbytes(self) -> int:
        return int(self.start.nbytes + self.offset.nbytes + self.weight.nbytes)


def _check(P: PackedKernels, ndim: int, what: str) -> None:
    if not isinstance(P, PackedKernels):
        raise TypeError(f"{what} needs PackedKernels from cs.pack, got {type(P).__name__}")
    if len(P.kernel_shape) != ndim:
        raise ValueError(f"{what} needs kernels of {ndim} dims, got shape {P.kernel_shape}")


def _route_dtype(n_out_pad: int) -> np.dtype:
    """int16 routes where every index fits (half the bytes a scattered product reads)."""
    return np.dtype(np.int16 if n_out_pad <= np.iinfo(np.int16).max else np.int32)


def linear_routed_rows(P: PackedKernels) -> RoutedRows:
    """``(n_in, G)`` packed rows and routes of a linear layer (the sparse-sparse layout)."""
    _check(P, 1, "linear_routed_rows")
    n_pad = P.n_groups * P.n_per_group
    values = np.ascontiguousarray(P.values.T)
    route = np.ascontiguousarray(P.kernel_index().T.astype(_route_dtype(n_pad)))
    return RoutedRows(values, route, n_pad)


def float32_rows_if_exact(R: RoutedRows, P: PackedKernels) -> RoutedRows:
    """``R`` (the routed rows of integer layer ``P``) with float32 values where
    :func:`float32_exact` holds: the engine's int8 pipeline runs such a layer in float32
    arithmetic, with exactly the integer result. Any other ``R`` is returned as it is."""
    if R.values.dtype == np.float32 or not float32_exact(P):
        return R
    return RoutedRows(R.values.astype(np.float32), R.route, R.n_out_pad)


def float32_exact(P: PackedKernels, a_max: int = 128) -> bool:
    """Whether an integer layer's sums can run in float32 arithmetic and stay exact.

    Every partial sum of ``w * a`` with ``|a| <= a_max`` is an integer no larger than the
    kernel's ``sum |w| * a_max``; below ``2**24`` every such integer is a float32, so each
    float32 multiply and add is exact. (On this CPU the routed linear kernel runs faster in
    float32 than with int8 operands widened to int32; see the chapter.)
    """
    if not np.issubdtype(P.values.dtype, np.integer):
        return False
    # sum |w| per kernel, straight from the packed values (each belongs to one kernel)
    per_kernel = np.bincount(P.kernel_index().ravel(), np.abs(P.values.astype(np.int64)).ravel())
    return int(per_kernel.max(initial=0)) * a_max < 2**24


def linear_dense_rows(P: PackedKernels) -> DenseRows:
    """``(n_in, n_out_pad)`` unpacked rows of a linear layer (activation sparsity only)."""
    _check(P, 1, "linear_dense_rows")
    n_pad = P.n_groups * P.n_per_group
    w = np.zeros((n_pad, P.kernel_shape[0]), P.values.dtype)
    w[: P.n_kernels] = P.unpack()
    return DenseRows(np.ascontiguousarray(w.T), n_pad)


def conv_routed_rows(P: PackedKernels) -> RoutedRows:
    """Stamp-ordered packed rows ``(c_in * kh, kw * G)`` and routes of a conv layer."""
    _check(P, 3, "conv_routed_rows")
    c_in, kh, kw = P.kernel_shape
    n_pad = P.n_groups * P.n_per_group
    # (G, c, kh, kw) -> (c, kh, kw reversed, G)
    values = P.values.transpose(1, 2, 3, 0)[:, :, ::-1, :]
    kernel = P.kernel_index().transpose(1, 2, 3, 0)[:, :, ::-1, :]
    dxr = np.arange(kw).reshape(1, 1, kw, 1)
    route = (dxr * n_pad + kernel).astype(_route_dtype(kw * n_pad))
    shape = (c_in * kh, kw * P.n_groups)
    return RoutedRows(
        np.ascontiguousarray(values).reshape(shape),
        np.ascontiguousarray(route).reshape(shape),
        n_pad,
    )


def conv_dense_rows(P: PackedKernels) -> DenseRows:
    """Stamp-ordered unpacked rows ``(c_in * kh, kw * n_out_pad)`` of a conv layer."""
    _check(P, 3, "conv_dense_rows")
    c_in, kh, kw = P.kernel_shape
    n_pad = P.n_groups * P.n_per_group
    w = np.zeros((n_pad, c_in, kh, kw), P.values.dtype)
    w[: P.n_kernels] = P.unpack()
    rows = w.transpose(1, 2, 3, 0)[:, :, ::-1, :]  # (c, kh, kw reversed, o)
    return DenseRows(np.ascontiguousarray(rows).reshape(c_in * kh, kw * n_pad), n_pad)


def conv_taps(P: PackedKernels, in_hw: tuple[int, int]) -> Taps:
    """Per output kernel, its non-zero weights as offsets into a ``(c_in, h, w)`` input."""
    _check(P, 3, "conv_taps")
    h, w = (int(n) for n in in_hw)
    c_in, kh, kw = P.kernel_shape
    if kh > h or kw > w:
        raise ValueError(f"a {kh}x{kw} kernel does not fit a {h}x{w} input")
    dense = P.unpack().reshape(P.n_kernels, -1)
    c, dy, dx = (a.ravel() for a in np.indices((c_in, kh, kw)))
    flat_offset = (c * h * w + dy * w + dx).astype(np.int64)
    starts, offsets, weights = [0], [], []
    for o in range(P.n_kernels):
        nz = np.flatnonzero(dense[o])  # ascending offsets: reads walk the input forwards
        offsets.append(flat_offset[nz])
        weights.append(dense[o, nz])
        starts.append(starts[-1] + nz.size)
    return Taps(
        start=np.array(starts, np.int64),
        offset=np.concatenate(offsets).astype(np.int64),
        weight=np.concatenate(weights).astype(P.values.dtype),
        in_hw=(h, w),
    )


def packed_bytes(P: PackedKernels, id_bits: int | None = None) -> dict[str, int]:
    """Weight memory of a layer: packed (values + kernel ids) against dense.

    Args:
        id_bits: bits per kernel id; default ``ceil(log2(n_per_group))`` (0 for dense groups),
            what a bit-packed store needs. ``P.kernel_ids.itemsize * 8`` gives the numpy size.

    Returns:
        ``{"dense", "packed_values", "packed_ids", "packed"}`` in bytes, at the values' dtype.
    """
    bits = max(int(P.n_per_group - 1).bit_length(), 0) if id_bits is None else int(id_bits)
    item = P.values.dtype.itemsize
    dense = P.n_kernels * int(np.prod(P.kernel_shape)) * item
    values = P.values.size * item
    ids = -(-P.values.size * bits // 8)
    return {"dense": dense, "packed_values": values, "packed_ids": ids, "packed": values + ids}
