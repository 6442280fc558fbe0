"""``FastNet``: the speech network on the CPU engine, built once from an exported model.

``FastNet.from_quant(QuantModel)`` runs the int8 integer pipeline of :mod:`compsparse.quant`
(bit-exact); ``FastNet.from_float(FloatModel)`` the float32 network. Building converts every
layer's :class:`~compsparse.packing.PackedKernels` into its CPU layout (:mod:`.layout`) once;
:meth:`FastNet.logits` then costs one compiled call per word, or one parallel call per batch.

Which sparse-sparse kernel a layer uses is its *strategy*: ``"routed"`` (packed rows: the packed
MAC count, but one scalar scatter per product) or ``"rows"`` (unpacked rows of the winners: the
dense MAC count of those rows, vectorised). ``"auto"`` picks ``"routed"`` when a group packs at
least :data:`SIMD_LANES` kernels (the unpacked row would waste more lanes than a vector has) and
``"rows"`` otherwise: ``rows`` for conv2 (8 per group), ``routed`` for linear1 (25 per group).

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, partial

import numba
import numpy as np

from ..export import FloatModel
from ..kwta import SparseActivation
from ..quant import WEIGHT_MAX, QuantModel
from . import forward as fw
from .layout import (
    conv_dense_rows,
    conv_routed_rows,
    conv_taps,
    float32_rows_if_exact,
    linear_dense_rows,
    linear_routed_rows,
    packed_bytes,
)
from .parallel import split_threads_ok

__all__ = ["SIMD_LANES", "FastNet"]

SIMD_LANES = 16  # float32 / int32 lanes of one AVX-512 register


def _pick(strategy: str, n_per_group: int) -> str:
    if strategy == "auto":
        return "routed" if n_per_group >= SIMD_LANES else "rows"
    if strategy not in ("rows", "routed"):
        raise ValueError(f"strategy must be 'auto', 'rows' or 'routed', got {strategy!r}")
    return strategy


def _empty2(dtype) -> np.ndarray:
    return np.zeros((0, 0), dtype)


@dataclass(eq=False)
class FastNet:
    """The compiled speech network. Build with :meth:`from_quant` or :meth:`from_float`.

    Attributes:
        mode: ``"int8"`` or ``"float32"``.
        strategies: the sparse-sparse kernel of conv2 and linear1 (``"rows"``, ``"routed"``;
            ``None`` where the layer runs sparse-dense).
        names: the four layer names.
        layout_bytes: bytes of the CPU layout of each layer's weights.
        weight_bytes: per layer ``{"dense", "packed_values", "packed_ids", "packed"}``.
    """

    mode: str
    strategies: tuple
    names: list
    dims: np.ndarray
    arrays: dict
    scale: float
    offset: float
    layout_bytes: dict = field(default_factory=dict)
    weight_bytes: dict = field(default_factory=dict)
    labels: list = field(default_factory=list)

    @classmethod
    def from_quant(cls, model: QuantModel, strategy: str = "auto") -> FastNet:
        """The int8 pipeline of ``model`` (weights int8, accumulators int32), bit-exact."""
        layers = model.layers
        specs = [
            (
                ly.name,
                ly.kind,
                ly.weights,
                ly.bias,
                ly.multiplier,
                ly.shift,
                ly.in_shape,
                ly.pool,
                ly.k,
            )
            for ly in layers
        ]
        return cls._build(
            specs, "int8", model.input_scale, model.input_offset, strategy, list(model.labels)
        )

    @classmethod
    def from_float(cls, model: FloatModel, strategy: str = "auto") -> FastNet:
        """The float32 network of ``model`` (ReLU instead of requantisation)."""
        specs = [
            (ly.name, ly.kind, ly.packed(), ly.bias, None, None, ly.in_shape, ly.pool, ly.k)
            for ly in model.layers
        ]
        if any(not ly.relu for ly in model.layers[:-1]) or model.layers[-1].relu:
            raise ValueError("FastNet expects ReLU on every layer but the output layer")
        return cls._build(
            specs, "float32", model.input_std, model.input_offset, strategy, list(model.labels)
        )

    @classmethod
    def _build(cls, specs, mode, scale, offset, strategy, labels) -> FastNet:
        kinds = [s[1] for s in specs]
        if kinds != ["conv2d", "conv2d", "linear", "linear"]:
            raise ValueError(
                f"FastNet runs the speech network (conv2d, conv2d, linear, linear), got {kinds}; "
                "use compsparse.fast.conv2d / linear layer by layer for other shapes"
            )
        _pick(strategy, 1)  # reject a bad name even where no layer runs sparse-sparse
        # int8 values are held in int16 lanes (see compsparse.fast.kernels: pair sums in int16)
        wdt, adt = (np.int16, np.int32) if mode == "int8" else (np.float32, np.float32)
        (n1, _, P1, b1, m1, s1, in1, pool1, k1), (n2, _, P2, b2, m2, s2, in2, pool2, k2) = specs[:2]
        (n3, _, P3, b3, m3, s3, _, _, k3), (n4, _, P4, b4, _, _, _, _, _) = specs[2:]
        Ps = [P1, P2, P3, P4]
        if in1[0] != 1:
            raise ValueError(f"conv1 must have one input channel, got in_shape {in1}")
        for name, k, P in ((n1, k1, P1), (n2, k2, P2), (n3, k3, P3)):
            if k and not 1 <= k <= P.n_kernels:  # the k-WTA lists have no sentinel entries
                raise ValueError(f"{name}: k = {k} must lie in [1, {P.n_kernels}] (its outputs)")
        if mode == "int8" and any(P.values.dtype != np.int8 for P in Ps):
            raise ValueError("an int8 FastNet needs int8 packed weights (a QuantModel)")
        if mode == "int8" and any(P.values.min(initial=0) < -WEIGHT_MAX for P in Ps):
            raise ValueError(
                f"int8 weights must lie in [-{WEIGHT_MAX}, {WEIGHT_MAX}] (the symmetric scheme of "
                "compsparse.quant); re-export the model with compsparse.export"
            )
        layer_names = [n1, n2, n3, n4]
        # the model's own bytes (int8 or float32), not those of the lanes they are held in
        weight_bytes = {n: packed_bytes(P) for n, P in zip(layer_names, Ps, strict=True)}
        Ps = [P if P.values.dtype == wdt else _astype(P, wdt) for P in Ps]
        P1, P2, P3, P4 = Ps
        h, w = in1[1], in1[2]

        def req(m, s, n):
            if m is None:
                return np.zeros(n, np.int32), np.ones(n, np.int32)
            return np.asarray(m, np.int32), np.asarray(s, np.int32)

        m1, s1 = req(m1, s1, P1.n_kernels)
        m2, s2 = req(m2, s2, P2.n_kernels)
        m3, s3 = req(m3, s3, P3.n_kernels)
        t1 = conv_taps(P1, (h, w))
        layout = {n1: t1.nbytes}
        empty_i = np.zeros(0, np.int64)
        strat2 = strat3 = None
        if k1:
            strat2 = _pick(strategy, P2.n_per_group)
            L2 = conv_dense_rows(P2) if strat2 == "rows" else conv_routed_rows(P2)
            route2 = L2.route if strat2 == "routed" else _empty2(np.int16)
            conv2 = (empty_i, empty_i, np.zeros(0, wdt), L2.values, route2)
            layout[n2] = L2.nbytes
        else:
            t2 = conv_taps(P2, in2[1:])
            conv2 = (t2.start, t2.offset, t2.weight, _empty2(wdt), _empty2(np.int16))
            layout[n2] = t2.nbytes
        if k2:
            strat3 = _pick(strategy, P3.n_per_group)
        if strat3 == "rows":
            L3 = linear_dense_rows(P3)
            lin3 = (L3.values, _empty2(np.int16))
        else:
            L3 = float32_rows_if_exact(linear_routed_rows(P3), P3)  # exact, faster scattered
            lin3 = (L3.values, L3.route)
        layout[n3] = L3.nbytes
        L4 = linear_routed_rows(P4)
        layout[n4] = L4.nbytes
        oh1, ow1 = h - P1.kernel_shape[1] + 1, w - P1.kernel_shape[2] + 1
        if in2[1:] != (oh1 // pool1, ow1 // pool1):
            raise ValueError(f"conv2 expects {in2}, but conv1 and its pooling give another shape")
        dims = np.array(
            [
                h,
                w,
                P1.n_kernels,
                *P1.kernel_shape[1:],
                pool1,
                k1 or 0,
                P2.n_kernels,
                P2.n_groups * P2.n_per_group,
                *P2.kernel_shape[1:],
                pool2,
                k2 or 0,
                P3.n_kernels,
                P3.n_groups * P3.n_per_group,
                k3 or 0,
                P4.n_groups * P4.n_per_group,
            ],
            np.int64,
        )
        codes = {"rows": fw.ROWS, "routed": fw.ROUTED, None: 0}
        # grouped per layer by FastNet.args, as compsparse.fast.forward.forward takes them
        names = (
            "quantized dims t1_start t1_off t1_w b1 m1 s1 "
            "strat2 t2_start t2_off t2_w rows2 route2 b2 m2 s2 "
            "strat3 rows3 route3 b3 m3 s3 rows4 route4 b4"
        ).split()
        values = (
            mode == "int8",
            dims,
            t1.start,
            t1.offset,
            t1.weight,
            np.asarray(b1, adt),
            m1,
            s1,
            codes[strat2],
            *conv2,
            np.asarray(b2, adt),
            m2,
            s2,
            codes[strat3],
            *lin3,
            np.asarray(b3, adt),
            m3,
            s3,
            L4.values,
            L4.route,
            np.asarray(b4, adt),
        )
        arrays = dict(zip(names, values, strict=True))
        return cls(
            mode=mode,
            strategies=(strat2, strat3),
            names=layer_names,
            dims=dims,
            arrays=arrays,
            scale=float(scale),
            offset=float(offset),
            layout_bytes=layout,
            weight_bytes=weight_bytes,
            labels=labels,
        )

    @cached_property
    def args(self) -> tuple:
        """``(quantized, dims, L1, L2, L3, L4)``: the layer arrays grouped as the compiled
        forward takes them (see :func:`compsparse.fast.forward.forward`). Built once: it is
        on the path :meth:`run` times."""
        a = self.arrays
        return (
            a["quantized"],
            a["dims"],
            tuple(a[n] for n in ("t1_start", "t1_off", "t1_w", "b1", "m1", "s1")),
            tuple(a[n] for n in "strat2 t2_start t2_off t2_w rows2 route2 b2 m2 s2".split()),
            tuple(a[n] for n in ("strat3", "rows3", "route3", "b3", "m3", "s3")),
            (a["rows4"], a["route4"], a["b4"]),
        )

    @property
    def acc_dtype(self):
        return np.dtype(np.int32 if self.mode == "int8" else np.float32)

    @property
    def act_dtype(self):
        """int16 for the int8 pipeline: its int8 values held in int16 lanes."""
        return np.dtype(np.int16 if self.mode == "int8" else np.float32)

    def buffers(self, parts: int = 1) -> tuple:
        """Fresh scratch for :meth:`run` (reuse it across calls to skip allocation)."""
        return fw.buffers(self.dims, self.acc_dtype, self.act_dtype, parts, self.linear1_dtype)

    @property
    def linear1_dtype(self):
        """linear1's accumulators: float32 where an int8 layer sums exactly in float32
        (:func:`~compsparse.fast.layout.float32_exact`), else the accumulator dtype."""
        rows3 = self.arrays["rows3"]
        return np.dtype(np.float32) if rows3.dtype == np.float32 else self.acc_dtype

    def run(self, features, bufs, out, parts: int = 1) -> np.ndarray:
        """The compiled call: ``(N, h, w)`` float32 C-contiguous features into ``out``
        ``(N, n_out)`` (acc dtype), with scratch ``bufs`` from :meth:`buffers` (same
        ``parts``). ``parts > 1`` splits each word's conv stages across that many threads
        (:func:`~compsparse.fast.forward.forward_split`). No checks, no allocation: this is
        what the benchmark times."""
        function, args = self._call(features, bufs, out, parts)
        return function(*args)

    def bind(self, features, bufs, out, parts: int = 1) -> Callable[[], np.ndarray]:
        """:meth:`run` with its arguments fixed: a function of no arguments that calls the
        compiled code directly (compiling it first if needed), skipping numba's per-call
        matching of argument types against its compiled versions (a few microseconds, most
        of what a call costs beside the work itself, with some fifty arrays to match). For
        a serving loop that reuses its buffers; what the benchmark times."""
        function, args = self._call(features, bufs, out, parts)
        function(*args)  # compiles, or loads from numba's cache, on first use
        # numba keys its compiled versions by argument types; were that to change, the
        # dispatcher still gives the same result, only a few microseconds later
        compiled = function.overloads.get(tuple(numba.typeof(a) for a in args))
        return partial(compiled.entry_point if compiled else function, *args)

    def _call(self, features, bufs, out, parts):
        front = (features, self.scale, self.offset, *self.args, bufs)
        if parts > 1:
            return fw.forward_split, (*front, parts, out)
        return fw.forward, (*front, out)

    def logits(self, features, threads: int = 1) -> np.ndarray:
        """Logits ``(N, n_out)`` of ``(N, h, w)`` float32 features.

        int32 for the int8 pipeline (equal to :meth:`QuantModel.logits`), else float32.
        ``threads > 1`` splits a batch into that many chunks run side by side (the compiled
        code releases the GIL), and a single word's layers across them (:mod:`.parallel`;
        where numba's threading layer launches cheaply,
        :func:`~compsparse.fast.parallel.split_threads_ok`).
        """
        x = np.ascontiguousarray(features, dtype=np.float32)
        x = x.reshape(-1, int(self.dims[0]), int(self.dims[1]))
        if not np.isfinite(x).all():
            raise ValueError("features contain NaN or inf; the network needs finite values")
        out = np.empty((len(x), len(self.arrays["b4"])), self.acc_dtype)
        if len(x) == 1 and threads > 1 and split_threads_ok():
            return self.run(x, self.buffers(threads), out, threads)
        chunks = [c for c in np.array_split(np.arange(len(x)), max(1, threads)) if c.size]
        if len(chunks) <= 1:
            self._many(x, out)
            return out
        pool = _pool(len(chunks))
        parts = [
            pool.submit(self._many, x[c[0] : c[-1] + 1], out[c[0] : c[-1] + 1]) for c in chunks
        ]
        for part in parts:
            part.result()
        return out

    def _many(self, x, out):
        return self.run(x, self.buffers(), out)

    def predict(self, features, threads: int = 1) -> np.ndarray:
        """Class ids ``(N,)`` (first maximum of the logits)."""
        return np.argmax(self.logits(features, threads), axis=1)

    def forward_layers(self, features, parts: int = 1) -> list[dict]:
        """Every intermediate of one word, per layer: ``pooled``, ``out``, ``active``.

        Shapes and meanings as :class:`compsparse.quant.LayerOutput` (``pooled`` includes the
        bias; ``active`` is a SparseActivation or ``None``); the last layer has only ``pooled``
        (the logits). ``parts``: threads sharing the word (:meth:`buffers`).
        """
        bufs = self.buffers(parts)
        x = np.ascontiguousarray(features, dtype=np.float32).reshape(1, *self.dims[:2])
        out = np.empty((1, len(self.arrays["b4"])), self.acc_dtype)
        logits = self.run(x, bufs, out, parts)[0]
        pooled1, out1, ch1, val1 = (bufs[i] for i in (fw.POOLED1, fw.OUT1, fw.CH1, fw.VAL1))
        pooled2, out2, ch2, val2 = (bufs[i] for i in (fw.POOLED2, fw.OUT2, fw.CH2, fw.VAL2))
        y3, out3, idx3, val3 = (bufs[i] for i in (fw.Y3, fw.OUT3, fw.IDX3, fw.VAL3))
        k1, k2, k3 = (int(self.dims[i]) for i in (6, 12, 15))
        b3 = self.arrays["b3"]
        n3 = len(b3)
        return [
            dict(pooled=pooled1, out=out1, active=_local(ch1, val1, out1.shape, k1)),
            dict(pooled=pooled2, out=out2, active=_local(ch2, val2, out2.shape, k2)),
            dict(
                pooled=(y3[:n3] + b3).astype(self.acc_dtype),
                out=out3,
                active=SparseActivation(idx3[:k3], val3[:k3], (n3,)) if k3 else None,
            ),
            dict(pooled=logits.copy(), out=None, active=None),
        ]


_POOLS: dict = {}


def _pool(n: int) -> ThreadPoolExecutor:
    """A persistent pool of ``n`` threads (starting threads per call would cost more)."""
    if n not in _POOLS:
        _POOLS[n] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="compsparse-fast")
    return _POOLS[n]


def _local(ch, val, shape, k) -> SparseActivation | None:
    """Per-pixel winner lists (pixel-major) as a SparseActivation of ``shape`` ``(c, h, w)``."""
    if not k:
        return None
    n_pix = shape[1] * shape[2]
    flat = ch[: n_pix * k] * n_pix + np.repeat(np.arange(n_pix), k)
    order = np.argsort(flat, kind="stable")
    return SparseActivation(flat[order], val[: n_pix * k][order], shape)


def _astype(P, dtype):
    from ..packing import PackedKernels

    return PackedKernels(P.values.astype(dtype), P.kernel_ids, P.n_per_group, P.n_kernels)
