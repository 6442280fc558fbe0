"""``compsparse.fast``: a compiled Complementary Sparsity engine for CPUs (numba).

The FPGA of the paper reads one packed weight per packed kernel for each selected activation and
routes the products in its wiring. On a CPU the same idea needs a layout where one selected
activation reads one *contiguous row* (:mod:`.layout`, converted once at load time) and loops
whose innermost step runs over contiguous memory (:mod:`.kernels`, :mod:`.select`). The whole
speech network runs as one compiled call per word (:class:`FastNet`), on one thread or, at
batch 1, shared by several (:mod:`.parallel`).

* :class:`FastNet` -- the speech network, int8 (bit-exact with :mod:`compsparse.quant`) or
  float32, built from a :class:`~compsparse.quant.QuantModel` or
  :class:`~compsparse.export.FloatModel`.
* :func:`linear`, :func:`conv2d`, :func:`kwta`, :func:`maxpool` -- drop-in compiled versions of
  the numpy reference, equal to it (exactly for integers).

Importing this module imports numba (``pip install compsparse[fast]``); ``import compsparse``
does not. The first call of each kernel compiles it (seconds); compiled code is cached on disk
next to the sources.

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

from .api import conv2d, kwta, linear, maxpool
from .net import SIMD_LANES, FastNet

__all__ = ["SIMD_LANES", "FastNet", "conv2d", "kwta", "linear", "maxpool"]
