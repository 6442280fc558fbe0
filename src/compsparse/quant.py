"""int8 quantisation and the integer pipeline of the speech network: the golden model.

One scheme, defined here once. The HLS C++ kernels and the CPU engine must reproduce every
intermediate of :meth:`QuantModel.forward_layers` bit for bit.

**Input** (the only floating-point step), float32 arithmetic, IEEE round-to-nearest-even::

    x_q = clip(rint((x - input_offset) / input_scale), -128, 127)          int8

``x - input_offset`` and the division are single float32 operations, so C++ ``float`` code
(``nearbyintf``) gives the same integers.

**Each layer** ``l`` (conv2d, or linear), all integer::

    acc[c, ...]  = bias[c] + sum_i w[c, i] * a[i]           int32  (cs.conv2d / cs.linear)
    pool         = max over pool x pool windows of acc       int32  (if pool > 1; floor of size)
    y            = clip((pool * M[c] + 2**(s[c]-1)) >> s[c], 0, 127)   int8  (requantise + ReLU)
    a_next       = k-WTA(y)                                  int8, exactly k winners (if k)

* ``w``: int8 in [-127, 127], packed (:class:`~compsparse.packing.PackedKernels`); ``a``: int8,
  [-128, 127] for the first layer's input, [0, 127] afterwards; ``bias``: int32.
* ``pool * M`` is computed in int64; ``>>`` is an arithmetic shift (floor division by ``2**s``),
  so adding ``2**(s-1)`` first rounds half up (towards +inf). ``M`` is in [0, 2**31) (in practice
  [2**14, 2**15]), ``s`` in [1, 62]; ``|acc| < 2**31`` so nothing overflows int64.
* Saturation: results below 0 become 0 (this is the ReLU), above 127 become 127.
* Requantisation is monotone non-decreasing in ``acc``, so max-pooling the int32 accumulators
  and then requantising equals requantising and then pooling the int8 values, bit for bit;
  hardware may do either (fewer requantisations when pooling first).
* k-WTA: conv layers pick ``k`` of the channels at every pixel (local), linear layers ``k`` of all
  units (global); ties go to the lower index (:func:`compsparse.kwta`). Winners keep their value,
  even 0. Then the next layer sees a :class:`~compsparse.kwta.SparseActivation` (sparse-sparse).
* Flatten (conv to linear) is C-order over ``(c, h, w)``, as in PyTorch.
* The output layer has no requantisation: its int32 accumulators are the logits; the prediction
  is the first index of the maximum.

Accumulator width: ``|acc| <= |bias| + sum_i |w[c, i]| * max|a|``; :attr:`QuantLayer.acc_bits`
gives the signed bits this needs for the stored weights (always <= 32; the exporter checks).

Book: chapter "int8" (book/09_int8.ipynb).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .kwta import SparseActivation, kwta, topk_order
from .ops import conv2d, conv2d_output_shape, linear
from .packing import PackedKernels

__all__ = [
    "ACT_MAX",
    "ACT_MIN",
    "INPUT_MAX",
    "INPUT_MIN",
    "WEIGHT_MAX",
    "LayerOutput",
    "QuantLayer",
    "QuantModel",
    "maxpool",
    "quantize_input",
    "quantize_multiplier",
    "requantize",
]

INPUT_MIN, INPUT_MAX = -128, 127  # the network's input, int8
ACT_MIN, ACT_MAX = 0, 127  # hidden activations after requantisation (ReLU folded into the clip)
WEIGHT_MAX = 127  # weights are symmetric int8 in [-127, 127]
SHIFT_MIN, SHIFT_MAX = 1, 62
MULTIPLIER_BITS = 15  # quantize_multiplier aims for M in [2**14, 2**15]


def quantize_input(x, scale: float, offset: float) -> np.ndarray:
    """Features to int8: ``clip(rint((x - offset) / scale), -128, 127)`` in float32.

    Args:
        x: float array of any shape (e.g. ``(32, 32)`` or ``(n, 32, 32)`` log-mel features).
        scale, offset: the model's ``input_scale`` and ``input_offset`` (rounded to float32).

    Returns:
        int8 array of ``x``'s shape.
    """
    x = np.asarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError("features contain NaN or inf; the input quantiser needs finite values")
    t = (x - np.float32(offset)) / np.float32(scale)
    return np.clip(np.rint(t), INPUT_MIN, INPUT_MAX).astype(np.int8)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """A positive real factor as an integer multiplier and right shift: ``real ~ M / 2**shift``.

    ``shift`` is chosen so that ``M = round(real * 2**shift)`` lies in [2**14, 2**15] (relative
    error <= 2**-15), clamped to [1, 62]. Export time only: the integers are stored.
    """
    if not (real > 0 and math.isfinite(real)):
        raise ValueError(f"requantisation factor must be positive and finite, got {real}")
    exponent = math.floor(math.log2(real))
    shift = min(max(MULTIPLIER_BITS - 1 - exponent, SHIFT_MIN), SHIFT_MAX)
    multiplier = round(real * 2.0**shift)
    if multiplier >= 2**31:
        raise ValueError(f"requantisation factor {real} is too large for a 31-bit multiplier")
    return int(multiplier), int(shift)


def requantize(acc, multiplier, shift, axis: int = 0) -> np.ndarray:
    """int32 accumulators to int8 activations: ``clip((acc*M + 2**(s-1)) >> s, 0, 127)``.

    Args:
        acc: integer array, e.g. ``(c, h, w)``, ``(n,)`` or batched ``(N, c, h, w)``.
        multiplier, shift: ``(c,)`` integer arrays, one per channel along ``axis``.
        axis: the channel axis of ``acc``.

    Returns:
        int8 array of ``acc``'s shape, values in [ACT_MIN, ACT_MAX].
    """
    acc = np.asarray(acc, dtype=np.int64)
    view = [1] * acc.ndim
    view[axis] = -1
    m = np.asarray(multiplier, dtype=np.int64).reshape(view)
    s = np.asarray(shift, dtype=np.int64).reshape(view)
    y = (acc * m + (np.int64(1) << (s - 1))) >> s
    return np.clip(y, ACT_MIN, ACT_MAX).astype(np.int8)


def maxpool(x, size: int) -> np.ndarray:
    """Max over non-overlapping ``size x size`` windows of the last two axes (stride ``size``).

    A trailing row or column that does not fill a window is dropped (PyTorch's floor mode).
    ``(..., h, w) -> (..., h // size, w // size)``, same dtype. ``size == 1`` returns ``x``.
    """
    x = np.asarray(x)
    if size == 1:
        return x
    h, w = x.shape[-2] // size, x.shape[-1] // size
    x = x[..., : h * size, : w * size]
    return x.reshape((*x.shape[:-2], h, size, w, size)).max(axis=(-3, -1))


@dataclass(frozen=True, eq=False)
class LayerOutput:
    """Every integer intermediate of one layer for one input (:meth:`QuantModel.forward_layers`).

    Attributes:
        name: the layer's name.
        input: what the layer multiplied: int8 dense array or a SparseActivation (sparse-sparse).
        acc: int32 accumulators with bias, ``(c, oh, ow)`` or ``(n_out,)``; the logits for the
            output layer.
        pooled: int32 after max-pooling (``acc`` itself when the layer does not pool).
        out: int8 after requantisation and ReLU; ``None`` for the output layer.
        active: the k-WTA winners of ``out`` (a SparseActivation), or ``None`` without k-WTA.
    """

    name: str
    input: np.ndarray | SparseActivation
    acc: np.ndarray
    pooled: np.ndarray
    out: np.ndarray | None
    active: SparseActivation | None


@dataclass(frozen=True, eq=False)
class QuantLayer:
    """One integer layer. ``c`` = output channels / units.

    Attributes:
        name: e.g. ``"conv1"``.
        kind: ``"conv2d"`` (stride 1, no padding) or ``"linear"``.
        weights: PackedKernels with int8 ``values`` in [-127, 127], packed from
            ``(c, c_in, kh, kw)`` or ``(c, n_in)``.
        bias: ``(c,)`` int32, in units of ``in_scale * weight_scale[c]``.
        multiplier, shift: ``(c,)`` int32 requantisation; ``None`` for the output layer.
        in_shape: shape of the layer's input, ``(c_in, h, w)`` or ``(n_in,)``.
        pool: max-pool window and stride (1: none).
        k: k-WTA winners after requantisation (per pixel for conv, of all units for linear), or
            ``None``.
        in_min: smallest input value: ``INPUT_MIN`` (-128) for the first layer, ``ACT_MIN`` (0)
            for the others (their inputs are ReLU outputs in [0, 127]).
        in_scale, weight_scale, out_scale: real value of one integer step of the input, of each
            kernel's weights (``(c,)`` float64) and of the output (``None`` for the output layer).
            Informative only: the integer pipeline never uses them.
    """

    name: str
    kind: str
    weights: PackedKernels
    bias: np.ndarray
    multiplier: np.ndarray | None
    shift: np.ndarray | None
    in_shape: tuple[int, ...]
    pool: int = 1
    k: int | None = None
    in_min: int = ACT_MIN
    in_scale: float = 1.0
    weight_scale: np.ndarray | None = None
    out_scale: float | None = None
    _dense: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.kind not in ("conv2d", "linear"):
            raise ValueError(f"kind must be 'conv2d' or 'linear', got {self.kind!r}")
        if self.weights.values.dtype != np.int8:
            raise ValueError(f"{self.name}: weights must be int8, got {self.weights.values.dtype}")
        n = self.weights.n_kernels
        if self.bias.dtype != np.int32 or self.bias.shape != (n,):
            raise ValueError(f"{self.name}: bias must be int32 of shape ({n},)")
        if (self.multiplier is None) != (self.shift is None):
            raise ValueError(f"{self.name}: give both multiplier and shift, or neither")
        if self.shift is not None and (self.shift.min() < SHIFT_MIN or self.shift.max() > 62):
            raise ValueError(f"{self.name}: shifts must lie in [{SHIFT_MIN}, {SHIFT_MAX}]")
        if self.k is not None and self.multiplier is None:
            raise ValueError(f"{self.name}: k-WTA needs requantised outputs (not the logits)")

    @property
    def is_output(self) -> bool:
        """True for the last layer (int32 logits, no requantisation)."""
        return self.multiplier is None

    @property
    def acc_shape(self) -> tuple[int, ...]:
        """Shape of the accumulators, ``(c, oh, ow)`` or ``(c,)``."""
        if self.kind == "linear":
            return (self.weights.n_kernels,)
        oh, ow = conv2d_output_shape(self.in_shape, self.weights.kernel_shape)
        return (self.weights.n_kernels, oh, ow)

    @property
    def out_shape(self) -> tuple[int, ...]:
        """Shape after pooling: what the next layer receives (before flattening)."""
        shape = self.acc_shape
        if self.pool == 1:
            return shape
        return (shape[0], shape[1] // self.pool, shape[2] // self.pool)

    def dense_weights(self) -> np.ndarray:
        """The unpacked int8 weights ``(c, *kernel_shape)`` (cached)."""
        if "w" not in self._dense:
            self._dense["w"] = self.weights.unpack()
        return self._dense["w"]

    @property
    def acc_bound(self) -> int:
        """Largest possible ``|acc|`` for any input in ``[in_min, 127]``."""
        w = np.abs(self.dense_weights().reshape(self.weights.n_kernels, -1).astype(np.int64))
        a_max = max(-self.in_min, ACT_MAX)
        return int((np.abs(self.bias.astype(np.int64)) + w.sum(axis=1) * a_max).max())

    @property
    def acc_bits(self) -> int:
        """Signed bits the accumulator needs: ``acc_bound < 2**(acc_bits - 1)``."""
        return int(self.acc_bound).bit_length() + 1

    def forward(self, x) -> LayerOutput:
        """Run the layer on one input (dense int8 array or SparseActivation) with cs ops."""
        op = conv2d if self.kind == "conv2d" else linear
        acc64 = op(x, self.weights) + _channel_view(self.bias.astype(np.int64), len(self.acc_shape))
        if np.abs(acc64).max() >= 2**31:
            raise OverflowError(f"{self.name}: accumulator exceeds int32; re-export the model")
        acc = acc64.astype(np.int32)
        pooled = maxpool(acc, self.pool)
        if self.is_output:
            return LayerOutput(self.name, x, acc, pooled, None, None)
        out = requantize(pooled, self.multiplier, self.shift)
        active = None
        if self.k is not None:
            active = kwta(out, self.k, axis=0 if self.kind == "conv2d" else None)
        return LayerOutput(self.name, x, acc, pooled, out, active)


def _channel_view(v: np.ndarray, ndim: int, axis: int = 0) -> np.ndarray:
    shape = [1] * ndim
    shape[axis] = -1
    return v.reshape(shape)


@dataclass(eq=False)
class QuantModel:
    """The packed int8 network: quantise the input, then run the layers.

    Attributes:
        layers: the :class:`QuantLayer` list, input to output.
        input_scale, input_offset: the input quantiser (see :func:`quantize_input`).
        labels: class names, index = class id.
        meta: free-form metadata (variant, training results, ...), JSON-compatible.
    """

    layers: list[QuantLayer]
    input_scale: float
    input_offset: float
    labels: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """``(1, h, w)``: one input channel."""
        return self.layers[0].in_shape

    def quantize(self, features) -> np.ndarray:
        """``(..., h, w)`` float features to int8 (see :func:`quantize_input`)."""
        return quantize_input(features, self.input_scale, self.input_offset)

    def forward_layers(self, features, quantized: bool = False) -> list[LayerOutput]:
        """The golden model: every intermediate of every layer for ONE input.

        Args:
            features: ``(h, w)`` float features, or the int8 input if ``quantized``.

        Returns:
            one :class:`LayerOutput` per layer; the last one's ``acc`` are the int32 logits.
        """
        x = np.asarray(features)
        x = (x if quantized else self.quantize(x)).astype(np.int8).reshape(self.input_shape)
        outputs = []
        for layer in self.layers:
            x = _reshape(x, layer.in_shape)
            result = layer.forward(x)
            outputs.append(result)
            x = result.active if result.active is not None else result.out
        return outputs

    def logits(self, features, quantized: bool = False, batch_size: int = 128, stats=None):
        """int32 logits ``(n, n_classes)`` of a batch ``(n, h, w)``, exactly as forward_layers.

        Fast path: each layer is an im2col matrix product in float32 or float64, chosen so that
        every partial sum is an integer below 2**24 or 2**53: floating-point addition of such
        integers is exact in any order, so the result equals the int64 sums of cs.conv2d /
        cs.linear bit for bit (tests check it). ``stats``, if a dict, receives per-layer
        ``zeros`` and ``total`` counts of each layer's int8 input.
        """
        x = np.asarray(features)
        xq = (x if quantized else self.quantize(x)).astype(np.int8)
        xq = xq.reshape((-1, *self.input_shape))
        starts = range(0, len(xq), batch_size)
        parts = [self._logits_batch(xq[i : i + batch_size], stats) for i in starts]
        if not parts:
            return np.zeros((0, self.layers[-1].acc_shape[0]), dtype=np.int32)
        return np.concatenate(parts)

    def predict(self, features, quantized: bool = False, batch_size: int = 128) -> np.ndarray:
        """Class ids ``(n,)`` int64 of a batch ``(n, h, w)`` (first maximum of the logits)."""
        return np.argmax(self.logits(features, quantized, batch_size), axis=1)

    def _logits_batch(self, x: np.ndarray, stats) -> np.ndarray:
        for layer in self.layers:
            x = x.reshape((len(x), *layer.in_shape))
            if stats is not None:
                s = stats.setdefault(layer.name, {"zeros": 0, "total": 0})
                s["zeros"] += int(np.count_nonzero(x == 0))
                s["total"] += int(x.size)
            acc = _batched_acc(layer, x)
            pooled = maxpool(acc, layer.pool)
            if layer.is_output:
                return pooled
            x = requantize(pooled, layer.multiplier, layer.shift, axis=1)
            if layer.k is not None:
                x = batched_kwta(x, layer.k)
        raise AssertionError("unreachable")


def _reshape(x, shape):
    if isinstance(x, SparseActivation):
        return x if x.shape == shape else SparseActivation(x.indices, x.values, shape)
    return x.reshape(shape)


def _batched_acc(layer: QuantLayer, x: np.ndarray) -> np.ndarray:
    """int32 accumulators ``(N, *acc_shape)`` by an exact floating-point matrix product."""
    w = layer.dense_weights().reshape(layer.weights.n_kernels, -1)
    a_max = int(np.abs(x).max(initial=0))
    bound = int(np.abs(w.astype(np.int64)).sum(axis=1).max()) * a_max
    dtype = np.float32 if bound < 2**24 else np.float64
    key = f"w_{np.dtype(dtype).name}"
    if key not in layer._dense:
        layer._dense[key] = np.ascontiguousarray(w.T.astype(dtype))
    wt = layer._dense[key]
    acc = batched_matmul(layer.kind, x.astype(dtype), wt, layer.weights.kernel_shape)
    acc = acc.astype(np.int64) + _channel_view(layer.bias.astype(np.int64), acc.ndim, axis=1)
    return acc.astype(np.int32)


def batched_matmul(kind: str, x: np.ndarray, wt: np.ndarray, kernel_shape) -> np.ndarray:
    """A batch through one layer's weights, without bias: im2col and one matrix product.

    Args:
        kind: ``"conv2d"`` (stride 1, no padding) or ``"linear"``.
        x: ``(N, c_in, h, w)`` or ``(N, n_in)`` (any trailing shape that flattens to ``n_in``).
        wt: ``(c_in*kh*kw, c)`` or ``(n_in, c)``: the dense weights, transposed.
        kernel_shape: ``(c_in, kh, kw)`` or ``(n_in,)``.

    Returns:
        ``(N, c, oh, ow)`` or ``(N, c)`` in the dtype of the product.
    """
    n = len(x)
    if kind == "linear":
        return x.reshape(n, -1) @ wt
    _, kh, kw = kernel_shape
    oh, ow = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, -1)
    return (cols @ wt).reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)


def batched_kwta(y: np.ndarray, k: int) -> np.ndarray:
    """k-WTA along axis 1 of ``(N, c, ...)`` (local per pixel for conv, global for linear).

    The same rule as :func:`compsparse.kwta` (ties to the lower index), for a batch; returns a
    dense array of ``y``'s shape and dtype with the losers set to 0.
    """
    order = topk_order(y, axis=1)
    keep = np.zeros(y.shape, dtype=bool)
    np.put_along_axis(keep, np.take(order, np.arange(k), axis=1), True, axis=1)
    return np.where(keep, y, np.int8(0))
