"""Parameters of the HLS kernels from a packed int8 model: C headers and a binary blob.

The kernels in ``hls/`` take their sizes from a generated ``cs_config.h`` and their weights from
a byte blob that the host hands to the top function through its ``params`` m_axi port (the
kernels copy it into on-chip memory once per model). This module writes both from a
:class:`~compsparse.quant.QuantModel`, plus ``cs_sort8.h`` (the sorting network of
:data:`compsparse.kwta_hw.SORT8_LAYERS`, its single source) and, for the C testbench,
``golden.bin`` (int8 inputs with the integer pipeline's logits). All of them are build outputs:
``hls/generated/`` and ``hls/build/`` are ignored by git.

The network must have the speech network's structure: conv2d -> conv2d -> linear -> linear
(the last one the output layer), each conv followed by max-pooling. Sizes, kernels per group and
k come from the model, so scaled-down models work too.

Blob layout (little-endian; every section starts at a multiple of 8 bytes; offsets in
``cs_config.h``), per layer:

* sparse variants: packed weights int8 ``[rows][G]`` then kernel ids uint8 ``[rows][G]``, where
  row ``r`` is one input position (conv: ``(c*kh + dy)*kw + dx``; linear: the input index) and
  ``G`` the number of packed kernels (groups);
* dense variant: the unpacked weights, int8 ``[rows][C_OUT]`` for conv layers, rows of
  ``ROW_BYTES`` (``C_OUT`` padded to a multiple of 8) for linear layers;
* bias int32 ``[C_PAD]``, and for hidden layers multiplier and shift int32 ``[C_PAD]``
  (``C_PAD = G * n_per_group``; padding kernels get bias 0, multiplier 0, shift 1).

Book: chapter "HLS" (book/10_hls.ipynb).
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .kwta_hw import SORT8_LAYERS
from .quant import QuantModel

__all__ = [
    "CONV_UNITS",
    "COSIM_CLIPS",
    "RMW_II",
    "TOPS",
    "VARIANTS",
    "HlsParams",
    "golden_bytes",
    "hls_params",
    "loop_iterations",
    "sort8_header",
    "write_params",
]

VARIANTS = ("dense", "sparse-dense", "sparse-sparse")
TOPS = {"dense": "cs_dense", "sparse-dense": "cs_sparse_dense", "sparse-sparse": "cs_sparse_sparse"}
_VARIANT_CODE = {"dense": 1, "sparse-dense": 2, "sparse-sparse": 3}
#: Parallel multiply units of each conv layer, ``(LANES, SLICES)`` per variant (our choice; the
#: paper gives no HLS details). LANES conv outputs under one pooled pixel are computed at once,
#: SLICES units split a pixel's input channels (dense activations only). They balance each
#: design's dataflow processes and keep one sparse instance within the ZU3EG's 360 DSP slices
#: (the paper fitted one): sparse-dense conv1 2 x 32 and conv2 16 x 8 multipliers (about 10,000
#: cycles each per word), sparse-sparse conv1 4 x 32 (4,900) and conv2 4 lanes of winners
#: (4,375); the dense stand-in is bound by streaming linear1 from DDR (300,800 cycles), so one
#: lane of 64 multipliers per conv layer is enough. A model of another shape gets the largest
#: divisors of POOL*POOL and C_IN not above these.
CONV_UNITS = {
    "dense": ((1, 1), (1, 1)),
    "sparse-dense": ((2, 1), (4, 4)),
    "sparse-sparse": ((4, 1), (4, 1)),
}
#: Initiation interval of a loop whose iterations read-modify-write a RAM word whose address
#: is data: a kernel id's accumulator (linear layers with NPG > 1), a histogram bin (global
#: k-WTA). The next iteration may hit the same word, so it starts once the write has landed.
RMW_II = 2
#: Clips the m_axi ``depth`` of the input and logits ports allows for in co-simulation.
COSIM_CLIPS = 4
WORD = 8

HELP = "write cs_config.h, cs_sort8.h and the parameter blob of a model for the HLS kernels"


@dataclass(frozen=True, eq=False)
class HlsParams:
    """Everything the HLS build needs for one model and variant.

    Attributes:
        variant: ``"dense"``, ``"sparse-dense"`` or ``"sparse-sparse"``.
        top: the top function's name, e.g. ``"cs_sparse_sparse"``.
        config_header: the text of ``cs_config.h`` (sizes and blob offsets only, no weights:
            one compiled design serves every model of the same shape).
        config_id: sha256 (16 hex digits) of the configuration, also in the header.
        blob: uint8 ``(n_bytes,)``, ``n_bytes`` a multiple of 8: the parameter blob.
        layers: per layer the constants of its ``CsL<i>`` struct (dict of ints).
        n_in: int8 input values per clip; n_out: logits per clip.
    """

    variant: str
    top: str
    config_header: str
    config_id: str
    blob: np.ndarray
    layers: list[dict]
    n_in: int
    n_out: int


class _Blob:
    def __init__(self):
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, array: np.ndarray) -> int:
        offset = self.size
        data = np.ascontiguousarray(array).tobytes()
        data += b"\0" * (-len(data) % WORD)
        self.parts.append(data)
        self.size += len(data)
        return offset

    def array(self) -> np.ndarray:
        return np.frombuffer(b"".join(self.parts), dtype=np.uint8).copy()


def _check_structure(model: QuantModel, variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
    kinds = [layer.kind for layer in model.layers]
    if kinds != ["conv2d", "conv2d", "linear", "linear"]:
        raise ValueError(
            f"the HLS tops implement conv2d -> conv2d -> linear -> linear (the speech network); "
            f"this model has {kinds}"
        )
    if not model.layers[-1].is_output or any(layer.is_output for layer in model.layers[:-1]):
        raise ValueError("only the last layer may skip requantisation (it gives the logits)")
    if model.input_shape[0] != 1 or len(model.input_shape) != 3:
        raise ValueError(f"the input must be (1, h, w), got {model.input_shape}")
    ks = [layer.k for layer in model.layers[:3]]
    if variant == "sparse-sparse" and (None in ks or model.layers[3].k is not None):
        raise ValueError(
            f"the sparse-sparse top needs k-WTA after conv1, conv2 and linear1 (k = {ks}); "
            f"export a sparse-sparse model or choose --variant sparse-dense"
        )
    if variant != "sparse-sparse" and any(k is not None for k in ks):
        raise ValueError(
            f"the {variant} top has no k-WTA but the model's layers have k = {ks}; "
            f"use --variant sparse-sparse"
        )
    for layer in model.layers:
        if layer.acc_bits > 32:
            raise OverflowError(
                f"{layer.name} needs {layer.acc_bits}-bit accumulators; the kernels use 32"
            )
        if layer.weights.n_per_group > 256:
            raise ValueError(f"{layer.name}: n_per_group > 256 does not fit the uint8 kernel ids")
        n_in = int(np.prod(layer.weights.kernel_shape))
        if n_in >= 2**16:
            raise ValueError(f"{layer.name}: {n_in} inputs per kernel do not fit 16-bit indices")
    for layer in model.layers[:2]:
        _, oh, ow = layer.acc_shape
        if oh % layer.pool or ow % layer.pool:
            raise ValueError(
                f"{layer.name}: the conv output {oh}x{ow} is not a multiple of the pool size "
                f"{layer.pool}; the kernels pool without dropping rows"
            )
        if layer.weights.n_kernels > 256:
            raise ValueError(f"{layer.name}: local k-WTA supports at most 256 channels")
    if model.layers[2].in_shape != (int(np.prod(model.layers[1].out_shape)),):
        raise ValueError("linear1's input must be conv2's pooled output, flattened")
    for layer in model.layers[2:]:
        if layer.pool != 1:
            raise ValueError(f"{layer.name}: linear layers cannot pool")


def _id_bits(n_per_group: int) -> int:
    return max(1, (n_per_group - 1).bit_length())


def _layer_constants(model: QuantModel, i: int, variant: str) -> dict:
    layer = model.layers[i]
    P = layer.weights
    dense = variant == "dense"
    npg = 1 if dense else P.n_per_group
    groups = P.n_kernels if dense else P.n_groups
    c = dict(
        INDEX=i,
        C_OUT=P.n_kernels,
        NPG=npg,
        G=groups,
        C_PAD=groups * npg,
        ID_BITS=_id_bits(npg),
        REQUANT=int(not layer.is_output),
    )
    prev = model.layers[i - 1] if i > 0 else None
    sparse_in = variant == "sparse-sparse" and prev is not None
    if layer.kind == "conv2d":
        c_in, kh, kw = P.kernel_shape
        _, h, w = layer.in_shape
        _, oh, ow = layer.acc_shape
        k_in = prev.k if sparse_in else 0
        c.update(C_IN=c_in, H=h, W=w, KH=kh, KW=kw, KK=kh * kw, ROWS=c_in * kh * kw, OH=oh, OW=ow)
        c.update(POOL=layer.pool, PH=oh // layer.pool, PW=ow // layer.pool)
    else:
        n_in = P.kernel_shape[0]
        if sparse_in:
            # linear1 sees conv2's k winners at every pooled pixel; the output layer linear1's k
            k_in = prev.k * int(np.prod(prev.out_shape[1:])) if prev.kind == "conv2d" else prev.k
        else:
            k_in = 0
        c.update(N_IN=n_in, ROWS=n_in, ROW_BYTES=-(-P.n_kernels // WORD) * WORD)
    c["K"] = layer.k or 0
    c["K_IN"] = k_in
    # |sum| <= ROWS * 127 * 128 (cs_types.h): the adder width of the multiply loops
    c["SUM_BITS"] = (c["ROWS"] * 127 * 128).bit_length() + 1
    if layer.kind == "conv2d":
        lanes, slices = CONV_UNITS[variant][i]
        c["LANES"] = _divisor_at_most(layer.pool**2, lanes)
        c["SLICES"] = 1 if k_in else _divisor_at_most(c["C_IN"], slices)
        # a winner lane addresses its own row: one read port per lane, two per block RAM copy
        c["PORTS"] = c["LANES"] if k_in else 1
        steps = c["KK"] * (k_in or c["C_IN"] // c["SLICES"])  # cycles of one pass
        # channels drained per cycle: a pass's sums must drain while the next pass multiplies
        c["DRAIN"] = next(d for d in range(1, c["C_PAD"] + 1)
                          if c["C_PAD"] % d == 0 and c["C_PAD"] // d <= steps)  # fmt: skip
    else:
        c["PORTS"] = 1
        c["MAC_II"] = RMW_II if npg > 1 else 1
    c["COPIES"] = -(-c["PORTS"] // 2)
    return c


def _divisor_at_most(n: int, most: int) -> int:
    return max(d for d in range(1, min(n, most) + 1) if n % d == 0)


def _layer_arrays(layer, variant: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(weights, kernel ids) in the blob's row layout."""
    P = layer.weights
    rows = int(np.prod(P.kernel_shape))
    if variant == "dense":
        w = layer.dense_weights().reshape(P.n_kernels, rows).T  # [rows][C_OUT]
        if layer.kind == "linear":
            pad = -P.n_kernels % WORD
            w = np.concatenate([w, np.zeros((rows, pad), np.int8)], axis=1)
        return np.ascontiguousarray(w, dtype=np.int8), None
    w = P.values.reshape(P.n_groups, rows).T
    ids = P.kernel_ids.reshape(P.n_groups, rows).T.astype(np.uint8)
    return np.ascontiguousarray(w, dtype=np.int8), np.ascontiguousarray(ids)


def _pad(v: np.ndarray, n: int, fill: int) -> np.ndarray:
    out = np.full(n, fill, dtype=np.int32)
    out[: len(v)] = v
    return out


def hls_params(model: QuantModel, variant: str, source: str = "") -> HlsParams:
    """The generated header and blob of ``model`` for the ``variant`` top.

    Args:
        model: a QuantModel of the speech network's structure (any sizes).
        variant: which top: ``"dense"`` (the model's weights unpacked: any model without
            k-WTA), ``"sparse-dense"`` (packed, no k-WTA) or ``"sparse-sparse"`` (packed, k-WTA
            after every hidden layer).
        source: a note for the header (where the model came from).

    Raises:
        ValueError / OverflowError: a model the kernels cannot run, with the reason.
    """
    _check_structure(model, variant)
    blob = _Blob()
    layers = []
    for i, layer in enumerate(model.layers):
        c = _layer_constants(model, i, variant)
        w, ids = _layer_arrays(layer, variant)
        c["W_OFF"] = blob.add(w)
        c["ID_OFF"] = blob.add(ids) if ids is not None else 0
        c["BIAS_OFF"] = blob.add(_pad(layer.bias, c["C_PAD"], 0))
        if layer.is_output:
            c["MULT_OFF"] = c["SHIFT_OFF"] = 0
        else:
            c["MULT_OFF"] = blob.add(_pad(layer.multiplier, c["C_PAD"], 0))
            c["SHIFT_OFF"] = blob.add(_pad(layer.shift, c["C_PAD"], 1))
        layers.append(c)
    data = blob.array()
    n_in = int(np.prod(model.input_shape))
    n_out = model.layers[-1].weights.n_kernels
    body = _config_body(model, variant, layers, n_in, n_out, len(data))
    config_id = hashlib.sha256(body.encode()).hexdigest()[:16]
    header = _config_header(body, variant, config_id, source)
    return HlsParams(variant, TOPS[variant], header, config_id, data, layers, n_in, n_out)


def loop_iterations(params: HlsParams) -> list[dict]:
    """Per layer: the engine, iterations of its pipelined multiply loop per clip, multipliers.

    Counted from the loop bounds of ``hls/include/cs_conv.h`` (``conv_mac``) and
    ``cs_linear.h`` (``linear_mac``, ``linear_ddr``) with this configuration; an iteration
    takes ``ii`` clock cycles. These are properties of the C++ source, not synthesis results.

    Returns:
        one dict per layer: ``engine`` ("dense", "sparse-dense" or "sparse-sparse"),
        ``iterations``, ``ii``, ``multipliers`` (working in parallel in one iteration: the
        multiply units times the G packed kernels each) and ``macs`` (``iterations *
        multipliers``, zero weights of partial groups included).
    """
    rows = []
    for c in params.layers:
        if params.variant == "dense":
            engine = "dense"
        elif params.variant == "sparse-sparse" and c["K_IN"]:
            engine = "sparse-sparse"
        else:
            engine = "sparse-dense"
        if "KH" in c:  # conv: every pooled pixel, every pass, every (kernel offset, input step)
            passes = c["POOL"] ** 2 // c["LANES"]
            steps = c["KK"] * (c["K_IN"] or c["C_IN"] // c["SLICES"])
            iterations, ii = c["PH"] * c["PW"] * passes * steps, 1
            mult = c["LANES"] * c["SLICES"] * c["G"]
        elif engine == "dense" and c["REQUANT"]:  # linear1 from DDR: a bus word of 8 weights
            iterations, ii, mult = c["N_IN"] * c["ROW_BYTES"] // WORD, 1, WORD
        else:
            iterations, ii, mult = c["K_IN"] or c["N_IN"], c["MAC_II"], c["G"]
        rows.append(
            dict(
                engine=engine,
                iterations=iterations,
                ii=ii,
                multipliers=mult,
                macs=iterations * mult,
            )
        )
    return rows


_CONV_FIELDS = [
    ("C_IN", "H", "W", "KH", "KW", "KK", "ROWS"),
    ("C_OUT", "NPG", "G", "C_PAD", "ID_BITS"),
    ("OH", "OW", "POOL", "PH", "PW"),
    ("K", "K_IN", "REQUANT", "INDEX", "SUM_BITS"),
    ("LANES", "SLICES", "PORTS", "COPIES", "DRAIN"),
]
_LINEAR_FIELDS = [
    ("N_IN", "ROWS", "ROW_BYTES"),
    ("C_OUT", "NPG", "G", "C_PAD", "ID_BITS"),
    ("K", "K_IN", "REQUANT", "INDEX", "SUM_BITS"),
    ("PORTS", "COPIES", "MAC_II"),
]
_OFFSETS = ("W_OFF", "ID_OFF", "BIAS_OFF", "MULT_OFF", "SHIFT_OFF")


def _config_body(model, variant, layers, n_in, n_out, n_bytes) -> str:
    _, h, w = model.input_shape
    lines = [
        f"#define CS_VARIANT {_VARIANT_CODE[variant]}",
        f'#define CS_VARIANT_NAME "{variant}"',
        f"#define CS_TOP {TOPS[variant]}",
        f"const int CS_RMW_II = {RMW_II};  // II of a data-addressed read-modify-write loop",
        "",
        f"struct CsIn {{ static const int C = 1, H = {h}, W = {w}, N = {n_in}, "
        f"WORDS = {-(-n_in // WORD)}; }};",
        f"struct CsOut {{ static const int N = {n_out}, WORDS = {-(-n_out // 2)}; }};",
        "",
    ]
    for i, (layer, c) in enumerate(zip(model.layers, layers, strict=True)):
        what = f"{layer.name}: {layer.kind}, {c['C_OUT']} kernels"
        if layer.kind == "conv2d":
            what += f" {c['C_IN']}x{c['KH']}x{c['KW']}, pool {c['POOL']}"
            fields = _CONV_FIELDS
        else:
            what += f" of {c['N_IN']} inputs"
            fields = _LINEAR_FIELDS
        what += f", {c['NPG']} per packed kernel, k {c['K'] or '-'}, winners in {c['K_IN'] or '-'}"
        lines.append(f"// {what}")
        lines.append(f"struct CsL{i + 1} {{")
        for group in fields:
            lines.append("  static const int " + ", ".join(f"{f} = {c[f]}" for f in group) + ";")
        lines.append(
            "  static const unsigned " + ", ".join(f"{f} = {c[f]}u" for f in _OFFSETS) + ";"
        )
        lines.append("};")
    lines += [
        "",
        f"const unsigned CS_PARAM_BYTES = {n_bytes}u;",
        f"const int CS_PARAM_WORDS = {n_bytes // WORD};",
        f"// m_axi depths for co-simulation: {COSIM_CLIPS} clips",
        f"const int CS_INPUT_DEPTH = {COSIM_CLIPS} * CsIn::WORDS;",
        f"const int CS_OUTPUT_DEPTH = {COSIM_CLIPS} * CsOut::WORDS;",
    ]
    return "\n".join(lines) + "\n"


def _config_header(body: str, variant: str, config_id: str, source: str) -> str:
    note = f" from {source}" if source else ""
    return (
        f"// cs_config.h: generated by compsparse.hls_params{note}, variant {variant}.\n"
        "// A build output (hls/generated/, hls/build/): do not edit, do not commit.\n"
        "#ifndef CS_CONFIG_H\n#define CS_CONFIG_H\n\n"
        "#define CS_VARIANT_DENSE 1\n#define CS_VARIANT_SPARSE_DENSE 2\n"
        "#define CS_VARIANT_SPARSE_SPARSE 3\n"
        f'#define CS_CONFIG_ID "{config_id}"\n' + body + "\n#endif\n"
    )


def sort8_header() -> str:
    """``cs_sort8.h``: the 8-input sorting network of :data:`compsparse.kwta_hw.SORT8_LAYERS`.

    Raises:
        ValueError: the network does not have 19 comparators in 6 layers of disjoint wires.
    """
    pairs = [pair for layer in SORT8_LAYERS for pair in layer]
    for layer in SORT8_LAYERS:
        wires = [w for pair in layer for w in pair]
        if len(set(wires)) != len(wires):
            raise ValueError(f"comparators of one layer share a wire: {layer}")
    if len(pairs) != 19 or len(SORT8_LAYERS) != 6:
        raise ValueError(
            f"expected 19 comparators in 6 layers, got {len(pairs)} in {len(SORT8_LAYERS)}"
        )
    rows = []
    for n, layer in enumerate(SORT8_LAYERS, start=1):
        cells = ", ".join(f"{{{i}, {j}}}" for i, j in layer)
        rows.append(f"    {cells},  // layer {n}")
    return (
        "// cs_sort8.h: generated by compsparse.hls_params from compsparse.kwta_hw.SORT8_LAYERS.\n"
        "// A build output: do not edit, do not commit.\n"
        "#ifndef CS_SORT8_H\n#define CS_SORT8_H\n\n"
        f"const int CS_SORT8_N_LAYERS = {len(SORT8_LAYERS)};\n"
        f"const int CS_SORT8_N_COMPARATORS = {len(pairs)};\n"
        "// Comparator (i, j), i < j, leaves the better (value, index) pair on wire i.\n"
        f"const int CS_SORT8_PAIRS[{len(pairs)}][2] = {{\n" + "\n".join(rows) + "\n};\n\n#endif\n"
    )


def golden_bytes(xq: np.ndarray, logits: np.ndarray) -> bytes:
    """``golden.bin`` for the C testbench: ``"CSGV"``, n, n_in, n_out, int8 inputs, int32 logits.

    Args:
        xq: int8 ``(n, *input_shape)``; logits: int32 ``(n, n_out)``.
    """
    xq = np.ascontiguousarray(xq, dtype=np.int8).reshape(len(xq), -1)
    logits = np.ascontiguousarray(logits, dtype="<i4").reshape(len(xq), -1)
    head = np.array([len(xq), xq.shape[1], logits.shape[1]], dtype="<i4")
    return b"CSGV" + head.tobytes() + xq.tobytes() + logits.tobytes()


def write_params(params: HlsParams, out_dir, golden: tuple | None = None) -> Path:
    """Write ``cs_config.h``, ``cs_sort8.h``, ``params.bin`` (and ``golden.bin``) to ``out_dir``.

    Args:
        golden: optional ``(xq, logits)`` for :func:`golden_bytes`.

    Files are replaced only when their content changes, so make does not rebuild needlessly.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "cs_config.h": params.config_header.encode(),
        "cs_sort8.h": sort8_header().encode(),
        "params.bin": params.blob.tobytes(),
    }
    if golden is not None:
        files["golden.bin"] = golden_bytes(*golden)
    for name, data in files.items():
        path = out / name
        if not path.exists() or path.read_bytes() != data:
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument(
        "--model",
        default=None,
        help="exported model folder (default: data/models/VARIANT if it exists, else 'random')",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument(
        "--golden", type=int, default=8, help="embedded test clips for golden.bin (0: none)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of a random model")


def run(args: argparse.Namespace) -> int:
    from .hls_models import resolve_model, test_inputs

    model, source = resolve_model(args.variant, args.model, seed=args.seed)
    params = hls_params(model, args.variant, source=source)
    golden = None
    if args.golden > 0:
        xq, _ = test_inputs(model, args.golden)
        golden = (xq, model.logits(xq, quantized=True))
    write_params(params, args.out, golden)
    extra = f", golden.bin ({args.golden} clips)" if golden is not None else ""
    print(
        f"{args.out}: cs_config.h, cs_sort8.h, params.bin ({params.blob.size:,} bytes){extra} "
        f"for {params.top} from {source}"
    )
    return 0
