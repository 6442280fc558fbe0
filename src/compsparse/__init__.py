"""compsparse: Complementary Sparsity, explained and reproduced.

The reference implementation behind the compsparse book. The five steps::

    import compsparse as cs
    masks = cs.complementary_masks(64, (64, 5, 5), n_per_group=16, seed=0)   # Combine (offline)
    P = cs.pack(weights * masks, n_per_group=16)
    a = cs.kwta(x, k=8, axis=0)                                              # Select
    y = cs.conv2d(a, P)                                                      # Multiply, Route, Sum

The core (``packing``, ``kwta``, ``ops``, ``quant``, ``export``, ``fpga``, ``paper``) imports numpy
alone, so it runs on a PYNQ board image as well as in the book.
"""

from .costmodel import Macs, conv2d_macs, linear_macs
from .dense import dense_conv2d, dense_linear
from .kwta import SparseActivation, kwta
from .kwta_hw import kwta_histogram, kwta_sorting_network
from .ops import conv2d, linear
from .packing import (
    PackedKernels,
    collisions,
    complementary_masks,
    complementary_masks_by_importance,
    pack,
    packing_efficiency,
)
from .trace import StepTrace, trace_conv2d, trace_linear

__version__ = "0.1.0"

__all__ = [
    "Macs",
    "PackedKernels",
    "SparseActivation",
    "StepTrace",
    "collisions",
    "complementary_masks",
    "complementary_masks_by_importance",
    "conv2d",
    "conv2d_macs",
    "dense_conv2d",
    "dense_linear",
    "kwta",
    "kwta_histogram",
    "kwta_sorting_network",
    "linear",
    "linear_macs",
    "pack",
    "packing_efficiency",
    "trace_conv2d",
    "trace_linear",
]
