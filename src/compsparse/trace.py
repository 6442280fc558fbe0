"""Every intermediate of the five steps, for the book's figures and widgets.

:func:`trace_linear` and :func:`trace_conv2d` run one layer step by step and keep what each step
produced: the selected activations, the packed weights they meet, the products, the kernel each
product is routed to, and the per-kernel sums. The traced sums equal :func:`compsparse.linear` /
:func:`compsparse.conv2d` exactly (tests check it).

Book: chapters "Multiply", "Route" and "Sum".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kwta import SparseActivation, kwta
from .ops import _windows, accumulator_dtype, conv2d, conv2d_output_shape, linear
from .packing import PackedKernels

__all__ = ["StepTrace", "trace_conv2d", "trace_linear"]


@dataclass(frozen=True, eq=False)
class StepTrace:
    """The steps of one output position of a layer. ``G`` packed kernels, ``m`` selected inputs.

    Attributes:
        inputs: ``(n,)`` the activation the position sees, flattened (for a conv, its window,
            C-order over ``(c_in, kh, kw)``); after Select when ``k`` was given.
        selected: ``(m,)`` int64 indices into ``inputs`` that are multiplied (all ``n`` for
            sparse-dense, the winners for sparse-sparse).
        activations: ``(m,)`` ``inputs[selected]``.
        weights: ``(G, m)`` the packed weights at the selected positions.
        kernel_ids: ``(G, m)`` each weight's kernel id within its group.
        kernels: ``(G, m)`` int64 each product's global kernel index (its accumulator).
        products: ``(G, m)`` Multiply: ``weights * activations``.
        routed: ``(n_kernels, m)`` Route: ``routed[kernels[g, j], j] = products[g, j]``, zero
            where a kernel has no product from input ``j``.
        sums: ``(n_kernels,)`` Sum: ``routed.sum(axis=1)``, this position's output.
        output: the whole layer's output (``(n_out,)`` or ``(c_out, oh, ow)``).
        position: ``(p, q)`` of the traced output position for a conv, ``None`` for linear.
        sparse: True for the sparse-sparse path.
    """

    inputs: np.ndarray
    selected: np.ndarray
    activations: np.ndarray
    weights: np.ndarray
    kernel_ids: np.ndarray
    kernels: np.ndarray
    products: np.ndarray
    routed: np.ndarray
    sums: np.ndarray
    output: np.ndarray
    position: tuple[int, int] | None
    sparse: bool


def _steps(
    inputs, selected, values2d, ids2d, P: PackedKernels, output, position, sparse
) -> StepTrace:
    activations = inputs[selected]
    acc = accumulator_dtype(activations.dtype, values2d.dtype)
    weights = values2d[:, selected]
    kernel_ids = ids2d[:, selected]
    groups = np.arange(P.n_groups)[:, None]
    kernels = groups * P.n_per_group + kernel_ids.astype(np.int64)
    products = weights.astype(acc) * activations.astype(acc)[None]
    routed = np.zeros((P.n_groups * P.n_per_group, selected.size), acc)
    routed[kernels, np.arange(selected.size)[None]] = products
    routed = routed[: P.n_kernels]
    return StepTrace(
        inputs=inputs,
        selected=selected.astype(np.int64),
        activations=activations,
        weights=weights,
        kernel_ids=kernel_ids,
        kernels=kernels,
        products=products,
        routed=routed,
        sums=routed.sum(axis=1),
        output=output,
        position=position,
        sparse=sparse,
    )


def trace_linear(x, P: PackedKernels, k: int | None = None) -> StepTrace:
    """Trace a linear layer: Select (if ``k``), Multiply, Route, Sum.

    Args:
        x: dense ``(n_in,)`` activation, or a :class:`~compsparse.kwta.SparseActivation`.
        P: kernels packed from ``(n_out, n_in)`` weights.
        k: if given, global k-WTA on a dense ``x`` first (sparse-sparse).
    """
    if k is not None and not isinstance(x, SparseActivation):
        x = kwta(x, k)
    output = linear(x, P)
    if isinstance(x, SparseActivation):
        inputs, selected = x.to_dense(), x.indices
    else:
        inputs = np.asarray(x)
        selected = np.arange(inputs.size)
    return _steps(
        inputs, selected, P.values, P.kernel_ids, P, output, None, isinstance(x, SparseActivation)
    )


def trace_conv2d(
    x, P: PackedKernels, k: int | None = None, stride=1, padding=0, position=(0, 0)
) -> StepTrace:
    """Trace one output position of a conv layer: Select (if ``k``), Multiply, Route, Sum.

    Args:
        x: dense ``(c_in, h, w)`` activation, or a :class:`~compsparse.kwta.SparseActivation`.
        P: kernels packed from ``(c_out, c_in, kh, kw)`` weights.
        k: if given, local k-WTA on a dense ``x`` first (``k`` channels at each pixel).
        stride, padding: as in :func:`compsparse.conv2d`.
        position: the output position ``(p, q)`` whose window is traced.
    """
    if k is not None and not isinstance(x, SparseActivation):
        x = kwta(x, k, axis=0)
    output = conv2d(x, P, stride=stride, padding=padding)
    sparse = isinstance(x, SparseActivation)
    dense = x.to_dense() if sparse else np.asarray(x)
    oh, ow = conv2d_output_shape(dense.shape, P.kernel_shape, stride, padding)
    p, q = (int(v) for v in position)
    if not (0 <= p < oh and 0 <= q < ow):
        raise ValueError(f"position {position} is outside the {oh}x{ow} output")
    windows = _windows(dense, P.kernel_shape[1:], (oh, ow), stride, padding)
    window = windows[p * ow + q]
    if sparse:
        winners = np.zeros(dense.shape, bool)
        np.put(winners, x.indices, True)
        selected = np.flatnonzero(
            _windows(winners, P.kernel_shape[1:], (oh, ow), stride, padding)[p * ow + q]
        )
    else:
        selected = np.arange(window.size)
    values2d = P.values.reshape(P.n_groups, -1)
    ids2d = P.kernel_ids.reshape(P.n_groups, -1)
    return _steps(window, selected, values2d, ids2d, P, output, (p, q), sparse)
