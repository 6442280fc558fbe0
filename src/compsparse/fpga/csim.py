"""C simulation of the HLS tops: build with g++, load with ctypes, call on numpy arrays.

::

    from compsparse.fpga.csim import CsimDesign

    design = CsimDesign("data/models/sparse-sparse", "sparse-sparse")  # or a QuantModel
    logits = design.infer(features)        # float32 (n, 32, 32) -> int32 (n, 12)
    layers = design.layer_outputs(features[0])   # every layer's intermediates of one clip

The library is the variant's top (``hls/kernels/cs_<variant>.cpp``, compiled unchanged) with the
host glue of ``hls/csim/`` (``bridge.cpp``: numpy buffers to m_axi words; ``tap.cpp``: debug
taps; ``include/hls_stream.h``: our stream model). It is built once per configuration into
``hls/build/csim/<variant>-<key>/``, where ``key`` hashes every source, the generated
``cs_config.h`` (shapes only: models of one shape share a build), the flags and the compiler;
later calls load it. Weights are not compiled in: :meth:`CsimDesign.infer` passes the model's
parameter blob to the top, which copies it into its on-chip memories as the hardware does.

Needs g++ and the ap_types headers (``make env`` installs them into ``.venv/include/ap_types``;
``COMPSPARSE_AP_TYPES`` points elsewhere, e.g. ``$XILINX_HLS/include``). Imports numpy, ctypes
and the standard library only. Not thread-safe: one library holds one model's weights at a time.

Book: chapter "HLS" (book/10_hls.ipynb).
"""

from __future__ import annotations

import ctypes
import hashlib
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from ..hls_params import HlsParams, hls_params, sort8_header
from ..quant import QuantModel

__all__ = [
    "CXX",
    "CXXFLAGS",
    "CsimDesign",
    "CsimError",
    "ap_types_dir",
    "build_library",
    "hls_dir",
]

CXX = os.environ.get("CXX", "g++")
#: g++ flags of every C-simulation build (hls/Makefile uses the same; a test compares them).
#: -Wno-uninitialized / -Wno-maybe-uninitialized: GCC reports false positives from inside the
#: ap_private.h headers; -Wno-unused-label: loop labels name loops in the synthesis reports.
CXXFLAGS = (
    "-std=c++14",
    "-O2",
    "-Wall",
    "-Wno-unknown-pragmas",
    "-Wno-unused-label",
    "-Wno-uninitialized",
    "-Wno-maybe-uninitialized",
    "-Werror=vla",
    "-Werror=return-type",
)
_TAP_WHAT = {"acc": 0, "pooled": 1, "out": 2, "active": 3}
_ERRORS = {-1: "the parameter blob has the wrong size", -2: "hls::stream errors (see stderr)"}
_loaded: dict[str, int] = {}  # library path -> token of the design whose weights it holds
_tokens = itertools.count(1)


class CsimError(RuntimeError):
    """The C simulation could not be built or reported an error."""


def hls_dir() -> Path:
    """The ``hls/`` folder: ``$COMPSPARSE_HLS`` or the repository's."""
    env = os.environ.get("COMPSPARSE_HLS")
    path = Path(env) if env else Path(__file__).resolve().parents[3] / "hls"
    if not (path / "kernels").is_dir():
        raise CsimError(
            f"no HLS sources in {path}: C simulation needs a clone of the compsparse repository "
            f"(pip install -e .) or COMPSPARSE_HLS set to its hls/ folder"
        )
    return path


def ap_types_dir() -> Path:
    """Where ``ap_int.h`` is: ``$COMPSPARSE_AP_TYPES``, the venv, or the hls4ml wheel's folder."""
    candidates = []
    if os.environ.get("COMPSPARSE_AP_TYPES"):
        candidates.append(Path(os.environ["COMPSPARSE_AP_TYPES"]))
    candidates.append(Path(sys.prefix) / "include" / "ap_types")
    candidates.append(hls_dir().parent / ".venv" / "include" / "ap_types")
    try:
        import importlib.util

        spec = importlib.util.find_spec("hls4ml")
        if spec and spec.submodule_search_locations:
            root = Path(next(iter(spec.submodule_search_locations)))
            candidates.append(root / "templates" / "vivado" / "ap_types")
    except (ImportError, ValueError):
        pass
    for path in candidates:
        if (path / "ap_int.h").is_file():
            return path
    raise CsimError(
        "ap_int.h not found: run `make env` (or `make ap-types`), which extracts the Apache-2.0 "
        "ap_types headers from the hls4ml wheel into .venv/include/ap_types, or set "
        "COMPSPARSE_AP_TYPES to a folder holding ap_int.h"
    )


def _sources(variant_top: str) -> list[Path]:
    h = hls_dir()
    files = sorted((h / "include").glob("*.h")) + sorted((h / "csim" / "include").glob("*.h"))
    return [
        *files,
        h / "kernels" / f"{variant_top}.cpp",
        h / "csim" / "bridge.cpp",
        h / "csim" / "tap.cpp",
    ]


def _compiler_version() -> str:
    if not shutil.which(CXX):
        raise CsimError(f"{CXX} not found: install g++ (Debian: apt-get install g++)")
    out = subprocess.run([CXX, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else CXX


def build_library(params: HlsParams, *, sanitize: bool = False, quiet: bool = True) -> Path:
    """Compile (if needed) the ctypes library of ``params``'s top and configuration.

    Args:
        params: from :func:`compsparse.hls_params.hls_params` (only its shapes matter).
        sanitize: build with AddressSanitizer (``-O1 -g -fsanitize=address``); loading such a
            library into Python needs ``LD_PRELOAD`` of libasan, so tests run ASan through the
            testbench (``make -C hls csim``) instead.
        quiet: hide the compiler's output unless it fails.

    Returns:
        Path of the ``.so``.
    """
    sources = _sources(params.top)
    flags = list(CXXFLAGS) + (["-O1", "-g", "-fsanitize=address"] if sanitize else [])
    key = hashlib.sha256()
    for path in sources:
        key.update(path.name.encode() + b"\0" + path.read_bytes())
    key.update(params.config_id.encode() + sort8_header().encode())
    key.update(" ".join(flags).encode() + _compiler_version().encode())
    folder = hls_dir() / "build" / "csim" / f"{params.variant}-{key.hexdigest()[:16]}"
    lib = folder / ("libcs_asan.so" if sanitize else "libcs.so")
    if lib.is_file():
        return lib
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cs_config.h").write_text(params.config_header)
    (folder / "cs_sort8.h").write_text(sort8_header())
    h = hls_dir()
    tmp = folder / f".{lib.name}.{os.getpid()}.tmp"
    cmd = [
        CXX,
        *flags,
        "-fPIC",
        "-shared",
        f"-I{folder}",
        f"-I{h / 'include'}",
        f"-I{h / 'csim' / 'include'}",
        "-isystem",
        str(ap_types_dir()),
        *[str(p) for p in sources if p.suffix == ".cpp"],
        "-o",
        str(tmp),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
    if result.returncode != 0:
        raise CsimError(f"g++ failed building {params.top}:\n{' '.join(cmd)}\n{result.stderr}")
    if not quiet and result.stderr:
        print(result.stderr, file=sys.stderr)
    tmp.replace(lib)  # atomic: a concurrent build of the same key simply wins or loses
    return lib


class CsimDesign:
    """One HLS top, compiled for C simulation and given one model's parameters.

    Args:
        model: a :class:`~compsparse.quant.QuantModel` or an exported model folder.
        variant: ``"dense"``, ``"sparse-dense"`` or ``"sparse-sparse"`` (which top to run).

    Attributes:
        model, variant, params (:class:`~compsparse.hls_params.HlsParams`), library (path).
    """

    def __init__(self, model, variant: str):
        if not isinstance(model, QuantModel):
            from ..export import load_model

            model = load_model(model)
        self.model = model
        self.variant = variant
        self._token = next(_tokens)
        self.params = hls_params(model, variant)
        self.library = build_library(self.params)
        self._lib = ctypes.CDLL(str(self.library))
        self._declare()
        built = self._lib.cs_config_id().decode()
        if built != self.params.config_id:
            raise CsimError(
                f"{self.library} was built for configuration {built}, not "
                f"{self.params.config_id}; delete hls/build/csim and retry"
            )

    def _declare(self) -> None:
        lib, c = self._lib, ctypes
        lib.cs_config_id.restype = c.c_char_p
        lib.cs_run.restype = c.c_int
        lib.cs_run.argtypes = [
            c.c_void_p, c.c_int64, c.c_void_p, c.c_int, c.c_void_p, c.c_int,
        ]  # fmt: skip
        lib.cs_tap_enable.argtypes = [c.c_int]
        lib.cs_tap_read.restype = c.c_int
        lib.cs_tap_read.argtypes = [c.c_int, c.c_int, c.c_void_p, c.c_int]
        lib.cs_quantize.argtypes = [c.c_void_p, c.c_int64, c.c_float, c.c_float, c.c_void_p]
        if self.variant == "sparse-sparse":
            lib.cs_kwta.restype = c.c_int
            lib.cs_kwta.argtypes = [c.c_int, c.c_void_p, c.c_void_p]

    # ------------------------------------------------------------------ inference

    def quantize(self, features) -> np.ndarray:
        """float features ``(..., h, w)`` to int8 with the C++ host code (same rule as numpy)."""
        x = np.ascontiguousarray(features, dtype=np.float32)
        if not np.all(np.isfinite(x)):
            raise ValueError("features contain NaN or inf; the input quantiser needs finite values")
        out = np.empty(x.shape, dtype=np.int8)
        scale, offset = np.float32(self.model.input_scale), np.float32(self.model.input_offset)
        self._lib.cs_quantize(x.ctypes.data, x.size, scale, offset, out.ctypes.data)
        return out

    def infer_quantized(self, xq) -> np.ndarray:
        """int8 inputs ``(n, *input_shape)`` (or one input) -> int32 logits ``(n, n_classes)``."""
        xq = np.asarray(xq)
        if xq.dtype != np.int8:
            raise ValueError(f"quantised inputs must be int8, got {xq.dtype}; use infer(features)")
        xq = np.ascontiguousarray(xq.reshape(-1, self.params.n_in))
        n = len(xq)
        logits = np.zeros((n, self.params.n_out), dtype=np.int32)
        load = int(_loaded.get(str(self.library)) != self._token)
        blob = self.params.blob
        rc = self._lib.cs_run(
            blob.ctypes.data, blob.size, xq.ctypes.data, n, logits.ctypes.data, load
        )
        if rc != 0:
            _loaded.pop(str(self.library), None)
            raise CsimError(f"{self.params.top}: {_ERRORS.get(rc, f'error {rc}')}")
        _loaded[str(self.library)] = self._token
        return logits

    def infer(self, features, quantized: bool = False) -> np.ndarray:
        """Logits of float features ``(n, h, w)`` (quantised by the C++ host code first)."""
        xq = np.asarray(features) if quantized else self.quantize(features)
        return self.infer_quantized(xq.astype(np.int8, copy=False))

    def layer_outputs(self, features, quantized: bool = False) -> list[dict[str, np.ndarray]]:
        """Every layer's intermediates of ONE input, read from the kernels' debug taps.

        Returns:
            one dict per layer with the shapes and dtypes of
            :class:`~compsparse.quant.LayerOutput`: ``acc`` int32 ``acc_shape``, ``pooled`` int32
            ``out_shape``, ``out`` int8 (hidden layers) and ``active`` int8, the k-WTA winners
            with zeros elsewhere (layers with k-WTA).
        """
        x = np.asarray(features)
        xq = x if quantized else self.quantize(x)
        self._lib.cs_tap_enable(1)
        try:
            self.infer_quantized(xq.astype(np.int8, copy=False).reshape(1, -1))
            result = []
            for i, layer in enumerate(self.model.layers):
                shapes = {"acc": layer.acc_shape, "pooled": layer.out_shape}
                if not layer.is_output:
                    shapes["out"] = layer.out_shape
                if layer.k is not None:
                    shapes["active"] = layer.out_shape
                entry = {}
                for what, shape in shapes.items():
                    buf = np.zeros(int(np.prod(shape)), dtype=np.int32)
                    self._lib.cs_tap_read(i, _TAP_WHAT[what], buf.ctypes.data, buf.size)
                    dtype = np.int32 if what in ("acc", "pooled") else np.int8
                    entry[what] = buf.reshape(shape).astype(dtype)
                result.append(entry)
            return result
        finally:
            self._lib.cs_tap_enable(0)

    def kwta(self, layer: int, y) -> np.ndarray:
        """The k-WTA circuit of hidden layer ``layer`` alone (sparse-sparse only).

        Args:
            layer: 0 or 1 (local, sorting network; ``y`` = the channels of one pixel) or 2
                (global, histogram; ``y`` = all units).
            y: uint8 values in [0, 127] (or int8 >= 0), one per channel / unit.

        Returns:
            bool mask of ``y``'s shape: the winners.
        """
        if self.variant != "sparse-sparse":
            raise ValueError("only the sparse-sparse top has k-WTA circuits")
        y = np.ascontiguousarray(y, dtype=np.uint8)
        expected = self.model.layers[layer].weights.n_kernels
        if y.shape != (expected,):
            raise ValueError(f"layer {layer} selects among {expected} values, got {y.shape}")
        won = np.zeros(y.shape, dtype=np.uint8)
        rc = self._lib.cs_kwta(layer, y.ctypes.data, won.ctypes.data)
        if rc != 0:
            raise CsimError(f"cs_kwta({layer}) failed with {rc}")
        return won.astype(bool)
