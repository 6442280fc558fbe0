"""Running the HLS designs: C simulation (g++ through ctypes) here, the FPGA boards elsewhere.

``compsparse.fpga.csim`` builds the kernels of ``hls/`` with g++ and calls them on numpy
arrays. Submodules import only numpy and the standard library at import time.

Book: chapter "HLS" (book/10_hls.ipynb).
"""

# The driver (compsparse.fpga.driver): one interface, backends csim / zynq / alveo. pynq is
# imported only when a board backend opens. Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
from .driver import BACKENDS, Accelerator, Check, choose_backend, open_design
from .errors import (
    DesignFilesError,
    DesignMismatchError,
    FpgaError,
    FpgaTimeoutError,
    NoDeviceError,
)

__all__ = [
    "BACKENDS",
    "Accelerator",
    "Check",
    "DesignFilesError",
    "DesignMismatchError",
    "FpgaError",
    "FpgaTimeoutError",
    "NoDeviceError",
    "choose_backend",
    "open_design",
]
