"""The files of a built design, and the checks made before one is loaded on a board.

A design for a board is three files with one base name::

    cs_sparse_sparse.bit           Ultra96-V2: the bitstream
    cs_sparse_sparse.hwh           Ultra96-V2: Vivado's hardware handoff (register offsets)
    cs_sparse_sparse.xclbin        Alveo U250: the bitstream and its metadata
    cs_sparse_sparse.design.json   both: what it was built for (this module writes it)

The manifest (``.design.json``) records the variant, the layer constants and parameter-blob
size of the ``cs_config.h`` the design was synthesised with (:mod:`compsparse.hls_params`), the
board, part or platform, clock, tool versions, and the bitstream's sha256. Before a model is
loaded the driver compares it with the model's own constants, so a model of another shape
fails with the first constant that differs instead of computing garbage on the board.

Imports the standard library and numpy only.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

import hashlib
import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from .errors import DesignFilesError, DesignMismatchError

__all__ = [
    "MANIFEST_SUFFIX",
    "TARGETS",
    "DesignFiles",
    "build_hint",
    "check_model",
    "check_part",
    "check_sha256",
    "design_path",
    "hwh_system_info",
    "locate",
    "make_manifest",
    "read_manifest",
    "sha256_file",
    "write_manifest",
]

MANIFEST_SUFFIX = ".design.json"
MANIFEST_SCHEMA = 1

#: What each board backend expects. ``keyword`` must appear in the board's or card's name.
TARGETS = {
    "zynq": {
        "board": "Ultra96-V2",
        "chip": "ZU3EG",
        "part": "xczu3eg-sbva484-1-i",
        "platform": None,
        "image": "PYNQ 3.0.1 (Avnet's Ultra96-V2 image v3.0.1)",
        "tools": {"vivado": "2022.1", "vitis_hls": "2022.1"},
        "folder": "hls/boards/ultra96v2",
        "make": "make -C hls/boards/ultra96v2 VARIANT={variant}",
        "output": "hls/build/ultra96v2/cs_{variant}.bit (and .hwh)",
        "suffix": ".bit",
        "keyword": "ultra96",
    },
    "alveo": {
        "board": "Alveo U250",
        "chip": "U250",
        "part": "xcu250-figd2104-2L-e",
        "platform": "xilinx_u250_gen3x16_xdma_4_1_202210_1",
        "image": "pynq 3.0.1 with XRT (source /opt/xilinx/xrt/setup.sh first)",
        "tools": {"vitis": "2022.1", "vitis_hls": "2022.1"},
        "folder": "hls/boards/u250",
        "make": "make -C hls/boards/u250 VARIANT={variant}",
        "output": "hls/build/u250/hw/cs_<top>.xclbin",
        "suffix": ".xclbin",
        "keyword": "u250",
    },
}


def build_hint(backend: str, variant: str = "VARIANT") -> str:
    """How to make the design files for a board backend (a sentence for error messages)."""
    t = TARGETS[backend]
    tools = ", ".join(f"{k} {v}" for k, v in t["tools"].items())
    return (
        f"build it on a machine with {tools} with the scripts in {t['folder']}/ "
        f"(`{t['make'].format(variant=variant)}` writes {t['output'].format(variant=variant)}), "
        f"then write its manifest with `python -m compsparse fpga manifest --variant {variant} "
        f"--model MODEL --bitstream FILE{t['suffix']} --backend {backend}`, and copy the files "
        f"to the {t['board']} together"
    )


def design_path(backend: str, variant: str, folder=".") -> Path:
    """Where the board scripts of ``hls/boards/`` put a design, under ``folder``:
    ``cs_<variant>.bit`` (Ultra96-V2; its ``.hwh`` beside it) or ``cs_<top>.xclbin`` (U250)."""
    if backend not in TARGETS:
        raise ValueError(f"board backends are {sorted(TARGETS)}, got {backend!r}")
    name = f"cs_{variant}.bit" if backend == "zynq" else f"cs_{variant.replace('-', '_')}.xclbin"
    return Path(folder) / name


def sha256_file(path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class DesignFiles:
    """The located files of one design: ``bitstream`` (.bit or .xclbin), ``hwh`` (Zynq only),
    ``manifest_path`` and the parsed ``manifest``."""

    backend: str
    bitstream: Path
    hwh: Path | None
    manifest_path: Path
    manifest: dict


def locate(bitstream, backend: str) -> DesignFiles:
    """Find and read a design's files; raise :class:`DesignFilesError` naming what is missing.

    Args:
        bitstream: the ``.bit`` (zynq) or ``.xclbin`` (alveo), or its base name without suffix.
        backend: ``"zynq"`` or ``"alveo"``.
    """
    if backend not in TARGETS:
        raise ValueError(f"board backends are {sorted(TARGETS)}, got {backend!r}")
    suffix = TARGETS[backend]["suffix"]
    if bitstream is None:
        raise DesignFilesError(
            f"no bitstream given: pass bitstream='path/cs_VARIANT{suffix}' (or set "
            f"COMPSPARSE_BITSTREAM); to get one, {build_hint(backend)}"
        )
    path = Path(bitstream)
    if path.suffix != suffix:
        if path.suffix in (".bit", ".xclbin", ".hwh"):
            raise DesignFilesError(
                f"{path.name}: the {backend} backend loads a {suffix} file, not {path.suffix}"
                + (" (use backend='alveo' for an .xclbin)" if path.suffix == ".xclbin" else "")
                + (" (use backend='zynq' for a .bit)" if path.suffix == ".bit" else "")
            )
        path = path.with_name(path.name + suffix)
    if not path.is_file():
        raise DesignFilesError(f"{path} does not exist: {build_hint(backend)}")
    hwh = None
    if backend == "zynq":
        hwh = path.with_suffix(".hwh")
        if not hwh.is_file():
            raise DesignFilesError(
                f"{hwh.name} is missing beside {path.name}: pynq reads the register offsets from "
                f"the hardware handoff. Copy it from the Vivado project "
                f"(<project>.gen/sources_1/bd/<design>/hw_handoff/<design>.hwh) under the "
                f"bitstream's base name"
            )
    manifest_path = path.with_name(path.stem + MANIFEST_SUFFIX)
    if not manifest_path.is_file():
        raise DesignFilesError(
            f"{manifest_path.name} is missing beside {path.name}: it says which model shapes "
            f"the design was built for. Write it with `python -m compsparse fpga manifest "
            f"--variant VARIANT --model MODEL --bitstream {path.name} --backend {backend}`"
        )
    return DesignFiles(backend, path, hwh, manifest_path, read_manifest(manifest_path))


def make_manifest(
    params,
    bitstream,
    backend: str,
    clock_mhz: float | None = None,
    instances: int = 1,
    tools: dict | None = None,
    platform: str | None = None,
) -> dict:
    """The manifest of a built design.

    Args:
        params: the :class:`~compsparse.hls_params.HlsParams` the design was synthesised with.
        bitstream: path of the built ``.bit`` / ``.xclbin`` (its sha256 is recorded).
        backend: ``"zynq"`` or ``"alveo"``.
        clock_mhz: the kernel clock the design was built for.
        instances: copies of the top in the design (compute units).
        tools: tool versions (default: the versions the board image needs).
        platform: Alveo platform (default: the U250 platform of :data:`TARGETS`).
    """
    t = TARGETS[backend]
    return {
        "schema": MANIFEST_SCHEMA,
        "variant": params.variant,
        "top": params.top,
        "config_id": params.config_id,
        "param_bytes": int(params.blob.size),
        "n_in": params.n_in,
        "n_out": params.n_out,
        "layers": [dict(c) for c in params.layers],
        "backend": backend,
        "board": t["board"],
        "part": t["part"],
        "platform": platform if platform is not None else t["platform"],
        "clock_mhz": clock_mhz,
        "instances": int(instances),
        "tools": dict(tools) if tools else dict(t["tools"]),
        "bitstream": Path(bitstream).name,
        "bitstream_sha256": sha256_file(bitstream),
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_manifest(manifest: dict, bitstream) -> Path:
    """Write ``<bitstream base>.design.json`` beside the bitstream."""
    path = Path(bitstream).with_name(Path(bitstream).stem + MANIFEST_SUFFIX)
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return path


def read_manifest(path) -> dict:
    """Read and sanity-check a manifest."""
    try:
        manifest = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise DesignMismatchError(f"{path} is not valid JSON ({e}): rewrite it") from e
    missing = [k for k in ("variant", "config_id", "param_bytes", "layers") if k not in manifest]
    if missing:
        raise DesignMismatchError(
            f"{path} lacks {missing}: rewrite it with `python -m compsparse fpga manifest`"
        )
    return manifest


_WHAT = {
    "C_IN": "input channels",
    "C_OUT": "output channels / units",
    "N_IN": "inputs",
    "KH": "kernel height",
    "KW": "kernel width",
    "H": "input height",
    "W": "input width",
    "NPG": "kernels per packed kernel",
    "G": "packed kernels",
    "K": "k-WTA winners",
    "K_IN": "winners arriving",
    "PORTS": "weight-memory read ports",
    "POOL": "pooling window",
}


def check_model(params, manifest: dict) -> None:
    """Raise :class:`DesignMismatchError` if the model's design constants differ from the
    manifest's, naming the first difference and the two ways to fix it."""
    fix = (
        "export a model of the design's shape (python -m compsparse export), or rebuild the "
        "design for this model (make -C hls hls MODEL=<model folder>, then the board scripts)"
    )
    if params.variant != manifest["variant"]:
        raise DesignMismatchError(
            f"the design is {manifest['variant']!r} but the model was prepared for "
            f"{params.variant!r}: load the {params.variant} bitstream, or choose "
            f"variant={manifest['variant']!r} with a model of that kind"
        )
    if params.config_id == manifest["config_id"]:
        return
    names = ["conv1", "conv2", "linear1", "output"]
    theirs = manifest["layers"]
    if len(theirs) != len(params.layers):
        raise DesignMismatchError(
            f"the design has {len(theirs)} layers, the model {len(params.layers)}: {fix}"
        )
    for i, (mine, built) in enumerate(zip(params.layers, theirs, strict=True)):
        keys = [k for k in _WHAT if k in mine or k in built] + sorted(set(mine) | set(built))
        for key in keys:
            if mine.get(key) != built.get(key):
                name = names[i] if i < len(names) else f"layer {i}"
                what = _WHAT.get(key, "offset or size in the parameter blob")
                raise DesignMismatchError(
                    f"{name}: the design was built for {key} = {built.get(key)} ({what}), "
                    f"the model has {key} = {mine.get(key)}: {fix}"
                )
    if int(params.blob.size) != int(manifest["param_bytes"]):
        raise DesignMismatchError(
            f"the parameter blob has {params.blob.size} bytes, the design expects "
            f"{manifest['param_bytes']}: {fix}"
        )
    raise DesignMismatchError(
        f"the model's configuration {params.config_id} differs from the design's "
        f"{manifest['config_id']} (input or output size): {fix}"
    )


def check_sha256(files: DesignFiles, expected: str | None = None) -> str:
    """The bitstream's sha256, checked against the manifest's (and ``expected`` if given)."""
    digest = sha256_file(files.bitstream)
    recorded = files.manifest.get("bitstream_sha256")
    for what, want in (("the manifest", recorded), ("the expected value", expected)):
        if want and want.lower() != digest:
            raise DesignMismatchError(
                f"{files.bitstream.name} has sha256 {digest[:16]}..., {what} says "
                f"{want[:16]}...: the file was rebuilt, replaced or corrupted. Copy the "
                f"bitstream that belongs to {files.manifest_path.name}, or rewrite the manifest "
                f"for this bitstream (python -m compsparse fpga manifest)"
            )
    return digest


def hwh_system_info(path) -> dict:
    """The ``SYSTEMINFO`` attributes of a ``.hwh`` (``DEVICE``, ``PACKAGE``, ``SPEEDGRADE``,
    ``BOARD``...), or ``{}`` if it has none. Raises :class:`DesignFilesError` if unreadable."""
    try:
        for _, element in ET.iterparse(str(path), events=("start",)):
            if element.tag == "SYSTEMINFO":
                return dict(element.attrib)
    except ET.ParseError as e:
        raise DesignFilesError(
            f"{path} is not a readable hardware handoff ({e}): copy it again from the Vivado "
            f"project"
        ) from e
    return {}


def check_part(files: DesignFiles) -> str | None:
    """Compare the ``.hwh``'s device with the manifest's part; returns the part found."""
    if files.hwh is None:
        return None
    info = hwh_system_info(files.hwh)
    device = info.get("DEVICE")
    if not device:
        return None
    part = device + (f"-{info['PACKAGE']}" if info.get("PACKAGE") else "")
    want = files.manifest.get("part") or TARGETS[files.backend]["part"]
    if not want.lower().startswith(device.lower()):
        raise DesignMismatchError(
            f"{files.hwh.name} describes a design for {part}, the manifest says {want}: this "
            f"bitstream was built for another part; rebuild it for {want} with Vivado 2022.1"
        )
    return part
