"""Route and Sum as a circuit does them: serially through a multiplexer, or in parallel.

The products of one output position each carry the index of the kernel they belong to. Two ways
to get them into per-kernel sums, as the paper describes them:

* **Serial**: one product per cycle; a multiplexer network, steered by the kernel id, adds it to
  that kernel's accumulator. :func:`serial_route` keeps the running sums after every cycle.
* **Parallel**: all products at once. Each kernel has an adder tree, and each product needs its
  own input of its kernel's tree. The *arbitration* step gives product ``j`` the slot "how many
  earlier products go to the same kernel", an exclusive prefix sum over the one-hot kernel ids
  (:func:`arbitrate`); the slot is the low-order address of the tree input, so no two products
  collide. :func:`parallel_route` places the products and sums each tree.

The paper gives no more detail than that; this is our reading of it, and both give exactly the
sums of :func:`compsparse.linear` / :func:`compsparse.conv2d` for integers.

Book: chapter "Route" (book/05_route.ipynb).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .trace import StepTrace

__all__ = [
    "ParallelRouting",
    "SerialRouting",
    "arbitrate",
    "parallel_route",
    "product_stream",
    "serial_route",
]


def product_stream(trace: StepTrace) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The products of a traced position in the order a datapath meets them.

    Input by input (the selected activations in index order), and for each input its packed
    kernels ``g = 0 .. G-1``.

    Returns:
        ``(products, kernels, inputs, groups)``, each ``(G * m,)``: the product, its kernel
        (accumulator) index, the position in ``trace.inputs`` it came from (int64), and the
        packed kernel it was read from (int64).
    """
    g, m = trace.products.shape
    inputs = np.repeat(trace.selected, g)
    groups = np.tile(np.arange(g, dtype=np.int64), m)
    return trace.products.T.ravel(), trace.kernels.T.ravel(), inputs, groups


def _check(products, kernels, n_kernels):
    products = np.asarray(products)
    kernels = np.asarray(kernels)
    if products.ndim != 1 or kernels.shape != products.shape:
        raise ValueError(
            f"products and kernels must be 1-D of equal length, got {products.shape} and "
            f"{kernels.shape}; flatten a trace with product_stream(trace)"
        )
    if kernels.size and (kernels.min() < 0 or kernels.max() >= n_kernels):
        raise ValueError(f"kernel indices must be in [0, {n_kernels}), got {kernels.min()}..")
    return products, kernels.astype(np.int64)


@dataclass(frozen=True, eq=False)
class SerialRouting:
    """Serial routing of ``m`` products to ``n_kernels`` accumulators, one product per cycle.

    Attributes:
        running: ``(m, n_kernels)`` the accumulators after each cycle (row ``t`` includes product
            ``t``), the products' dtype.
        sums: ``(n_kernels,)`` the accumulators at the end.
        cycles: int, ``m``: one per product.
    """

    running: np.ndarray
    sums: np.ndarray
    cycles: int


def serial_route(products, kernels, n_kernels: int) -> SerialRouting:
    """Route products one per cycle to the accumulator their kernel id selects.

    Args:
        products: ``(m,)`` products (int64 for integer layers).
        kernels: ``(m,)`` each product's kernel index in ``[0, n_kernels)``.
        n_kernels: number of accumulators.
    """
    products, kernels = _check(products, kernels, n_kernels)
    steps = np.zeros((products.size, n_kernels), products.dtype)
    steps[np.arange(products.size), kernels] = products
    running = np.cumsum(steps, axis=0, dtype=products.dtype)
    sums = running[-1] if products.size else np.zeros(n_kernels, products.dtype)
    return SerialRouting(running=running, sums=sums, cycles=int(products.size))


def arbitrate(kernels, n_kernels: int) -> np.ndarray:
    """Slots for parallel routing: the exclusive prefix sum of one-hot kernel ids.

    Args:
        kernels: ``(m,)`` each product's kernel index in ``[0, n_kernels)``.
        n_kernels: number of kernels (adder trees).

    Returns:
        ``(m,)`` int64: ``slot[j]`` = the number of products before ``j`` with the same kernel.
        ``(kernels[j], slot[j])`` pairs are all different.
    """
    _, kernels = _check(np.zeros(np.shape(kernels)), kernels, n_kernels)
    onehot = kernels[:, None] == np.arange(n_kernels)[None]  # (m, n_kernels)
    before = np.cumsum(onehot, axis=0) - onehot
    return before[np.arange(kernels.size), kernels].astype(np.int64)


def _tree_sum(lanes: np.ndarray) -> tuple[np.ndarray, int]:
    """Sum along the last axis by pairwise levels; returns (sums, levels)."""
    levels = 0
    while lanes.shape[-1] > 1:
        if lanes.shape[-1] % 2:
            lanes = np.concatenate([lanes, np.zeros((*lanes.shape[:-1], 1), lanes.dtype)], -1)
        lanes = lanes[..., 0::2] + lanes[..., 1::2]
        levels += 1
    return lanes[..., 0], levels


@dataclass(frozen=True, eq=False)
class ParallelRouting:
    """Parallel routing of ``m`` products into ``n_kernels`` adder trees.

    Attributes:
        slots: ``(m,)`` int64, each product's input of its kernel's adder tree (from
            :func:`arbitrate`).
        lanes: ``(n_kernels, width)`` the adder trees' inputs, zero where no product arrived;
            ``width`` is the most products any kernel received (at least 1).
        sums: ``(n_kernels,)`` each tree's output.
        depth: int, adder levels of a ``width``-input tree, ``ceil(log2(width))``.
    """

    slots: np.ndarray
    lanes: np.ndarray
    sums: np.ndarray
    depth: int


def parallel_route(products, kernels, n_kernels: int) -> ParallelRouting:
    """Route all products at once: arbitrate slots, place them, sum each kernel's tree.

    Args:
        products: ``(m,)`` products.
        kernels: ``(m,)`` each product's kernel index in ``[0, n_kernels)``.
        n_kernels: number of kernels (adder trees).
    """
    products, kernels = _check(products, kernels, n_kernels)
    slots = arbitrate(kernels, n_kernels)
    width = max(1, int(slots.max(initial=-1)) + 1)
    lanes = np.zeros((n_kernels, width), products.dtype)
    lanes[kernels, slots] = products
    sums, depth = _tree_sum(lanes)
    return ParallelRouting(slots=slots, lanes=lanes, sums=sums, depth=depth)
