"""Combine: complementary masks, and packing sparse kernels into dense ones.

Kernels are grouped in runs of ``n_per_group`` consecutive kernels (consecutive output channels
of a conv layer, consecutive output units of a linear layer). Inside a group the kernels' non-zero
positions never collide, so the group overlays into one dense kernel; each position remembers
which kernel of the group owns it (its *kernel id*), which is all the Route step needs.

Book: chapter "Combine" (book/02_combine.ipynb).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "PackedKernels",
    "collisions",
    "complementary_masks",
    "complementary_masks_by_importance",
    "pack",
    "packing_efficiency",
]


def _as_shape(kernel_shape) -> tuple[int, ...]:
    shape = (kernel_shape,) if np.isscalar(kernel_shape) else tuple(kernel_shape)
    if not shape or any(int(n) != n or n < 1 for n in shape):
        raise ValueError(
            f"kernel_shape must be a positive int or a tuple of positive ints, got {kernel_shape!r}"
        )
    return tuple(int(n) for n in shape)


def _check_n_per_group(n_per_group) -> int:
    if isinstance(n_per_group, bool) or int(n_per_group) != n_per_group or n_per_group < 1:
        raise ValueError(
            f"n_per_group must be an int >= 1 (the number of kernels packed into one dense "
            f"kernel, e.g. 20 for 95% weight sparsity), got {n_per_group!r}"
        )
    return int(n_per_group)


def complementary_masks(n_kernels: int, kernel_shape, n_per_group: int, seed=None) -> np.ndarray:
    """Random non-overlapping masks, one per kernel, that tile each group's dense kernel.

    Args:
        n_kernels: number of kernels (output channels or output units), >= 1.
        kernel_shape: shape of one kernel, e.g. ``(c_in, kh, kw)`` or ``(n_in,)``; an int means
            ``(n,)``.
        n_per_group: kernels per group. Each kernel keeps about ``1 / n_per_group`` of the
            positions, so the weight sparsity is ``1 - 1 / n_per_group``.
        seed: anything ``numpy.random.default_rng`` accepts.

    Returns:
        bool array ``(n_kernels, *kernel_shape)``. Inside a group the masks are disjoint, a full
        group covers every position, and the kernels' shares differ by at most one position. A
        last, partial group (``n_kernels % n_per_group`` kernels) gets the shares of the first
        kernels of a full group and leaves the rest of the positions unused.
    """
    shape = _as_shape(kernel_shape)
    n_per_group = _check_n_per_group(n_per_group)
    if isinstance(n_kernels, bool) or int(n_kernels) != n_kernels or n_kernels < 1:
        raise ValueError(f"n_kernels must be an int >= 1, got {n_kernels!r}")
    n_kernels = int(n_kernels)
    size = int(np.prod(shape))
    if n_per_group > size:
        raise ValueError(
            f"n_per_group={n_per_group} is larger than the {size} positions of a kernel of shape "
            f"{shape}: some kernels would get no weight at all; use n_per_group <= {size}"
        )
    rng = np.random.default_rng(seed)
    masks = np.zeros((n_kernels, size), dtype=bool)
    for first in range(0, n_kernels, n_per_group):
        shares = np.array_split(rng.permutation(size), n_per_group)
        for j in range(min(n_per_group, n_kernels - first)):
            masks[first + j, shares[j]] = True
    return masks.reshape((n_kernels, *shape))


def complementary_masks_by_importance(importance, n_per_group: int) -> np.ndarray:
    """Complementary masks that keep the most important weights, e.g. of a trained dense layer.

    The same masks as :func:`complementary_masks` promises (disjoint inside a group, a full
    group covers every position, shares differ by at most one position, a partial last group
    leaves positions unused), but each position goes to a kernel for which it matters rather
    than to a random one. Greedy, per group: the (kernel, position) pairs are taken from the
    largest ``importance`` down, and a pair is kept while its position is free and its kernel
    still has room in its share. Ties go to the lower kernel, then the lower position.

    Args:
        importance: ``(n_kernels, *kernel_shape)`` non-negative floats, such as ``|w|``.
        n_per_group: kernels per group (weight sparsity ``1 - 1 / n_per_group``).

    Returns:
        bool array, the shape of ``importance``.
    """
    importance = np.asarray(importance, dtype=np.float64)
    n_per_group = _check_n_per_group(n_per_group)
    if importance.ndim < 2 or not np.all(np.isfinite(importance)) or np.any(importance < 0):
        raise ValueError(
            f"importance must be a finite, non-negative array (n_kernels, *kernel_shape), got "
            f"shape {importance.shape}; pass |weights|"
        )
    n_kernels, size = len(importance), importance[0].size
    if n_per_group > size:
        raise ValueError(f"n_per_group={n_per_group} is larger than the {size} kernel positions")
    flat = importance.reshape(n_kernels, size)
    room_of_share = [len(s) for s in np.array_split(np.arange(size), n_per_group)]
    masks = np.zeros((n_kernels, size), dtype=bool)
    for first in range(0, n_kernels, n_per_group):
        group = flat[first : first + n_per_group]
        room = room_of_share[: len(group)]
        free = np.ones(size, dtype=bool)
        left = sum(room)
        # stable sort of -importance: ties in kernel-major order, as the docstring says
        for pair in np.argsort(-group, axis=None, kind="stable"):
            kernel, position = divmod(int(pair), size)
            if free[position] and room[kernel]:
                masks[first + kernel, position] = True
                free[position] = False
                room[kernel] -= 1
                left -= 1
                if not left:
                    break
    return masks.reshape(importance.shape)


def _id_dtype(n_per_group: int) -> np.dtype:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_per_group - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    raise ValueError(f"n_per_group={n_per_group} is too large")


@dataclass(frozen=True, eq=False)
class PackedKernels:
    """Sparse kernels packed into dense ones (the output of :func:`pack`).

    Attributes:
        values: ``(n_groups, *kernel_shape)``, the weights' dtype: the dense packed kernels.
        kernel_ids: ``(n_groups, *kernel_shape)``, unsigned int: at each position, the index
            within its group of the kernel that owns the weight (0 where no kernel does; the
            weight there is 0, so routing it anywhere adds nothing).
        n_per_group: kernels per group.
        n_kernels: number of original kernels; the last group holds
            ``n_kernels - (n_groups - 1) * n_per_group`` of them.

    Book: chapter "Combine".
    """

    values: np.ndarray
    kernel_ids: np.ndarray
    n_per_group: int
    n_kernels: int

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        """Shape of one kernel, e.g. ``(c_in, kh, kw)`` or ``(n_in,)``."""
        return tuple(self.values.shape[1:])

    @property
    def n_groups(self) -> int:
        """Number of dense packed kernels, ``ceil(n_kernels / n_per_group)``."""
        return int(self.values.shape[0])

    def kernel_index(self) -> np.ndarray:
        """``(n_groups, *kernel_shape)`` int64: the global kernel index owning each position."""
        groups = np.arange(self.n_groups).reshape((-1,) + (1,) * len(self.kernel_shape))
        return groups * self.n_per_group + self.kernel_ids.astype(np.int64)

    def unpack(self) -> np.ndarray:
        """Return the original sparse kernels, ``(n_kernels, *kernel_shape)``, exactly."""
        out = np.zeros((self.n_groups * self.n_per_group, *self.kernel_shape), self.values.dtype)
        group = np.arange(self.n_groups).reshape((-1,) + (1,) * len(self.kernel_shape))
        rest = np.indices(self.values.shape)[1:]
        out[(group * self.n_per_group + self.kernel_ids, *rest)] = self.values
        return out[: self.n_kernels]


def pack(weights, n_per_group: int, masks=None) -> PackedKernels:
    """Combine: overlay each group of ``n_per_group`` sparse kernels into one dense kernel.

    Args:
        weights: ``(n_kernels, *kernel_shape)`` real or integer array; zero where a kernel has no
            weight. For a linear layer, ``(n_out, n_in)``; for a conv layer
            ``(c_out, c_in, kh, kw)``.
        n_per_group: kernels per group (consecutive kernels ``g*n_per_group ...``).
        masks: optional bool array of the same shape saying which positions each kernel owns
            (e.g. from :func:`complementary_masks`). With masks, kernel ids follow the masks even
            where a trained weight is exactly 0; without, they follow the non-zero weights.

    Returns:
        :class:`PackedKernels` with ``values`` of the weights' dtype.

    Raises:
        ValueError: on a collision (two kernels of a group non-zero at one position: the message
            names the group, the position and both kernels), wrong shapes, ``n_per_group < 1``,
            non-finite weights, or weights outside their mask.
    """
    w = np.asarray(weights)
    n_per_group = _check_n_per_group(n_per_group)
    if w.dtype == bool or not (
        np.issubdtype(w.dtype, np.integer) or np.issubdtype(w.dtype, np.floating)
    ):
        raise ValueError(
            f"weights must be a real or integer array, got dtype {w.dtype}; convert with "
            f".astype(np.float32) (or an int type for quantised weights)"
        )
    if w.ndim < 2 or 0 in w.shape:
        raise ValueError(
            f"weights must have shape (n_kernels, *kernel_shape) with at least 2 non-empty axes, "
            f"got {w.shape}; a single kernel is weights[None]"
        )
    if np.issubdtype(w.dtype, np.floating) and not np.all(np.isfinite(w)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(w))[0])
        raise ValueError(
            f"weights contain a non-finite value ({w[bad]}) at {bad}; fix the model first"
        )

    if masks is None:
        owned = w != 0
    else:
        owned = np.asarray(masks, dtype=bool)
        if owned.shape != w.shape:
            raise ValueError(f"masks have shape {owned.shape} but weights have shape {w.shape}")
        outside = (w != 0) & ~owned
        if outside.any():
            bad = tuple(int(i) for i in np.argwhere(outside)[0])
            raise ValueError(
                f"weights[{bad}] = {w[bad]} is non-zero outside kernel {bad[0]}'s mask; "
                f"apply the mask (weights * masks) before packing"
            )

    n_kernels, kernel_shape = w.shape[0], w.shape[1:]
    n_groups = -(-n_kernels // n_per_group)
    pad = n_groups * n_per_group - n_kernels
    grouped_w = np.concatenate([w, np.zeros((pad, *kernel_shape), w.dtype)])
    grouped_w = grouped_w.reshape((n_groups, n_per_group, *kernel_shape))
    grouped_owned = np.concatenate([owned, np.zeros((pad, *kernel_shape), bool)])
    grouped_owned = grouped_owned.reshape(grouped_w.shape)

    owners = grouped_owned.sum(axis=1)
    if (owners > 1).any():
        group, *position = (int(i) for i in np.argwhere(owners > 1)[0])
        a, b = np.flatnonzero(grouped_owned[(group, slice(None), *position)])[:2]
        raise ValueError(
            f"collision in group {group} at position {tuple(position)}: kernels "
            f"{group * n_per_group + a} and {group * n_per_group + b} both have a weight there, so "
            f"they cannot share one dense kernel; train with complementary masks "
            f"(cs.complementary_masks) or pack fewer kernels per group"
        )

    kernel_ids = grouped_owned.argmax(axis=1).astype(_id_dtype(n_per_group))
    values = np.take_along_axis(grouped_w, kernel_ids[:, None].astype(np.intp), axis=1)[:, 0]
    return PackedKernels(
        values=values, kernel_ids=kernel_ids, n_per_group=n_per_group, n_kernels=n_kernels
    )


def packing_efficiency(P: PackedKernels) -> float:
    """Fraction of the packed kernels' positions that hold a non-zero weight.

    1.0 when every group is full (``n_per_group`` complementary kernels with non-zero weights);
    lower when the last group is partial or trained weights are exactly 0.

    Book: chapter "Combine".
    """
    return float(np.count_nonzero(P.values)) / P.values.size


def collisions(masks, n_per_group: int) -> int:
    """Positions where two or more kernels of a group own a weight (0 for complementary masks).

    Args:
        masks: bool ``(n_kernels, *kernel_shape)``, e.g. random unstructured masks.
        n_per_group: kernels per group, as in :func:`pack`.

    Returns:
        int, summed over groups: the positions :func:`pack` would refuse.

    Book: chapter "Combine".
    """
    m = np.asarray(masks, dtype=bool)
    n_per_group = _check_n_per_group(n_per_group)
    if m.ndim < 2:
        raise ValueError(f"masks must have shape (n_kernels, *kernel_shape), got {m.shape}")
    n_groups = -(-m.shape[0] // n_per_group)
    pad = np.zeros((n_groups * n_per_group - m.shape[0], *m.shape[1:]), bool)
    owners = np.concatenate([m, pad]).reshape(n_groups, n_per_group, -1).sum(axis=1)
    return int(np.count_nonzero(owners > 1))
