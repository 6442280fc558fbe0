"""A performance model of the HLS designs: cycles per word, instances per chip, words per second.

This is a model, not a measurement. It follows the structure of the three HLS tops
(``hls/kernels/cs_*.cpp`` and the layer templates in ``hls/include/``): each top runs its clip
loop as a DATAFLOW region whose processes (one per layer part: read the input, a conv layer's
multiply, requantise and k-WTA processes, a linear layer, global k-WTA) work on consecutive clips
at the same time. The model lists every pipelined loop of every process with its trip count per
word (from the generated layer constants of :func:`compsparse.hls_params.hls_params`: ``LANES``,
``SLICES``, ``DRAIN``, ``K_IN``, ``MAC_II``...) and its initiation interval (II), read from the
loop's ``PIPELINE`` pragma in the sources (:func:`source_loops`), and counts cycles. A resource
estimate of one instance (LUTs, flip-flops, block RAMs, DSP slices) then gives the number of
instances that fit a chip. Nothing here was checked against Vitis HLS reports: no Xilinx tool
ran where this was written, and the paper's resource numbers and clocks were not found. Every
rule below is an assumption, and :class:`Assumptions` holds each one as a parameter.

Cycle rules (``Assumptions`` field in brackets):

* A pipelined loop of ``trips`` iterations takes ``(trips - 1) * II + depth`` cycles, where
  ``depth`` is one iteration's latency: ``compute_depth`` for multiply loops, ``drain_depth``
  for draining sums, ``requant_depth`` for requantisation, ``axi_latency`` for loops that read
  or write DDR through an m_axi port (the latency Vitis HLS assumes for m_axi by default).
* The II is the pragma's: 1, ``L::MAC_II`` (the layer constant: 2 where a group's
  accumulators are a RAM read-modified-written at an address that is data, 1 where they are
  registers) or ``CS_RMW_II`` (histogram counting). The model assumes synthesis achieves it.
* A process costs the sum of its loops; a non-pipelined loop (the per-pixel local k-WTA) costs
  its body per iteration plus ``call_overhead``. With ``dataflow`` (the tops' DATAFLOW) a new
  word enters every ``max(process)`` cycles; processes coupled by FIFOs within a layer are
  rate-matched (each consumer needs at most its producer's cycles per pixel), and FIFOs that
  cross a process with work after its input (linear layers) hold a whole clip. Without
  ``dataflow`` a word costs the sum of all processes.
* Words per second of one instance = clock / cycles per word, at the clock the build scripts
  target (``hls/boards/``: 200 MHz on the ZU3EG, 300 MHz on the U250) unless ``clock_mhz``
  says otherwise; whether a design meets it is for Vivado to say. Host calls and transfers are
  amortised over a large batch and not counted.

Resource rules: every array on chip is mapped to 18-Kbit block RAMs in the aspect ratio that
needs fewest, bank by bank as the ARRAY_PARTITION / ARRAY_RESHAPE pragmas split it, or to LUT
RAM when a bank holds at most ``lutram_max_bits``; buffers between dataflow processes are
ping-pong pairs (twice the memory); FIFOs of at most ``fifo_srl_depth`` words are shift
registers in LUTs. The tops name no URAM, so none is used. One DSP slice per int8 multiplier
(``dsp_per_mul8``), ``dsp_per_requant`` per 32 x 32-bit requantisation multiplier; a loop with
II 2 shares its multipliers over the two cycles. LUTs count the datapath: one per adder bit, a
multiplexer of n inputs ``ceil((n - 1) / 3)`` per bit, each compare-and-swap cell of a sorting
network (``lut_sort_cell``), a requantiser (``lut_requant``), the control of each process
(``lut_process``) and the AXI adapters (``lut_control``). Flip-flops count the registers the
code names (accumulators, their shadow copies, pooled maxima) plus ``ff_per_lut`` pipeline
registers per LUT. Instances per chip = the smallest ``floor(usable * available / used)`` over
LUT, FF, BRAM and DSP, where ``usable`` leaves room for the platform shell, interconnect and
routing (Vitis documentation counts 10 % for system infrastructure alone; UG1393, "Determining
Where to Place the Kernels"). Full-chip words/s = instances x single-instance words/s, capped by
the board's DDR bandwidth for the bytes each word moves. The paper measured sub-linear scaling
(see :func:`paper_scaling`); this model does not predict it.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

__all__ = [
    "AS_WRITTEN",
    "CHIPS",
    "TUNED",
    "Assumptions",
    "Chip",
    "Cycles",
    "Prediction",
    "Resources",
    "Stage",
    "bram18_blocks",
    "cycles_per_word",
    "instances_per_chip",
    "paper_scaling",
    "predict",
    "predict_all",
    "resources",
    "source_loops",
    "speech_layers",
]

VARIANTS = ("dense", "sparse-dense", "sparse-sparse")
WORD_BYTES = 8
SORT8_COMPARATORS = 19  # the 8-input sorting network of compsparse.kwta_hw (6 layers)
SORT8_LAYERS = 6
# 18-Kbit block RAM aspect ratios (width bits, depth words), simple dual port (UG573)
BRAM18_SHAPES = ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024), (36, 512))


@dataclass(frozen=True)
class Assumptions:
    """Every assumption of the model, as a parameter (see the module docstring)."""

    name: str = "kernels as written"
    clock_mhz: float | None = None  # None: the clock the chip's build scripts target
    compute_depth: int = 4
    drain_depth: int = 3
    requant_depth: int = 6
    axi_latency: int = 64
    call_overhead: int = 2
    dataflow: bool = True
    lutram_max_bits: int = 1024
    fifo_srl_depth: int = 32
    dsp_per_mul8: float = 1.0
    dsp_per_requant: int = 4
    lut_sort_cell: int = 50
    lut_kwta_global: int = 400
    lut_requant: int = 200
    lut_process: int = 300
    lut_control: int = 4000
    ff_per_lut: float = 1.0

    def describe(self) -> list[str]:
        """The assumptions as sentences, for the chapter."""
        clock = (
            f"clock {self.clock_mhz:g} MHz"
            if self.clock_mhz
            else "the build scripts' clocks (ZU3EG 200 MHz, U250 300 MHz)"
        )
        flow = (
            "dataflow: a word enters every max(process) cycles"
            if self.dataflow
            else "processes one after another: a word costs their sum"
        )
        per = 1 / self.dsp_per_mul8
        dsp = "one int8 product" if per == 1 else f"{per:g} int8 products"
        return [
            clock,
            "every loop reaches the II its PIPELINE pragma asks for",
            f"iteration latency: {self.compute_depth} cycles (multiply), {self.drain_depth} "
            f"(drain), {self.requant_depth} (requantise), {self.axi_latency} (m_axi)",
            flow,
            f"{dsp} per DSP slice, {self.dsp_per_requant} DSP slices per requantisation multiplier",
            f"LUTs: datapath + {self.lut_process} per process + {self.lut_control} for AXI; "
            f"FFs: named registers + {self.ff_per_lut:g} per LUT",
        ]


#: The kernels as they are written in hls/.
AS_WRITTEN = Assumptions()
#: A hypothetical the tops do not implement: two int8 products per DSP slice (the INT8 packing
#: of Xilinx WP486, which needs the two products to share an operand, as a unit's G products
#: share its activation). It changes only the DSP count.
TUNED = Assumptions(name="two int8 products per DSP slice (hypothetical)", dsp_per_mul8=0.5)


@dataclass(frozen=True)
class Chip:
    """An FPGA and the board it sits on.

    Attributes:
        name: the paper's name of the FPGA (``"U250"``, ``"ZU3EG"``).
        board, part: the board and the part number the HLS scripts target.
        lut, ff, bram18, dsp, uram: the device's resources (Xilinx product tables).
        clock_mhz: the kernel clock the build scripts in ``hls/boards/`` target.
        usable: fraction of each resource a design may use (assumption).
        ddr_gbps: DDR bandwidth of the board, GB/s (peak, all banks).
        rated_power_w, power_kind, power_note: the power used when nothing is measured,
            whether it is the board's rating (``"rated"``) or an assumption (``"assumed"``), and
            what it is.
    """

    name: str
    board: str
    part: str
    lut: int
    bram18: int
    dsp: int
    uram: int
    clock_mhz: float
    usable: float
    ddr_gbps: float
    rated_power_w: float
    power_kind: str
    power_note: str
    ff: int = 0


CHIPS = {
    "U250": Chip(
        "U250",
        "Alveo U250",
        "xcu250-figd2104-2L-e",
        lut=1_728_000,
        ff=3_456_000,
        bram18=5_376,
        dsp=12_288,
        uram=1_280,
        clock_mhz=300.0,  # hls/boards/u250/Makefile: CLOCK_NS = 3.333
        usable=0.7,  # the XDMA shell's static region, 10 % infrastructure, routing headroom
        ddr_gbps=4 * 19.2,  # four DDR4-2400 64-bit banks
        rated_power_w=225.0,
        power_kind="rated",
        power_note="rated: the card's maximum power (225 W, the figure in the paper's Table 4)",
    ),
    "ZU3EG": Chip(
        "ZU3EG",
        "Ultra96-V2",
        "xczu3eg-sbva484-1-i",
        lut=70_560,
        ff=141_120,
        bram18=432,
        dsp=360,
        uram=0,
        clock_mhz=200.0,  # hls/boards/ultra96v2/Makefile: PL_MHZ = 200
        usable=0.8,  # no shell; routing and timing headroom
        ddr_gbps=8.5,  # LPDDR4, 32 bits at 2133 MT/s
        rated_power_w=24.0,
        power_kind="assumed",
        power_note="assumed: the paper's system power for the ZU3EG board (24 W), not a rating",
    ),
}


@dataclass(frozen=True)
class Stage:
    """One loop of a design, per word.

    Attributes:
        layer: ``"input"``, a layer name (``"conv1"``...).
        process: the dataflow process the loop belongs to (``"conv1 multiply"``...).
        what: the loop: its label in the sources (``conv_mac``...) and role.
        trips: iterations per call; ii: initiation interval; depth: one iteration's latency.
        calls: calls per word.
    """

    layer: str
    process: str
    what: str
    trips: int
    ii: int
    depth: int
    calls: int = 1

    @property
    def cycles(self) -> int:
        """Cycles per word: ``calls * ((trips - 1) * ii + depth)``."""
        return self.calls * ((self.trips - 1) * self.ii + self.depth)


@dataclass(frozen=True)
class Cycles:
    """Cycles per word of one design.

    Attributes:
        variant: the design; stages: every loop.
        per_process: cycles per word of each dataflow process (in order).
        per_layer: each layer's slowest process.
        cycles_per_word: the interval between words (the slowest process with dataflow, else
            the sum of all); bottleneck: the process that sets it (dataflow).
        sequential: the sum of all processes (one word alone, layers one after another).
    """

    variant: str
    stages: tuple[Stage, ...]
    per_process: dict[str, int]
    per_layer: dict[str, int]
    cycles_per_word: int
    bottleneck: str
    sequential: int


@dataclass(frozen=True)
class Resources:
    """One instance's estimated resources; ``items`` lists (what, resource, amount)."""

    lut: int
    bram18: int
    dsp: int
    uram: int = 0
    items: tuple[tuple[str, str, int], ...] = ()
    ff: int = 0


@dataclass(frozen=True)
class Prediction:
    """The model's numbers for one design on one chip (see the module docstring)."""

    variant: str
    chip: str
    assumptions: str
    clock_mhz: float
    cycles_per_word: int
    words_per_s: float
    resources: Resources
    instances: int
    binding: str
    words_per_s_chip: float
    bandwidth_capped: bool
    power_w: float
    power_kind: str
    words_per_s_per_w: float
    cycles: Cycles = field(repr=False, default=None)


# ------------------------------------------------------------------------------ the sources

#: The loops of the per-word path and their pragma II, used when the sources are not there
#: (an installed package without the repository's hls/ folder).
_DEFAULT_LOOPS = {
    "read_input": "1",
    "conv_mac": "1",
    "conv_drain_last": "1",
    "conv_requant": "1",
    "kwta_pixels": None,
    "kwta_sort": "unroll",
    "kwta_pop": "1",
    "emit_winners": "1",
    "linear_clear": "1",
    "linear_mac": "L::MAC_II",
    "linear_requant": "1",
    "store_logits": "1",
    "linear_ddr_clear": "1",
    "linear_ddr": "1",
    "kwta_clear": "1",
    "kwta_count": "CS_RMW_II",
    "kwta_scan": "1",
    "kwta_select": "1",
    "clips": None,
}
_LABEL = re.compile(r"^\s*(\w+):\s*\n\s*for\s*\((.*)\n((?:\s*#pragma[^\n]*\n){0,3})", re.M)
_II = re.compile(r"#pragma HLS PIPELINE II=(\S+)")


def _hls_root() -> Path:
    root = os.environ.get("COMPSPARSE_HLS")
    return Path(root) if root else Path(__file__).resolve().parents[2] / "hls"


@cache
def source_loops() -> dict[str, str | None]:
    """``{label: II}`` of every labelled loop in ``hls/include/*.h`` and ``hls/kernels/*.cpp``
    (``$COMPSPARSE_HLS`` or the repository's): the ``PIPELINE II=`` value as written (``"1"``,
    ``"L::MAC_II"``, ``"CS_RMW_II"``), ``"unroll"`` for an unrolled loop, ``None`` for a loop
    that is neither. Without the sources, the loops of the tops as this model knows them.

    Raises:
        ValueError: one label with two different pragmas (the model could not tell them apart).
    """
    hls = _hls_root()
    files = sorted((hls / "include").glob("*.h")) + sorted((hls / "kernels").glob("*.cpp"))
    if not files:
        return dict(_DEFAULT_LOOPS)
    found: dict[str, str | None] = {}
    for path in files:
        for label, _, pragmas in _LABEL.findall(path.read_text()):
            m = _II.search(pragmas)
            ii = m.group(1) if m else ("unroll" if "UNROLL" in pragmas else None)
            if label in found and found[label] != ii:
                raise ValueError(f"loop {label} has II {found[label]} and {ii} in {hls}")
            found[label] = ii
    return found


def _ii(label: str, c: dict | None = None) -> int:
    """The II of loop ``label`` as its pragma asks (symbols resolved from the configuration)."""
    from .hls_params import RMW_II

    ii = source_loops().get(label, _DEFAULT_LOOPS.get(label))
    if ii is None or ii == "unroll":
        return 1
    if ii == "CS_RMW_II":
        return RMW_II
    if ii.startswith("L::"):
        return int(c[ii[3:]])
    return int(ii)


# ------------------------------------------------------------------------------------- cycles


def _names(layers: list[dict]) -> list[str]:
    names, n_conv, n_lin = [], 0, 0
    for i, c in enumerate(layers):
        if "KH" in c:
            n_conv += 1
            names.append(f"conv{n_conv}")
        elif i == len(layers) - 1:
            names.append("output")
        else:
            n_lin += 1
            names.append(f"linear{n_lin}")
    return names


def _conv_geometry(c: dict) -> tuple[int, int, int]:
    """(passes per pooled pixel, cycles of one pass, drain cycles of one pass) of conv_mac."""
    passes = c["POOL"] ** 2 // c["LANES"]
    steps = c["KK"] * (c["K_IN"] or c["C_IN"] // c["SLICES"])
    return passes, steps, c["C_PAD"] // c["DRAIN"]


def _kwta_local_stages(name: str, c: dict, to_stream: bool, a: Assumptions) -> list[Stage]:
    """The kwta_pixels process: per pixel, sort (the unrolled networks), then pop k winners,
    straight into the next conv layer's buffer, or into a list sent to a linear layer."""
    groups = -(-c["C_OUT"] // 8)
    leaves = 1 << max(0, (groups - 1).bit_length())
    pixels = c["PH"] * c["PW"]
    proc = f"{name} k-WTA"
    stages = [
        Stage(
            name,
            proc,
            "kwta_sort: 8-input sorting networks",
            1,
            1,
            SORT8_LAYERS + 1 + a.call_overhead,
            pixels,
        ),
        Stage(
            name,
            proc,
            "kwta_pop: comparator tree over the FIFO heads",
            c["K"],
            _ii("kwta_pop"),
            max(1, leaves.bit_length()),
            pixels,
        ),
    ]
    if to_stream:
        stages.append(
            Stage(
                name,
                proc,
                "emit_winners: flat indices to the FIFO",
                c["K"],
                _ii("emit_winners"),
                1,
                pixels,
            )
        )
    return stages


def _conv_stages(name: str, c: dict, variant: str, nxt: dict | None, a) -> list[Stage]:
    passes, steps, drains = _conv_geometry(c)
    pixels = c["PH"] * c["PW"]
    units = c["LANES"] * c["SLICES"]
    kind = "winners" if c["K_IN"] else "dense activations"
    stages = [
        Stage(
            name,
            f"{name} multiply",
            f"conv_mac: {units} units x {c['G']} ({kind})",
            pixels * passes * steps,
            _ii("conv_mac"),
            a.compute_depth,
        ),
        Stage(
            name,
            f"{name} multiply",
            "conv_drain_last: the clip's last pass",
            drains,
            _ii("conv_drain_last"),
            a.drain_depth,
        ),
        Stage(
            name,
            f"{name} requantise",
            f"conv_requant: {c['DRAIN']} per cycle",
            pixels * drains,
            _ii("conv_requant"),
            a.requant_depth,
        ),
    ]
    if c["K"]:
        to_stream = nxt is not None and "KH" not in nxt
        stages += _kwta_local_stages(name, c, to_stream, a)
    return stages


def _linear_stages(name: str, c: dict, variant: str, a: Assumptions) -> list[Stage]:
    hidden = bool(c["REQUANT"])
    stages = []
    if variant == "dense" and hidden:  # linear1 of the dense stand-in: weights from DDR
        words = c["N_IN"] * c["ROW_BYTES"] // WORD_BYTES
        stages += [
            Stage(
                name, name, "linear_ddr_clear", -(-c["G"] // WORD_BYTES), _ii("linear_ddr_clear"), 1
            ),
            Stage(
                name,
                name,
                "linear_ddr: weights from DDR, 8 per word",
                words,
                _ii("linear_ddr"),
                a.axi_latency,
            ),
        ]
    else:
        inputs = c["K_IN"] or c["N_IN"]
        what = "winners" if c["K_IN"] else "inputs"
        stages += [
            Stage(name, name, "linear_clear", c["NPG"], _ii("linear_clear"), 1),
            Stage(
                name,
                name,
                f"linear_mac: {inputs} {what} x {c['G']}",
                inputs,
                _ii("linear_mac", c),
                a.compute_depth,
            ),
        ]
    if hidden:
        stages.append(
            Stage(name, name, "linear_requant", c["C_OUT"], _ii("linear_requant"), a.requant_depth)
        )
    else:
        stages.append(
            Stage(
                name,
                name,
                "store_logits (m_axi)",
                -(-c["C_OUT"] // 2),
                _ii("store_logits"),
                a.axi_latency,
            )
        )
    if c["K"]:
        proc = f"{name} k-WTA"
        stages += [
            Stage(name, proc, "kwta_clear: histograms", 256, _ii("kwta_clear"), 1),
            Stage(name, proc, "kwta_count: two banks", -(-c["C_OUT"] // 2), _ii("kwta_count"), 2),
            Stage(name, proc, "kwta_scan: threshold", 256, _ii("kwta_scan"), 2),
            Stage(
                name, proc, "kwta_select: winners in index order", c["C_OUT"], _ii("kwta_select"), 2
            ),
        ]
    return stages


def cycles_per_word(layers: list[dict], variant: str, a: Assumptions = AS_WRITTEN) -> Cycles:
    """Cycles per word of a design.

    Args:
        layers: the layer constants of :attr:`compsparse.hls_params.HlsParams.layers` (one dict
            per layer: ``ROWS``, ``G``, ``NPG``, ``K``, ``LANES``...).
        variant: ``"dense"``, ``"sparse-dense"`` or ``"sparse-sparse"``.
        a: the assumptions.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
    first = layers[0]
    n_in = first["C_IN"] * first["H"] * first["W"]
    words = -(-n_in // WORD_BYTES)
    stages = [
        Stage("input", "read_input", "read_input (m_axi)", words, _ii("read_input"), a.axi_latency)
    ]
    names = _names(layers)
    for i, (name, c) in enumerate(zip(names, layers, strict=True)):
        if "KH" in c:
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            stages += _conv_stages(name, c, variant, nxt, a)
        else:
            stages += _linear_stages(name, c, variant, a)
    per_process: dict[str, int] = {}
    layer_of: dict[str, str] = {}
    for s in stages:
        per_process[s.process] = per_process.get(s.process, 0) + s.cycles
        layer_of[s.process] = s.layer
    per_layer: dict[str, int] = {}
    for proc, n in per_process.items():
        per_layer[layer_of[proc]] = max(per_layer.get(layer_of[proc], 0), n)
    bottleneck = max(per_process, key=per_process.get)
    sequential = sum(per_process.values())
    total = per_process[bottleneck] if a.dataflow else sequential
    return Cycles(variant, tuple(stages), per_process, per_layer, total, bottleneck, sequential)


# ---------------------------------------------------------------------------------- resources


def bram18_blocks(width_bits: int, depth: int) -> int:
    """18-Kbit block RAMs for a ``width_bits x depth`` memory, in its cheapest aspect ratio."""
    if width_bits <= 0 or depth <= 0:
        return 0
    return min(-(-width_bits // w) * -(-depth // d) for w, d in BRAM18_SHAPES)


def _mux(n: int) -> int:
    """LUTs per bit of an n-input multiplexer (LUT6: three more inputs per LUT)."""
    return -(-(n - 1) // 3) if n > 1 else 0


class _Tally:
    def __init__(self, a: Assumptions):
        self.a = a
        self.items: list[tuple[str, str, int]] = []

    def add(self, what: str, kind: str, amount: float) -> None:
        if amount:
            self.items.append((what, kind, math.ceil(amount)))

    def memory(self, what: str, width: int, depth: int, banks: int = 1, copies: int = 1):
        """``copies`` x ``banks`` memories of ``width`` bits x ``depth / banks`` words."""
        bank_depth = -(-depth // banks)
        n = copies * banks
        if width * bank_depth <= self.a.lutram_max_bits:
            # distributed RAM: 64 words per LUT per bit, dual-ported (two LUTs)
            self.add(what, "lut", n * 2 * width * -(-bank_depth // 64))
        else:
            self.add(what, "bram18", n * bram18_blocks(width, bank_depth))

    def fifo(self, what: str, width: int, depth: int):
        if depth <= self.a.fifo_srl_depth:
            self.add(what, "lut", width * -(-depth // 32))  # SRL32 shift registers
        else:
            self.memory(what, width, depth)

    def registers(self, what: str, bits: int):
        self.add(what, "ff", bits)


def _conv_resources(t: _Tally, name: str, c: dict, variant: str, nxt: dict | None) -> None:
    a = t.a
    units = c["LANES"] * c["SLICES"]
    sb = c["SUM_BITS"]
    packed = variant != "dense"
    # the packed (or dense) weight memory: one row = G weights (+ ids) in one word
    if c["K_IN"]:
        t.memory(f"{name} packed weights", 8 * c["G"], c["ROWS"], copies=c["COPIES"])
        t.memory(f"{name} kernel ids", c["ID_BITS"] * c["G"], c["ROWS"], copies=c["COPIES"])
    else:
        t.memory(f"{name} weights", 8 * c["G"], c["ROWS"], banks=c["SLICES"])
        if packed:
            t.memory(f"{name} kernel ids", c["ID_BITS"] * c["G"], c["ROWS"], banks=c["SLICES"])
    t.memory(f"{name} bias", 32, c["C_PAD"], banks=c["DRAIN"])
    t.memory(f"{name} multiplier, shift", 38, c["C_PAD"], banks=c["DRAIN"])
    # Multiply: G multipliers per unit; Route and Sum: per group one adder and a multiplexer
    # that reads the accumulator the kernel id names
    t.add(f"{name} int8 multipliers", "dsp", units * c["G"] * a.dsp_per_mul8)
    t.add(f"{name} adders, routing", "lut", units * c["G"] * sb * (1 + _mux(c["NPG"])))
    t.registers(f"{name} accumulators + shadow", 2 * units * c["C_PAD"] * sb)
    # drain: read DRAIN channels of the shadow, add slices and bias, max over lanes and passes
    d = c["DRAIN"]
    t.add(
        f"{name} drain",
        "lut",
        units * d * sb * _mux(c["C_PAD"] // d)
        + d * c["LANES"] * c["SLICES"] * 32
        + d * (c["LANES"] + 1) * 64,
    )
    t.memory(f"{name} pooled maxima", 32, c["C_PAD"], banks=d)
    t.fifo(f"{name} FIFO sums -> requantise", 32 * d, 2)
    # requantise DRAIN channels per cycle
    t.add(f"{name} requantisers", "dsp", d * a.dsp_per_requant)
    t.add(f"{name} requantisers", "lut", d * a.lut_requant)
    t.registers(f"{name} requantised pixel", 8 * c["C_PAD"])
    t.add(f"{name} processes", "lut", (3 if c["K"] else 2) * a.lut_process)
    if c["K"]:  # local k-WTA per pixel
        groups = -(-c["C_OUT"] // 8)
        leaves = 1 << max(0, (groups - 1).bit_length())
        t.fifo(f"{name} FIFO pixels -> k-WTA", 8 * c["C_OUT"], 2)
        t.add(
            f"{name} local k-WTA",
            "lut",
            (groups * SORT8_COMPARATORS + leaves - 1) * a.lut_sort_cell,
        )
        t.registers(f"{name} k-WTA FIFOs", groups * 8 * 17)
    # the output buffer, a ping-pong pair between this layer and the next
    pixels = c["PH"] * c["PW"]
    if nxt is not None and "KH" in nxt:
        if c["K"]:  # winners [PH][PW][K], one bank per (row, column) parity
            t.memory(
                f"{name} winners (ping-pong)", 24, pixels * c["K"], banks=c["POOL"] ** 2, copies=2
            )
        else:  # words of the DRAIN channels written per cycle, a bank per (row, column) parity
            w = 8 * c["DRAIN"]
            t.memory(
                f"{name} activations (ping-pong)",
                w,
                pixels * c["C_OUT"] * 8 // w,
                banks=c["POOL"] ** 2,
                copies=2,
            )
    elif c["K"]:
        t.fifo(f"{name} winner FIFO (a clip)", 24, nxt["K_IN"] if nxt else c["K"] * pixels)
    else:
        t.memory(f"{name} activations (ping-pong)", 8, pixels * c["C_OUT"], copies=2)


def _linear_resources(t: _Tally, name: str, c: dict, variant: str, nxt: dict | None) -> None:
    a = t.a
    sb = c["SUM_BITS"]
    hidden = bool(c["REQUANT"])
    if variant == "dense" and hidden:  # streamed from DDR: 8 lanes
        t.add(f"{name} int8 multipliers", "dsp", WORD_BYTES * a.dsp_per_mul8)
        t.add(f"{name} adders", "lut", WORD_BYTES * sb)
        t.memory(f"{name} accumulators", sb, c["G"], banks=WORD_BYTES)
    else:
        if variant == "dense":
            t.memory(f"{name} weights", 8 * c["G"], c["ROWS"])
        else:
            t.memory(f"{name} packed weights", 8 * c["G"], c["ROWS"])
            t.memory(f"{name} kernel ids", c["ID_BITS"] * c["G"], c["ROWS"])
        share = c["MAC_II"]  # a loop with II 2 uses each multiplier every other cycle
        t.add(f"{name} int8 multipliers", "dsp", -(-c["G"] // share) * a.dsp_per_mul8)
        t.add(f"{name} adders", "lut", c["G"] * sb)
        if c["NPG"] > 1:  # one small memory of NPG sums per group
            t.memory(f"{name} accumulators", sb, c["G"] * c["NPG"], banks=c["G"])
        else:
            t.registers(f"{name} accumulators", c["G"] * sb)
    t.memory(f"{name} bias", 32, c["C_PAD"])
    t.add(f"{name} process", "lut", a.lut_process)
    if hidden:
        t.memory(f"{name} multiplier, shift", 38, c["C_PAD"])
        t.add(f"{name} requantiser", "dsp", a.dsp_per_requant)
        t.add(f"{name} requantiser", "lut", a.lut_requant)
        t.memory(f"{name} activations (ping-pong)", 8, c["C_OUT"], copies=2)
    if c["K"]:
        t.memory(f"{name} histograms", 16, 256, copies=2)
        t.add(f"{name} global k-WTA", "lut", a.lut_kwta_global + a.lut_process)
        t.fifo(f"{name} winner FIFO (a clip)", 24, nxt["K_IN"] if nxt else c["K"])


def resources(layers: list[dict], variant: str, a: Assumptions = AS_WRITTEN) -> Resources:
    """Estimated LUTs, flip-flops, 18-Kbit block RAMs and DSP slices of one instance."""
    t = _Tally(a)
    first = layers[0]
    n_in = first["C_IN"] * first["H"] * first["W"]
    # the input clip: 8 bytes of a bus word into 8 column banks x 2 row banks, ping-pong
    t.memory("input clip (ping-pong)", 8, n_in, banks=2 * WORD_BYTES, copies=2)
    t.add("read_input process", "lut", a.lut_process)
    names = _names(layers)
    for i, (name, c) in enumerate(zip(names, layers, strict=True)):
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        build = _conv_resources if "KH" in c else _linear_resources
        build(t, name, c, variant, nxt)
    t.add("control, AXI adapters", "lut", a.lut_control)
    lut = sum(n for _, kind, n in t.items if kind == "lut")
    t.add("pipeline registers", "ff", a.ff_per_lut * lut)
    total = {"lut": 0, "ff": 0, "bram18": 0, "dsp": 0}
    for _, kind, amount in t.items:
        total[kind] += amount
    return Resources(total["lut"], total["bram18"], total["dsp"], 0, tuple(t.items), total["ff"])


def instances_per_chip(res: Resources, chip: Chip) -> tuple[int, str]:
    """``(instances, the resource that binds)``; 0 instances when one does not fit."""
    limits = {
        "LUT": (chip.lut, res.lut),
        "FF": (chip.ff, res.ff),
        "BRAM": (chip.bram18, res.bram18),
        "DSP": (chip.dsp, res.dsp),
    }
    fits = {
        k: int(chip.usable * have // need) if need else 10**9 for k, (have, need) in limits.items()
    }
    binding = min(fits, key=fits.get)
    return fits[binding], binding


# --------------------------------------------------------------------------------- prediction


@cache
def speech_layers(variant: str, n_per_group: tuple[int, ...] | None = None) -> tuple[dict, ...]:
    """Layer constants of the paper's speech network for a variant (shapes only, no training).

    A seeded random model of the speech network's shape, with the book's sparsity
    (:data:`compsparse.hls_models.PAPER_N_PER_GROUP`, ``PAPER_K``) or another packing
    ``n_per_group`` (kernels per packed kernel of conv1, conv2, linear1, output), through
    :func:`compsparse.hls_params.hls_params`; the constants do not depend on the weights.
    """
    import numpy as np

    from .hls_models import PAPER_N_PER_GROUP, random_model
    from .hls_params import hls_params

    calibration = np.linspace(-80.0, 0.0, 2 * 32 * 32, dtype=np.float32).reshape(2, 32, 32)
    packing = n_per_group or PAPER_N_PER_GROUP
    model = random_model(variant, seed=0, calibration=calibration, n_per_group=packing)
    return tuple(hls_params(model, variant).layers)


def _bytes_per_word(layers: list[dict], variant: str) -> int:
    first, last = layers[0], layers[-1]
    n = first["C_IN"] * first["H"] * first["W"] + 4 * last["C_OUT"]
    if variant == "dense":
        n += sum(c["N_IN"] * c["ROW_BYTES"] for c in layers if "KH" not in c and c["REQUANT"])
    return n


def predict(variant: str, chip: str | Chip, a: Assumptions = AS_WRITTEN, layers=None) -> Prediction:
    """The model's words/s for one design on one chip, single instance and full chip.

    Args:
        variant: the design.
        chip: ``"U250"``, ``"ZU3EG"`` or a :class:`Chip`.
        a: assumptions (:data:`AS_WRITTEN`, :data:`TUNED`, or your own).
        layers: layer constants (default: :func:`speech_layers`).
    """
    chip = CHIPS[chip] if isinstance(chip, str) else chip
    layers = list(layers if layers is not None else speech_layers(variant))
    cyc = cycles_per_word(layers, variant, a)
    clock = a.clock_mhz or chip.clock_mhz
    single = clock * 1e6 / cyc.cycles_per_word
    res = resources(layers, variant, a)
    n, binding = instances_per_chip(res, chip)
    chip_rate = n * single
    cap = chip.ddr_gbps * 1e9 / _bytes_per_word(layers, variant)
    capped = chip_rate > cap
    chip_rate = min(chip_rate, cap)
    return Prediction(
        variant=variant,
        chip=chip.name,
        assumptions=a.name,
        clock_mhz=clock,
        cycles_per_word=cyc.cycles_per_word,
        words_per_s=single,
        resources=res,
        instances=n,
        binding=binding,
        words_per_s_chip=chip_rate,
        bandwidth_capped=capped,
        power_w=chip.rated_power_w,
        power_kind=chip.power_kind,
        words_per_s_per_w=chip_rate / chip.rated_power_w,
        cycles=cyc,
    )


def predict_all(a: Assumptions = AS_WRITTEN, clock_mhz: float | None = None) -> list[Prediction]:
    """:func:`predict` for every design on the U250 and the ZU3EG (optionally at another clock)."""
    if clock_mhz is not None:
        a = replace(a, clock_mhz=clock_mhz)
    return [predict(v, chip, a) for chip in CHIPS for v in VARIANTS]


def paper_scaling() -> dict[str, float]:
    """Full-chip words/s per instance over single-instance words/s on the U250 (paper, Tables
    2 and 3): 1.0 would be linear scaling."""
    from . import paper

    single = {
        r["network"]: r["words_per_s"]
        for r in paper.table("table2_single_network")
        if r["fpga"] == "U250"
    }
    return {
        r["network"]: r["words_per_s"] / r["networks_on_chip"] / single[r["network"]]
        for r in paper.table("table3_full_chip")
    }
