"""The one switch for steps that need Xilinx tools or an FPGA board.

Everything else in compsparse runs anywhere. Code that needs a vendor tool or a board asks here
first and, when the answer is no, skips visibly with the reason returned.
"""

from __future__ import annotations

import os
import shutil
import warnings

VITIS_TOOLS = ("vitis_hls", "vitis-run", "vivado", "v++")


def vitis_available() -> tuple[bool, str]:
    """Return (True, tool names found) or (False, why not): are Xilinx tools on PATH?"""
    found = [tool for tool in VITIS_TOOLS if shutil.which(tool)]
    if found:
        return True, ", ".join(found)
    return (
        False,
        f"none of {', '.join(VITIS_TOOLS)} is on PATH (source Vitis/Vivado 2022.1 settings64.sh)",
    )


def board_available() -> tuple[bool, str]:
    """Return (True, device name) or (False, why not): can pynq reach an FPGA here?

    Set ``COMPSPARSE_NO_BOARD=1`` to answer no without importing pynq.
    """
    if os.environ.get("COMPSPARSE_NO_BOARD") == "1":
        return False, "COMPSPARSE_NO_BOARD=1"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pynq
    except ImportError:
        return False, "pynq is not installed (pip install 'compsparse[fpga]' on the board image)"
    except Exception as exc:  # pynq raises various errors on machines it does not support
        return False, f"pynq failed to import: {exc}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            devices = pynq.Device.devices
    except Exception as exc:
        return False, f"pynq found no device: {exc}"
    if not devices:
        return False, "pynq found no device (not on a PYNQ board, or XRT not sourced for Alveo)"
    return True, str(getattr(devices[0], "name", devices[0]))
