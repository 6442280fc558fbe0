"""Run by tests/test_board_image.py under Python 3.10 with numpy 1.21 and nothing else installed,
as on a PYNQ 3.0.1 board image. Exercises the numpy-only core; extend it as the core grows."""

import sys

import numpy as np

import compsparse as cs

rng = np.random.default_rng(0)
masks = cs.complementary_masks(8, (4, 3, 3), 4, seed=0)
weights = (rng.integers(-127, 128, masks.shape) * masks).astype(np.int8)
P = cs.pack(weights, 4)
x = rng.integers(-128, 128, (4, 6, 6)).astype(np.int8)
dense = cs.conv2d(x, P)
sparse = cs.conv2d(cs.kwta(x, 2, axis=0), P)
assert dense.dtype == np.int64 and dense.shape == (8, 4, 4) and sparse.shape == (8, 4, 4)
W = (rng.integers(-127, 128, (6, 10)) * cs.complementary_masks(6, 10, 3, seed=1)).astype(np.int8)
assert np.array_equal(cs.linear(rng.integers(0, 9, 10), cs.pack(W, 3)).shape, (6,))
heavy = {"torch", "scipy", "matplotlib", "numba"} & set(sys.modules)
assert not heavy, f"the core imported {heavy}"
print(f"ok: python {sys.version.split()[0]}, numpy {np.__version__}")
