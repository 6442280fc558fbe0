"""A performance model of the HLS designs: cycles per word, instances per chip, words per second.

This is a model, not a measurement. It reads the loop structure of the three HLS tops
(``hls/kernels/cs_*.cpp`` and the layer templates in ``hls/include/``) and counts clock cycles
per word (one one-second clip) from each loop's trip count, initiation interval (II) and
iteration latency; the trip counts come from the generated layer constants
(:func:`compsparse.hls_params.hls_params`: ``ROWS``, ``G``, ``NPG``, ``K``, ``PORTS``,
``CHUNKS``...). A resource estimate of one instance (block RAM, DSP slices, LUTs) then gives the
number of instances that fit a chip. Nothing here was checked against Vitis HLS reports: no
Xilinx tool ran where this was written, and the paper's resource numbers and clocks were not
found. Every rule below is an assumption, and :class:`Assumptions` holds each one as a
parameter.

Cycle rules (``Assumptions`` field in brackets):

* A pipelined loop of ``trips`` iterations takes ``(trips - 1) * II + depth`` cycles, where
  ``depth`` is one iteration's latency: ``compute_depth`` for multiply-accumulate loops,
  ``requant_depth`` for requantisation, ``axi_latency`` for loops that read or write DDR
  through an m_axi port (the latency setting Vitis HLS assumes for m_axi ports by default).
* II is the pragma's (1 everywhere in the kernels) unless a memory forbids it: a loop that
  touches ``A`` words of one RAM bank per iteration needs ``II >= ceil(A / ram_ports)``, and a
  read-modify-write at an address known only at run time (a histogram bin, an accumulator named
  by a kernel id) needs ``II >= rmw_ii``. Arrays are split only as the ARRAY_PARTITION pragmas
  say (``partition_as_pragmas``); the linear layers' accumulator pragmas are read from the tops
  in ``hls/kernels/`` (:func:`accumulator_pragmas`), so the model follows edits to them.
* Loops without a PIPELINE or UNROLL pragma (initialising and max-pooling the accumulators,
  copying a pixel's channels) run one iteration per cycle (``serial_small_loops``); otherwise
  they are taken as unrolled into one cycle.
* The tops run their layers one after another, so a word costs the sum of all loops; with
  ``overlap_layers`` (a hypothetical DATAFLOW top) the interval between words is the slowest
  layer's time.
* Words per second of one instance = clock / cycles per word, at the clock the build scripts
  target (``hls/boards/``: 200 MHz on the ZU3EG, 300 MHz on the U250) unless ``clock_mhz``
  says otherwise; whether a design meets it is for Vivado to say. Host calls and transfers are
  amortised over a large batch and not counted.

Resource rules: every array on chip is mapped to 18-Kbit block RAMs in the aspect ratio that
needs fewest (or to LUT RAM below ``lutram_max_bits``); the tops name no URAM, so none is used.
One DSP slice per int8 multiplier (``dsp_per_mul8``), ``dsp_per_requant`` per 32x32-bit
requantisation multiplier; a loop whose II is above 1 shares its multipliers and routing
adders over the II cycles (HLS allocates operators per II window). LUTs count the datapath
only: one LUT per adder bit, the gating of each routed product (``lut_gate``), each
compare-and-swap cell of a sorting network (``lut_sort_cell``), plus a fixed allowance for
control and the AXI adapters (``lut_control``). Instances per chip = the smallest
``floor(usable * available / used)`` over LUT, BRAM and DSP, where ``usable`` leaves room for
the platform shell, interconnect and routing (Vitis documentation counts 10 % for system
infrastructure alone; UG1393, "Determining Where to Place the Kernels"). Full-chip words/s =
instances x single-instance words/s, capped by the board's DDR bandwidth for the bytes each
word moves. The paper measured sub-linear scaling (see ``paper_scaling``); this model does not
predict it.

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
    "accumulator_pragmas",
    "bram18_blocks",
    "cycles_per_word",
    "instances_per_chip",
    "paper_scaling",
    "predict",
    "predict_all",
    "resources",
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
    requant_depth: int = 6
    axi_latency: int = 64
    ram_ports: int = 2
    rmw_ii: int = 2
    partition_as_pragmas: bool = True
    serial_small_loops: bool = True
    overlap_layers: bool = False
    lutram_max_bits: int = 1024
    dsp_per_mul8: int = 1
    dsp_per_requant: int = 4
    lut_gate: int = 16
    lut_sort_cell: int = 50
    lut_kwta_global: int = 400
    lut_requant: int = 200
    lut_control: int = 4000

    def describe(self) -> list[str]:
        """The assumptions as sentences, for the chapter."""
        small = "one iteration per cycle" if self.serial_small_loops else "unrolled (1 cycle)"
        part = (
            "arrays split only as the pragmas say"
            if self.partition_as_pragmas
            else "accumulators and histogram split so no memory port limits II"
        )
        clock = (
            f"clock {self.clock_mhz:g} MHz"
            if self.clock_mhz
            else "the build scripts' clocks (ZU3EG 200 MHz, U250 300 MHz)"
        )
        return [
            clock,
            f"iteration latency: {self.compute_depth} cycles (MAC), {self.requant_depth} "
            f"(requantise), {self.axi_latency} (m_axi)",
            f"{self.ram_ports} ports per RAM bank; data-dependent read-modify-write II "
            f"{self.rmw_ii}; {part}",
            f"loops without pragmas: {small}",
            "layers overlapped (DATAFLOW)" if self.overlap_layers else "layers one after another",
            f"1 DSP per int8 multiplier, {self.dsp_per_requant} per requantisation multiplier",
            f"LUTs: datapath + {self.lut_control} for control and AXI",
        ]


#: The kernels as they are written in hls/.
AS_WRITTEN = Assumptions()
#: What three changes to the tops would give (hypothetical): loops over register arrays
#: unrolled, the accumulators and histogram partitioned, the layers overlapped with DATAFLOW.
TUNED = Assumptions(
    name="tuned tops (hypothetical)",
    serial_small_loops=False,
    partition_as_pragmas=False,
    overlap_layers=True,
)


@dataclass(frozen=True)
class Chip:
    """An FPGA and the board it sits on.

    Attributes:
        name: the paper's name of the FPGA (``"U250"``, ``"ZU3EG"``).
        board, part: the board and the part number the HLS scripts target.
        lut, bram18, dsp, uram: the device's resources (Xilinx product tables).
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


CHIPS = {
    "U250": Chip(
        "U250",
        "Alveo U250",
        "xcu250-figd2104-2L-e",
        lut=1_728_000,
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
        layer: ``"input"``, a layer name (``"conv1"``...) or ``"logits"``.
        what: the loop (function and role).
        trips: iterations per call; ii: initiation interval; depth: one iteration's latency.
        calls: calls per word.
    """

    layer: str
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
        variant: the design; stages: every loop; per_layer: cycles per layer (in order).
        cycles_per_word: the interval between words (sum, or the slowest layer when overlapped).
    """

    variant: str
    stages: tuple[Stage, ...]
    per_layer: dict[str, int]
    cycles_per_word: int


@dataclass(frozen=True)
class Resources:
    """One instance's estimated resources; ``items`` lists (what, resource, amount)."""

    lut: int
    bram18: int
    dsp: int
    uram: int = 0
    items: tuple[tuple[str, str, int], ...] = ()


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


# ------------------------------------------------------------------------------------- cycles


def _serial(layer: str, what: str, iters: int, calls: int, a: Assumptions) -> Stage:
    """A loop without pragmas over a small register array."""
    if a.serial_small_loops:
        return Stage(layer, what, max(1, iters), 1, 1, calls)
    return Stage(layer, what, 1, 1, 1, calls)


def _ports_ii(accesses: int, a: Assumptions) -> int:
    return max(1, math.ceil(accesses / a.ram_ports)) if a.partition_as_pragmas else 1


def _engine(variant: str, c: dict) -> str:
    if variant == "dense":
        return "dense"
    return "sparse-sparse" if variant == "sparse-sparse" and c["K_IN"] > 0 else "sparse-dense"


_PARTITION = re.compile(
    r"ARRAY_PARTITION\s+variable=(acc\d)\s+type=(\w+)(?:\s+factor=(\d+))?\s+dim=(\d+)"
)


@cache
def accumulator_pragmas(variant: str) -> dict[str, tuple[str, int, int]]:
    """``{"acc3": (type, factor, dim), ...}``: the ARRAY_PARTITION pragmas of the linear layers'
    accumulators in ``hls/kernels/cs_<variant>.cpp`` (``$COMPSPARSE_HLS`` or the repository's).

    Without the sources (an installed package), every accumulator is taken as fully
    partitioned (``("complete", 0, 0)``).
    """
    root = os.environ.get("COMPSPARSE_HLS")
    hls = Path(root) if root else Path(__file__).resolve().parents[2] / "hls"
    path = hls / "kernels" / f"cs_{variant.replace('-', '_')}.cpp"
    if not path.is_file():
        return {}
    found = {}
    for name, kind, factor, dim in _PARTITION.findall(path.read_text()):
        found[name] = (kind, int(factor or 0), int(dim))
    return found


def _acc_storage(c: dict, variant: str, a: Assumptions) -> tuple[str, int]:
    """How a linear layer's ``acc[G][NPG]`` is stored: ``("registers", 0)``,
    ``("group banks", G)`` (one RAM of NPG words per group) or ``("cyclic banks", factor)``."""
    if not a.partition_as_pragmas:
        return "registers", 0
    kind, factor, dim = accumulator_pragmas(variant).get(f"acc{c['INDEX'] + 1}", ("complete", 0, 0))
    if kind == "complete" and dim == 0:
        return "registers", 0
    if kind == "complete" and dim == 1:
        return "group banks", c["G"]
    return "cyclic banks", factor or 1


def _mac_ii(c: dict, variant: str, a: Assumptions) -> int:
    """II of a layer's multiply-accumulate loop (1 unless an accumulator memory forbids it)."""
    if "KH" in c:
        return 1  # conv accumulators are fully partitioned registers
    storage, _ = _acc_storage(c, variant, a)
    engine = _engine(variant, c)
    if storage != "group banks":
        # registers; or the dense engine's cyclic banks, one accumulator per bank per cycle
        return 1
    if engine == "sparse-dense":
        # each product updates the entry its kernel id names: a data-dependent
        # read-modify-write of the group's RAM
        return a.rmw_ii
    if engine == "sparse-sparse" and c["NPG"] > 1:
        # route_parallel reads and writes all NPG accumulators of every group each cycle
        return _ports_ii(2 * c["NPG"], a)
    return 1


def _kwta_local(name: str, c: dict, calls: int, a: Assumptions) -> list[Stage]:
    groups = -(-c["C_OUT"] // 8)
    leaves = 1 << max(0, (groups - 1).bit_length())
    return [
        # sort_groups is unrolled: every channel is read from the pixel's y buffer (one RAM)
        Stage(
            name,
            "kwta_local: read and sort (8-input networks)",
            _ports_ii(c["C_OUT"], a),
            1,
            SORT8_LAYERS + 1,
            calls,
        ),
        Stage(
            name,
            "kwta_local: pop winners (comparator tree)",
            c["K"],
            1,
            max(1, leaves.bit_length()),
            calls,
        ),
        _serial(name, "emit: write the winners", c["K"], calls, a),
    ]


def _conv_stages(name: str, c: dict, variant: str, a: Assumptions) -> list[Stage]:
    pixels = c["PH"] * c["PW"]
    outs = pixels * c["POOL"] ** 2
    engine = _engine(variant, c)
    trips = c["KH"] * c["KW"] * c["CHUNKS"] if engine == "sparse-sparse" else c["ROWS"]
    mac = f"mac_{engine.replace('-', '_')}"
    if engine == "sparse-sparse":
        mac += f" ({c['PORTS']} ports)"
    stages = [
        _serial(name, "init_pool", c["C_PAD"], pixels, a),
        _serial(name, "init_acc (bias)", c["C_PAD"], outs, a),
        Stage(name, mac, trips, 1, a.compute_depth, outs),
        _serial(name, "pool_max", c["C_PAD"], outs, a),
        Stage(name, "requant_pixel", c["C_OUT"], 1, a.requant_depth, pixels),
    ]
    if c["K"]:
        stages += _kwta_local(name, c, pixels, a)
    else:
        stages.append(_serial(name, "emit (dense)", c["C_OUT"], pixels, a))
    return stages


def _linear_stages(name: str, c: dict, variant: str, a: Assumptions) -> list[Stage]:
    hidden = bool(c["REQUANT"])
    engine = _engine(variant, c)
    stages = [Stage(name, "init_acc_linear", c["C_PAD"], 1, 2)]
    if engine == "dense":
        words = c["ROW_BYTES"] // WORD_BYTES
        stages.append(
            Stage(name, "linear_dense (weights from DDR)", words, 1, a.axi_latency, c["N_IN"])
        )
    elif engine == "sparse-dense":
        ii = _mac_ii(c, variant, a)
        stages.append(Stage(name, "linear_sparse_dense", c["N_IN"], ii, a.compute_depth))
    else:
        ii = _mac_ii(c, variant, a)
        stages.append(
            Stage(
                name, f"linear_sparse_sparse ({c['PORTS']} ports)", c["CHUNKS"], ii, a.compute_depth
            )
        )
    if hidden:
        stages.append(Stage(name, "requant_vector", c["C_OUT"], 1, a.requant_depth))
    else:
        stages.append(
            Stage("logits", "store_logits (m_axi)", -(-c["C_OUT"] // 2), 1, a.axi_latency)
        )
    if c["K"]:
        ii = a.rmw_ii if a.partition_as_pragmas else 1
        stages += [
            Stage(name, "kwta_global: clear histogram", 256, 1, 1),
            Stage(name, "kwta_global: count", c["C_OUT"], ii, 2),
            Stage(name, "kwta_global: threshold scan", 256, 1, 2),
            Stage(name, "kwta_global: select", c["C_OUT"], 1, 2),
        ]
    return stages


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


def cycles_per_word(layers: list[dict], variant: str, a: Assumptions = AS_WRITTEN) -> Cycles:
    """Cycles per word of a design.

    Args:
        layers: the layer constants of :attr:`compsparse.hls_params.HlsParams.layers` (one dict
            per layer: ``ROWS``, ``G``, ``NPG``, ``K``, ``PORTS``...).
        variant: ``"dense"``, ``"sparse-dense"`` or ``"sparse-sparse"``.
        a: the assumptions.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
    first = layers[0]
    n_in = first["C_IN"] * first["H"] * first["W"]
    stages = [Stage("input", "read_input (m_axi)", -(-n_in // WORD_BYTES), 1, a.axi_latency)]
    for name, c in zip(_names(layers), layers, strict=True):
        build = _conv_stages if "KH" in c else _linear_stages
        stages += build(name, c, variant, a)
    per_layer: dict[str, int] = {}
    for s in stages:
        per_layer[s.layer] = per_layer.get(s.layer, 0) + s.cycles
    total = max(per_layer.values()) if a.overlap_layers else sum(per_layer.values())
    return Cycles(variant, tuple(stages), per_layer, total)


# ---------------------------------------------------------------------------------- resources


def bram18_blocks(width_bits: int, depth: int) -> int:
    """18-Kbit block RAMs for a ``width_bits x depth`` memory, in its cheapest aspect ratio."""
    if width_bits <= 0 or depth <= 0:
        return 0
    return min(-(-width_bits // w) * -(-depth // d) for w, d in BRAM18_SHAPES)


def _memory(items: list, name: str, width: int, depth: int, a: Assumptions, copies: int = 1):
    if width * depth <= a.lutram_max_bits:
        luts = copies * 2 * width * -(-depth // 64)  # dual-port distributed RAM, 64 deep per LUT
        items.append((name, "lut", luts))
    else:
        items.append((name, "bram18", copies * bram18_blocks(width, depth)))


def _route_lanes(c: dict, a: Assumptions) -> int:
    """LUTs of parallel routing: per accumulator, PORTS gated products, an adder tree, the sum."""
    per_acc = c["PORTS"] * a.lut_gate + (c["PORTS"] - 1) * 20 + 32
    return c["G"] * c["NPG"] * per_acc


def resources(layers: list[dict], variant: str, a: Assumptions = AS_WRITTEN) -> Resources:
    """Estimated LUTs, 18-Kbit block RAMs and DSP slices of one instance of a design."""
    items: list[tuple[str, str, int]] = []
    first = layers[0]
    n_in = first["C_IN"] * first["H"] * first["W"]
    _memory(items, "input clip x0", 8, n_in, a)
    names = _names(layers)
    for i, (name, c) in enumerate(zip(names, layers, strict=True)):
        engine = _engine(variant, c)
        conv = "KH" in c
        copies = c["COPIES"] if engine == "sparse-sparse" else 1
        rows = c["ROWS"]
        if engine == "dense":
            if conv:
                _memory(items, f"{name} weights", 8 * c["G"], rows, a)
        else:
            _memory(items, f"{name} packed weights", 8 * c["G"], rows, a, copies)
            _memory(items, f"{name} kernel ids", c["ID_BITS"] * c["G"], rows, a, copies)
        _memory(items, f"{name} bias", 32, c["C_PAD"], a)
        if c["REQUANT"]:
            _memory(items, f"{name} multiplier", 32, c["C_PAD"], a)
            _memory(items, f"{name} shift", 6, c["C_PAD"], a)
        # multipliers; a loop with II > 1 can share its operators over the II cycles
        share = _mac_ii(c, variant, a)
        if engine == "dense":
            muls = c["G"] if conv else WORD_BYTES
        elif engine == "sparse-dense":
            muls = c["G"]
        else:
            muls = c["PORTS"] * c["G"]
        items.append((f"{name} int8 multipliers", "dsp", -(-muls // share) * a.dsp_per_mul8))
        if c["REQUANT"]:
            items.append((f"{name} requantisation", "dsp", a.dsp_per_requant))
            items.append((f"{name} requantisation", "lut", a.lut_requant))
        # accumulate and route
        if engine == "dense":
            lanes = c["G"] if conv else WORD_BYTES
            items.append((f"{name} accumulators", "lut", 32 * lanes))
        elif engine == "sparse-dense":
            npg = c["NPG"]
            mux = 32 * -(-npg // 4) + npg if npg > 1 and conv else 0  # serial routing muxes
            items.append((f"{name} serial routing", "lut", -(-c["G"] * (32 + mux) // share)))
        else:
            items.append((f"{name} parallel routing", "lut", -(-_route_lanes(c, a) // share)))
        # buffers between layers and k-WTA
        if conv and c["K"]:
            groups = -(-c["C_OUT"] // 8)
            leaves = 1 << max(0, (groups - 1).bit_length())
            cells = groups * SORT8_COMPARATORS + leaves - 1
            items.append((f"{name} local k-WTA", "lut", cells * a.lut_sort_cell))
        if conv:
            n_act = c["C_OUT"] * c["PH"] * c["PW"]
            if c["K"] and i == 0:
                _memory(items, f"{name} winners", 24, c["PH"] * c["PW"], a, c["K"])
            elif c["K"]:
                _memory(items, f"{name} winner FIFO", 24, layers[i + 1]["K_IN"], a)
            else:
                _memory(items, f"{name} activations", 8, n_act, a)
        elif c["REQUANT"]:
            storage, banks = _acc_storage(c, variant, a)
            if storage == "cyclic banks":
                depth = -(-c["G"] * c["NPG"] // banks)
                _memory(items, f"{name} accumulators", 32, depth, a, banks)
            elif storage == "group banks":
                _memory(items, f"{name} accumulators", 32, c["NPG"], a, c["G"])
            _memory(items, f"{name} activations", 8, c["C_OUT"], a)
            if c["K"]:
                _memory(items, f"{name} histogram", 16, 256, a)
                items.append((f"{name} global k-WTA", "lut", a.lut_kwta_global))
                _memory(items, f"{name} winner FIFO", 24, layers[i + 1]["K_IN"], a)
    items.append(("control, AXI adapters", "lut", a.lut_control))
    total = {"lut": 0, "bram18": 0, "dsp": 0}
    for _, kind, amount in items:
        total[kind] += amount
    return Resources(total["lut"], total["bram18"], total["dsp"], 0, tuple(items))


def instances_per_chip(res: Resources, chip: Chip) -> tuple[int, str]:
    """``(instances, the resource that binds)``; 0 instances when one does not fit."""
    limits = {
        "LUT": (chip.lut, res.lut),
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
def speech_layers(variant: str) -> tuple[dict, ...]:
    """Layer constants of the paper's speech network for a variant (shapes only, no training).

    A seeded random model of the speech network's shape, with the book's sparsity
    (:data:`compsparse.hls_models.PAPER_N_PER_GROUP`, ``PAPER_K``), through
    :func:`compsparse.hls_params.hls_params`; the constants do not depend on the weights.
    """
    import numpy as np

    from .hls_models import random_model
    from .hls_params import hls_params

    calibration = np.linspace(-80.0, 0.0, 2 * 32 * 32, dtype=np.float32).reshape(2, 32, 32)
    model = random_model(variant, seed=0, calibration=calibration)
    return tuple(hls_params(model, variant).layers)


def _bytes_per_word(layers: list[dict], variant: str) -> int:
    first, last = layers[0], layers[-1]
    n = first["C_IN"] * first["H"] * first["W"] + 4 * last["C_OUT"]
    if variant == "dense":
        n += sum(c["N_IN"] * c["ROW_BYTES"] for c in layers if "KH" not in c)
    return n


def predict(variant: str, chip: str | Chip, a: Assumptions = AS_WRITTEN, layers=None) -> Prediction:
    """The model's words/s for one design on one chip, single instance and full chip.

    Args:
        variant: the design.
        chip: ``"U250"``, ``"ZU3EG"`` or a :class:`Chip`.
        a: assumptions (:data:`AS_WRITTEN` or :data:`TUNED`, or your own).
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
