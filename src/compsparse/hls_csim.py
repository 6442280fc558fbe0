"""``python -m compsparse hls-csim``: the HLS C simulation against the numpy integer pipeline.

Runs clips through a variant's HLS top (built with g++, :mod:`compsparse.fpga.csim`) and through
:class:`~compsparse.quant.QuantModel`, and compares every byte: the int8 inputs, the int32
logits of every clip, and for one clip every intermediate of every layer (accumulators, pooled
accumulators, requantised outputs, k-WTA winners). Exits 1 and prints the first difference on
any mismatch.

Book: chapter "HLS" (book/10_hls.ipynb).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field

import numpy as np

from .hls_params import VARIANTS
from .quant import QuantModel

__all__ = ["TEST_CLIPS", "CsimReport", "compare", "csim_summary"]

#: Embedded test clips per variant that `make test` compares (and the command's default).
TEST_CLIPS = 200

HELP = "run clips through the HLS C simulation and the numpy integer pipeline; compare bytes"


@dataclass
class CsimReport:
    """What :func:`compare` checked.

    Attributes:
        variant: the top that ran.
        n_clips: clips compared (inputs and logits).
        n_values: values compared in all (input bytes, logits, layer intermediates).
        layer_arrays: names of the intermediates compared for the one clip (``"conv1.acc"``...).
        mismatches: number of values that differ.
        first_difference: a sentence naming the first one, or ``""``.
        csim_seconds: wall time of the C simulation of all clips (one call).
    """

    variant: str
    n_clips: int = 0
    n_values: int = 0
    layer_arrays: list[str] = field(default_factory=list)
    mismatches: int = 0
    first_difference: str = ""
    csim_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def check(self, what: str, got: np.ndarray, want: np.ndarray) -> None:
        """Compare one array (same shape), counting values and mismatches."""
        got, want = np.asarray(got), np.asarray(want)
        if got.shape != want.shape:
            self.mismatches += max(got.size, want.size)
            if not self.first_difference:
                self.first_difference = f"{what}: C++ shape {got.shape}, numpy shape {want.shape}"
            return
        self.n_values += int(want.size)
        bad = np.argwhere(got != want)
        self.mismatches += len(bad)
        if len(bad) and not self.first_difference:
            at = tuple(int(i) for i in bad[0])
            self.first_difference = (
                f"{what}{list(at)}: C++ {got[at]}, numpy {want[at]} "
                f"({len(bad)} of {want.size} values differ)"
            )


def compare(
    design,
    features=None,
    *,
    quantized=None,
    layer_clip: int | None = 0,
    report: CsimReport | None = None,
) -> CsimReport:
    """Run inputs through a :class:`~compsparse.fpga.csim.CsimDesign` and its model; compare.

    Args:
        design: the C-simulation design (its ``model`` is the golden model).
        features: float ``(n, h, w)`` features (quantised by the C++ host code and by numpy,
            and the two int8 inputs compared), or
        quantized: int8 inputs ``(n, *input_shape)`` (e.g. extreme values).
        layer_clip: which clip to compare layer by layer (``None``: none).
        report: add to this report instead of a new one.

    Returns:
        :class:`CsimReport`.
    """
    model: QuantModel = design.model
    rep = report or CsimReport(design.variant)
    if quantized is None:
        x = np.asarray(features, dtype=np.float32)
        xq_c = design.quantize(x).reshape(len(x), *model.input_shape)
        xq = model.quantize(x).reshape(len(x), *model.input_shape)
        rep.check("input", xq_c, xq)
    else:
        xq = np.asarray(quantized, dtype=np.int8).reshape(-1, *model.input_shape)
    start = time.perf_counter()
    got = design.infer_quantized(xq)
    rep.csim_seconds += time.perf_counter() - start
    rep.check("logits", got, model.logits(xq, quantized=True))
    rep.n_clips += len(xq)
    if layer_clip is not None and len(xq):
        mine = design.layer_outputs(xq[layer_clip], quantized=True)
        golden = model.forward_layers(xq[layer_clip], quantized=True)
        for layer, m, g in zip(model.layers, mine, golden, strict=True):
            for what, array in m.items():
                want = g.active.to_dense() if what == "active" else getattr(g, what)
                name = f"clip {layer_clip} {layer.name}.{what}"
                rep.check(name, array, want)
                rep.layer_arrays.append(f"{layer.name}.{what}")
    return rep


def csim_summary(n_clips: int = 16, variants=VARIANTS, models=None) -> list[dict]:
    """Check each variant on the first ``n_clips`` embedded test clips (the HLS chapter's table).

    Args:
        models: ``{variant: model}`` (folder, QuantModel or "random"); default: the exported
            models where they exist, else random ones.

    Returns:
        one dict per variant: ``variant``, ``top``, ``model`` (where it came from), ``design``
        (the :class:`~compsparse.fpga.csim.CsimDesign`), ``report`` (:class:`CsimReport`) and
        ``ms_per_clip`` (C simulation).
    """
    from concurrent.futures import ThreadPoolExecutor

    from .fpga.csim import CsimDesign
    from .hls_models import resolve_model, speech_features

    features = speech_features("test", n_clips)
    resolved = {v: resolve_model(v, (models or {}).get(v)) for v in variants}
    # g++ runs outside the GIL: build the libraries two at a time
    with ThreadPoolExecutor(max_workers=2) as pool:
        designs = list(pool.map(lambda v: CsimDesign(resolved[v][0], v), variants))
    rows = []
    for v, design in zip(variants, designs, strict=True):
        rep = compare(design, features)
        rows.append(
            dict(
                variant=v,
                top=design.params.top,
                model=resolved[v][1],
                design=design,
                report=rep,
                ms_per_clip=1000 * rep.csim_seconds / rep.n_clips,
            )
        )
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--n", type=int, default=TEST_CLIPS, help="embedded test clips to compare")
    parser.add_argument(
        "--model",
        default=None,
        help="exported model folder, or 'random' (default: data/models/VARIANT if it exists)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of a random model")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    from .fpga.csim import CsimDesign, CsimError
    from .hls_models import resolve_model, speech_features

    if args.n < 1:
        print("hls-csim: --n must be at least 1")
        return 2
    try:
        features = speech_features("test", args.n)
    except FileNotFoundError as e:
        print(f"hls-csim: the embedded test split is missing: {e}")
        return 2
    if len(features) < args.n:
        print(f"hls-csim: the embedded test split has {len(features)} clips, fewer than {args.n}")
        return 2
    try:
        model, source = resolve_model(args.variant, args.model, seed=args.seed)
        start = time.perf_counter()
        design = CsimDesign(model, args.variant)
    except (FileNotFoundError, ValueError, OverflowError, CsimError) as e:
        print(f"hls-csim: {e}")
        return 2
    if tuple(model.input_shape[1:]) != features.shape[1:]:
        print(
            f"hls-csim: the model takes {model.input_shape} inputs, the embedded clips are "
            f"{features.shape[1:]}: pass a model of the speech network"
        )
        return 2
    build = time.perf_counter() - start
    rep = compare(design, features)
    per_clip_ms = 1000 * rep.csim_seconds / rep.n_clips
    if args.json:
        doc = dict(
            variant=args.variant,
            model=source,
            n_clips=rep.n_clips,
            n_values=rep.n_values,
            mismatches=rep.mismatches,
            first_difference=rep.first_difference,
            csim_ms_per_clip=round(per_clip_ms, 3),
            build_or_load_seconds=round(build, 3),
        )
        print(json.dumps(doc, indent=1))
    if not rep.ok:
        print(f"hls-csim {args.variant}: MISMATCH, first difference: {rep.first_difference}")
        return 1
    if not args.json:
        print(
            f"hls-csim {args.variant} ({design.params.top}, {source}): {rep.n_clips} embedded "
            f"test clips, {rep.n_values:,} values (inputs, logits, and clip 0's "
            f"{len(rep.layer_arrays)} layer arrays) bit-exact; C simulation "
            f"{per_clip_ms:.1f} ms per clip"
        )
    return 0
