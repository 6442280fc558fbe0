"""Running the HLS designs: C simulation (g++ through ctypes) here, the FPGA boards elsewhere.

``compsparse.fpga.csim`` builds the kernels of ``hls/`` with g++ and calls them on numpy
arrays. Submodules import only numpy and the standard library at import time.

Book: chapter "HLS" (book/10_hls.ipynb).
"""
