"""``python -m compsparse figure NAME --out FILE``: draw one of the book's figures to a file."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HELP = "draw one of the book's figures to a file"


def _readme():
    """Five 5x5 kernels at 80% sparsity packed into one dense kernel (the paper's Figure 4a)."""
    from ..packing import complementary_masks, pack
    from .packing import draw_packing

    masks = complementary_masks(5, (5, 5), n_per_group=5, seed=4)
    weights = masks * np.random.default_rng(4).uniform(0.5, 1.0, masks.shape)
    return draw_packing(pack(weights, 5))


FIGURES = {"readme": _readme}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=sorted(FIGURES), help="which figure")
    parser.add_argument("--out", type=Path, required=True, help="image file (.png, .svg, .pdf)")
    parser.add_argument("--dpi", type=int, default=150)


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    fig = FIGURES[args.name]()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=args.dpi, bbox_inches="tight", metadata={"Software": None})
    print(f"wrote {args.out}")
    return 0
