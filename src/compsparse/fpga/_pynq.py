"""pynq, imported only when a board backend opens, and its failures turned into clear errors.

Shared by :mod:`compsparse.fpga.zynq` and :mod:`compsparse.fpga.alveo`. Every function takes the
pynq module as an argument, so tests can drive the board code paths with a stand-in.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

import warnings

import numpy as np

from .errors import DesignMismatchError, FpgaError, NoDeviceError

__all__ = [
    "PYNQ_VERSION",
    "find_ips",
    "import_pynq",
    "load_overlay",
    "one_device",
    "resolve_ip",
    "word_buffers",
]

#: The pynq release both board images use (the last that drives Alveo cards).
PYNQ_VERSION = "3.0.1"

_WHERE = {
    "zynq": "run on the Ultra96-V2 with the PYNQ 3.0.1 image (Avnet image v3.0.1)",
    "alveo": (
        "install XRT and a U250 shell, `source /opt/xilinx/xrt/setup.sh` before starting "
        "Python, and check that `xbutil examine` lists the card"
    ),
}


def import_pynq(backend: str):
    """``import pynq`` (its import-time warnings silenced), or :class:`NoDeviceError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pynq
    except ImportError as e:
        raise NoDeviceError(
            f"pynq is not installed ({e}): the {backend} backend needs pynq {PYNQ_VERSION} "
            f"(pip install 'compsparse[fpga]'); {_WHERE[backend]}, or use backend='csim'"
        ) from e
    version = getattr(pynq, "__version__", "?")
    if version != PYNQ_VERSION:
        warnings.warn(
            f"pynq {version} is installed; this driver was written for pynq {PYNQ_VERSION} "
            f"(pynq 3.1+ no longer drives Alveo cards)",
            stacklevel=3,
        )
    return pynq


def one_device(pynq, backend: str):
    """pynq's active device, checked to be of the backend's kind."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            devices = list(pynq.Device.devices)
    except Exception as e:  # pynq raises several kinds of errors off a board
        raise NoDeviceError(f"pynq could not list devices ({e}): {_WHERE[backend]}") from e
    if not devices:
        raise NoDeviceError(
            f"pynq found no FPGA on this machine: {_WHERE[backend]}; elsewhere use "
            f"backend='csim' (C simulation of the same HLS sources)"
        )
    device = devices[0]
    kind = type(device).__name__
    if backend == "zynq" and "Xrt" in kind:
        raise DesignMismatchError(
            f"pynq found an Alveo card ({getattr(device, 'name', kind)}), not a Zynq board: "
            f"use backend='alveo' with an .xclbin"
        )
    if backend == "alveo" and "Embedded" in kind:
        raise DesignMismatchError(
            "pynq found a Zynq board, not an Alveo card: use backend='zynq' with a .bit/.hwh"
        )
    return device


def load_overlay(pynq, path, backend: str, **kwargs):
    """``pynq.Overlay(path)`` with its errors named."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pynq.Overlay(str(path), **kwargs)
    except RuntimeError as e:
        if "No Devices Found" in str(e):
            raise NoDeviceError(
                f"pynq: No Devices Found while loading {path}: "
                f"{_WHERE[backend]}, or use backend='csim'"
            ) from e
        raise FpgaError(
            f"pynq could not load {path} ({e}): check that it was built for this "
            f"{'board' if backend == 'zynq' else 'card and shell'} with the 2022.1 tools"
        ) from e


def find_ips(ip_dict: dict, top: str) -> list[str]:
    """Names of the ``ip_dict`` entries that are instances of the HLS top ``top``, sorted."""
    found = []
    for name, desc in ip_dict.items():
        vlnv = str(desc.get("type", ""))
        parts = vlnv.split(":")
        component = parts[2] if len(parts) == 4 else vlnv
        if component == top:
            found.append(name)
    return sorted(found)


def resolve_ip(overlay, name: str):
    """The driver object of ``name`` (``"hier/cs_x_0"`` walks the hierarchy)."""
    obj = overlay
    for part in name.split("/"):
        obj = getattr(obj, part)
    return obj


def word_buffers(n_clips: int, n_in: int, n_out: int):
    """Shapes of one batch's buffers in the m_axi layout of the tops (64-bit words):
    input int8 ``(n, 8 * ceil(n_in / 8))``, logits int32 ``(n, 2 * ceil(n_out / 2))``."""
    in_bytes = -(-n_in // 8) * 8
    out_ints = -(-n_out // 2) * 2
    return (n_clips, in_bytes), np.int8, (n_clips, out_ints), np.int32
