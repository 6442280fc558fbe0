"""The errors of the FPGA driver. Every message names the problem and what to do about it.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

__all__ = [
    "DesignFilesError",
    "DesignMismatchError",
    "FpgaError",
    "FpgaTimeoutError",
    "NoDeviceError",
]


class FpgaError(RuntimeError):
    """A design could not be loaded or run on an FPGA backend."""


class NoDeviceError(FpgaError):
    """pynq is missing, or found no FPGA (not on a board image, or XRT not sourced)."""


class DesignFilesError(FpgaError, FileNotFoundError):
    """A file of the design is missing: the ``.bit``, its ``.hwh``, the ``.xclbin`` or the
    design manifest (``<name>.design.json``)."""


class DesignMismatchError(FpgaError, ValueError):
    """The model, the board or the bitstream does not match what the design was built for."""


class FpgaTimeoutError(FpgaError, TimeoutError):
    """The hardware did not signal ``ap_done`` in time."""
