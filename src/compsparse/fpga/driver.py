"""One driver for the three HLS designs on three backends: C simulation, Ultra96-V2, Alveo U250.

::

    from compsparse.fpga import open_design

    acc = open_design("data/models/sparse-sparse", backend="csim")        # runs anywhere
    acc = open_design(model, backend="zynq", bitstream="cs_sparse_sparse.bit")   # Ultra96-V2
    acc = open_design(model, backend="alveo", bitstream="cs_sparse_sparse.xclbin")  # U250
    logits = acc.infer(features)               # float32 (n, 32, 32) -> int32 (n, 12)
    check = acc.check(features)                # bit for bit against the numpy integer pipeline
    result = acc.throughput(n_words=4096, n_instances=acc.n_instances)   # words/s, power

The backend is the ``backend`` argument, else ``$COMPSPARSE_FPGA_BACKEND``, else ``"csim"``
(``"auto"`` picks a board when pynq finds one). The board backends import pynq only when they
are opened, so this package works without it; the bitstream path may also come from
``$COMPSPARSE_BITSTREAM``.

Every backend runs the same top (``hls/kernels/cs_<variant>.cpp``) on the same parameter blob
(:mod:`compsparse.hls_params`) and the same int8 inputs: the csim backend calls the g++ build
(:class:`compsparse.fpga.csim.CsimDesign`), the board backends the synthesised IP. Inputs are
quantised by the numpy rule of :meth:`compsparse.quant.QuantModel.quantize` on every backend.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

import hashlib
import os
import platform
from dataclasses import dataclass

import numpy as np

from ..hls_params import VARIANTS, hls_params
from ..quant import QuantModel
from .measure import PowerMeter, Throughput, measure, sample_power

__all__ = [
    "BACKENDS",
    "ENV_BACKEND",
    "ENV_BITSTREAM",
    "Accelerator",
    "Check",
    "CsimAccelerator",
    "choose_backend",
    "infer_variant",
    "open_design",
]

BACKENDS = ("csim", "zynq", "alveo")
ENV_BACKEND = "COMPSPARSE_FPGA_BACKEND"
ENV_BITSTREAM = "COMPSPARSE_BITSTREAM"


def choose_backend(backend: str | None = None) -> str:
    """The backend to use: the argument, else ``$COMPSPARSE_FPGA_BACKEND``, else ``"csim"``.

    ``"auto"`` asks :func:`compsparse.hardware.board_available`: ``"zynq"`` on an Arm board,
    ``"alveo"`` on an x86 host with a card, ``"csim"`` otherwise.
    """
    name = (backend or os.environ.get(ENV_BACKEND) or "csim").strip().lower()
    if name == "auto":
        from ..hardware import board_available

        ok, _ = board_available()
        if not ok:
            return "csim"
        return "zynq" if platform.machine() in ("aarch64", "armv7l") else "alveo"
    if name not in BACKENDS:
        raise ValueError(
            f"unknown FPGA backend {name!r} (from {'the argument' if backend else ENV_BACKEND}); "
            f"choose one of {BACKENDS} or 'auto'"
        )
    return name


def infer_variant(model: QuantModel) -> str:
    """``"sparse-sparse"`` if a layer has k-WTA, ``"sparse-dense"`` if a layer packs several
    kernels, else ``"dense"`` (``model.meta["variant"]`` wins when present)."""
    meta = model.meta.get("variant") if model.meta else None
    if meta in VARIANTS:
        return meta
    if any(layer.k is not None for layer in model.layers):
        return "sparse-sparse"
    if any(layer.weights.n_per_group > 1 for layer in model.layers):
        return "sparse-dense"
    return "dense"


@dataclass(frozen=True)
class Check:
    """Outputs of a backend against the numpy integer pipeline.

    Attributes:
        n_clips: clips compared; mismatched_clips: clips whose logits differ anywhere;
        max_abs_diff: largest difference of a logit; bit_exact: no difference at all.
    """

    n_clips: int
    mismatched_clips: int
    max_abs_diff: int

    @property
    def bit_exact(self) -> bool:
        return self.mismatched_clips == 0


class Accelerator:
    """A loaded design: one model on one backend. Subclasses implement the ``_`` methods.

    Attributes:
        model: the :class:`~compsparse.quant.QuantModel`; variant: the top that runs it;
        params: its :class:`~compsparse.hls_params.HlsParams`; backend: the backend's name;
        board, part: where it runs; n_instances: copies of the top available.
    """

    backend = "?"
    board = "?"
    part = "?"

    def __init__(self, model, variant: str | None = None, source: str | None = None):
        if not isinstance(model, QuantModel):
            from ..export import load_model

            source = source or str(model)
            model = load_model(model)
        self.model = model
        self.variant = variant or infer_variant(model)
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose one of {VARIANTS}")
        self.params = hls_params(model, self.variant)
        self.source = source or str(model.meta.get("source", "a QuantModel"))
        self.n_instances = 1

    # ---------------------------------------------------------------- what backends provide

    def _prepare(self, chunks: list[np.ndarray]):
        """Buffers for one batch: ``chunks[i]`` int8 ``(n_i, n_in)`` for instance ``i``."""
        raise NotImplementedError

    def _upload(self, prepared) -> None:
        """Copy the inputs to device memory."""

    def _execute(self, prepared) -> None:
        """Start every instance on its chunk and wait for all (inputs already on the device)."""
        raise NotImplementedError

    def _download(self, prepared) -> list[np.ndarray]:
        """Copy the logits back: int32 ``(n_i, n_out)`` per instance."""
        raise NotImplementedError

    def _release(self, prepared) -> None:
        """Free the batch's buffers."""

    def _power_meter(self) -> PowerMeter | None:
        return None

    def _rated_power(self) -> tuple[float | None, str, str]:
        """``(watts, kind, what)`` used when the power cannot be read."""
        return None, "none", "no power: C simulation runs on the CPU, not on an FPGA"

    def describe(self) -> dict:
        """What a run record says about the design and where it ran."""
        return {
            "design": self.params.top,
            "variant": self.variant,
            "backend": self.backend,
            "board": self.board,
            "part": self.part,
            "config_id": self.params.config_id,
            "model": self.source,
            "model_sha256": hashlib.sha256(self.params.blob.tobytes()).hexdigest(),
        }

    def close(self) -> None:
        """Release the device (board backends)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ---------------------------------------------------------------- the interface

    def _int8(self, features, quantized: bool) -> np.ndarray:
        x = np.asarray(features)
        if quantized:
            if x.dtype != np.int8:
                raise ValueError(f"quantised inputs must be int8, got {x.dtype}")
            xq = x
        else:
            xq = self.model.quantize(x)
        n_in = self.params.n_in
        if xq.size % n_in:
            raise ValueError(
                f"inputs of {xq.shape} do not split into clips of {self.model.input_shape}"
            )
        return np.ascontiguousarray(xq.reshape(-1, n_in), dtype=np.int8)

    def run(self, xq: np.ndarray, n_instances: int = 1) -> np.ndarray:
        """int8 inputs ``(n, *input_shape)`` or ``(n, n_in)`` -> int32 logits ``(n, n_out)``,
        the clips split over ``n_instances`` copies of the top."""
        chunks = self._split(self._int8(xq, quantized=True), n_instances)
        prepared = self._prepare(chunks)
        try:
            self._upload(prepared)
            self._execute(prepared)
            return np.concatenate(self._download(prepared), axis=0)
        finally:
            self._release(prepared)

    def infer(self, features, quantized: bool = False) -> np.ndarray:
        """Logits of float features ``(n, 32, 32)`` (or int8 when ``quantized``): int32
        ``(n, n_classes)``."""
        return self.run(self._int8(features, quantized))

    def predict(self, features, quantized: bool = False) -> np.ndarray:
        """Class ids ``(n,)`` int64 (argmax of the logits, lowest index on ties)."""
        return self.infer(features, quantized).argmax(axis=1)

    def check(self, features, quantized: bool = False) -> Check:
        """Run ``features`` here and through the numpy integer pipeline; compare every logit."""
        xq = self._int8(features, quantized)
        got = self.run(xq)
        want = self.model.logits(xq.reshape(-1, *self.model.input_shape), quantized=True)
        diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
        return Check(len(xq), int((diff.max(axis=1) > 0).sum()), int(diff.max(initial=0)))

    def _split(self, xq: np.ndarray, n_instances: int) -> list[np.ndarray]:
        if not 1 <= n_instances <= self.n_instances:
            raise ValueError(
                f"{n_instances} instances requested, this design has {self.n_instances} "
                f"({self.backend}); load a bitstream with more copies of {self.params.top}"
                if n_instances > 1
                else "n_instances must be at least 1"
            )
        if len(xq) < n_instances:
            raise ValueError(f"{len(xq)} clips cannot keep {n_instances} instances busy")
        return [np.ascontiguousarray(c) for c in np.array_split(xq, n_instances)]

    def throughput(
        self,
        n_words: int = 1024,
        n_instances: int = 1,
        repeats: int = 5,
        warmup: int = 1,
        power: bool = True,
        seed: int = 0,
        check_words: int = 16,
    ) -> Throughput:
        """Words (clips) per second of ``n_instances`` copies of the design on one batch.

        The clips are seeded random int8 inputs: every loop of the kernels has a fixed trip
        count, so the time does not depend on the values. After timing, the first
        ``check_words`` clips of each instance's share are compared with the integer pipeline
        (``checked_words``, ``mismatches`` in the result).

        Args:
            n_words: clips per batch, all instances together.
            n_instances: copies of the top to run in parallel (1 for one network; all of them
                for the full chip).
            repeats, warmup: timed and untimed runs of the batch.
            power: read the board's power (or use its rated figure).
        """
        rng = np.random.default_rng(seed)
        xq = rng.integers(-128, 128, (n_words, self.params.n_in), dtype=np.int16).astype(np.int8)
        chunks = self._split(xq, n_instances)
        prepared = self._prepare(chunks)
        try:
            self._upload(prepared)

            def round_trip():
                self._upload(prepared)
                self._execute(prepared)
                self._download(prepared)

            rated, rated_kind, rated_source = self._rated_power()
            meter = self._power_meter() if power else None
            sampler = sample_power(
                meter, rated if power else None, rated_source, rated_kind=rated_kind
            )
            result = measure(
                lambda: self._execute(prepared),
                round_trip,
                n_words,
                n_instances,
                repeats=repeats,
                warmup=warmup,
                power=sampler,
            )
            outs = self._download(prepared)
        finally:
            self._release(prepared)
        checked = mismatches = 0
        for chunk, out in zip(chunks, outs, strict=True):
            m = min(check_words, len(chunk))
            want = self.model.logits(chunk[:m].reshape(m, *self.model.input_shape), quantized=True)
            mismatches += int((out[:m] != want).any(axis=1).sum())
            checked += m
        result.checked_words, result.mismatches = checked, mismatches
        return result


class CsimAccelerator(Accelerator):
    """The csim backend: the HLS top compiled with g++ and called through ctypes.

    Runs one instance (the library holds one model's weights in static arrays, as the hardware
    does). Its outputs are the integer pipeline's bit for bit; its speed is the CPU's, not an
    FPGA's, and throughput records of it are marked ``backend: csim``.
    """

    backend = "csim"
    board = "C simulation (g++)"
    part = "none"

    def __init__(self, model, variant: str | None = None, source: str | None = None):
        super().__init__(model, variant, source)
        from .csim import CsimDesign

        self.design = CsimDesign(self.model, self.variant)
        self.board = f"C simulation ({platform.machine()}, {platform.processor() or 'cpu'})"

    def _prepare(self, chunks):
        return {"chunks": chunks, "logits": [None] * len(chunks)}

    def _execute(self, prepared):
        for i, chunk in enumerate(prepared["chunks"]):
            prepared["logits"][i] = self.design.infer_quantized(chunk)

    def _download(self, prepared):
        return list(prepared["logits"])

    def describe(self) -> dict:
        d = super().describe()
        d["library"] = str(self.design.library)
        return d


def open_design(
    model,
    variant: str | None = None,
    backend: str | None = None,
    *,
    bitstream=None,
    timeout_s: float = 10.0,
    **kwargs,
) -> Accelerator:
    """Load a model onto a backend.

    Args:
        model: an exported model folder or a :class:`~compsparse.quant.QuantModel`.
        variant: which top runs it (default: inferred from the model, :func:`infer_variant`).
        backend: ``"csim"``, ``"zynq"``, ``"alveo"`` or ``"auto"`` (see :func:`choose_backend`).
        bitstream: the ``.bit`` (zynq) or ``.xclbin`` (alveo); default ``$COMPSPARSE_BITSTREAM``.
        timeout_s: board backends: seconds a call may take beyond its expected time before it
            is declared stuck.
        **kwargs: passed to the backend (board backends: ``expected_sha256``, ``check_board``,
            ``clock_mhz``...).

    Raises:
        NoDeviceError, DesignFilesError, DesignMismatchError: see :mod:`compsparse.fpga.errors`.
    """
    name = choose_backend(backend)
    if name == "csim":
        if kwargs:
            raise TypeError(f"the csim backend takes no {sorted(kwargs)}")
        if bitstream is not None:
            raise ValueError(
                "a bitstream is for the zynq and alveo backends; the csim backend builds the HLS "
                "sources with g++ (pass backend='zynq' or 'alveo' to load a bitstream)"
            )
        return CsimAccelerator(model, variant)
    bitstream = bitstream or os.environ.get(ENV_BITSTREAM)
    if name == "zynq":
        from .zynq import ZynqAccelerator

        return ZynqAccelerator(model, variant, bitstream=bitstream, timeout_s=timeout_s, **kwargs)
    from .alveo import AlveoAccelerator

    return AlveoAccelerator(model, variant, bitstream=bitstream, timeout_s=timeout_s, **kwargs)
