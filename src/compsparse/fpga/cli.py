"""``python -m compsparse fpga``: manifests, board runs with records, and the performance model.

::

    python -m compsparse fpga manifest --variant sparse-sparse --backend zynq \\
        --bitstream cs_sparse_sparse.bit [--model data/models/sparse-sparse] [--clock-mhz 200]
    python -m compsparse fpga run --variant sparse-sparse --backend zynq \\
        --bitstream cs_sparse_sparse.bit [--words 4096] [--repeats 5]
    python -m compsparse fpga predict [--clock-mhz 200]

``run`` checks the design against the integer pipeline on real clips, measures one instance
and (when the design holds several) all of them, and appends one record per measurement to
``data/fpga/runs.jsonl`` (``csim_runs.jsonl`` for the csim backend); ``--no-record`` only
prints.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

import argparse
import json

HELP = "FPGA designs: write a design manifest, run and record throughput, print the model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    m = sub.add_parser("manifest", help="write <bitstream>.design.json beside a built design")
    m.add_argument("--variant", required=True, choices=("dense", "sparse-dense", "sparse-sparse"))
    m.add_argument("--backend", required=True, choices=("zynq", "alveo"))
    m.add_argument("--bitstream", required=True, help="the built .bit or .xclbin")
    m.add_argument(
        "--model",
        default=None,
        help="the model the design was built for "
        "(default: data/models/VARIANT, else the seeded random model)",
    )
    m.add_argument("--clock-mhz", type=float, default=None)
    m.add_argument("--instances", type=int, default=1, help="copies of the top in the design")
    m.add_argument("--platform", default=None, help="Alveo platform (default: the U250's)")
    r = sub.add_parser("run", help="check, measure and record a design")
    r.add_argument("--variant", required=True, choices=("dense", "sparse-dense", "sparse-sparse"))
    r.add_argument(
        "--backend",
        default=None,
        help="csim, zynq, alveo or auto (default: $COMPSPARSE_FPGA_BACKEND, else csim)",
    )
    r.add_argument("--bitstream", default=None, help="the .bit or .xclbin (board backends)")
    r.add_argument("--model", default=None)
    r.add_argument("--words", type=int, default=4096, help="clips per timed batch")
    r.add_argument("--repeats", type=int, default=5)
    r.add_argument("--warmup", type=int, default=1)
    r.add_argument("--check-clips", type=int, default=64, help="embedded test clips to compare")
    r.add_argument("--timeout", type=float, default=10.0, help="seconds beyond the expected")
    r.add_argument("--no-record", action="store_true", help="print, do not append a record")
    r.add_argument("--note", default="", help="free text stored with the records")
    p = sub.add_parser("predict", help="print the performance model's numbers")
    p.add_argument("--clock-mhz", type=float, default=None)
    p.add_argument(
        "--tuned", action="store_true", help="hypothetical: two int8 products per DSP slice"
    )


def _model(variant: str, model):
    from ..hls_models import resolve_model

    return resolve_model(variant, model)


def run(args: argparse.Namespace) -> int:
    if args.action == "manifest":
        return _manifest(args)
    if args.action == "predict":
        return _predict(args)
    return _run(args)


def _manifest(args) -> int:
    from ..hls_params import hls_params
    from .manifest import make_manifest, write_manifest

    model, source = _model(args.variant, args.model)
    params = hls_params(model, args.variant, source=source)
    manifest = make_manifest(
        params,
        args.bitstream,
        args.backend,
        clock_mhz=args.clock_mhz,
        instances=args.instances,
        platform=args.platform,
    )
    path = write_manifest(manifest, args.bitstream)
    print(
        f"{path}: {params.top} (configuration {params.config_id}, model {source}), "
        f"sha256 {manifest['bitstream_sha256'][:16]}..."
    )
    return 0


def _predict(args) -> int:
    from .. import perfmodel as pm

    a = pm.TUNED if args.tuned else pm.AS_WRITTEN
    print(f"model ({a.name}); assumptions: " + "; ".join(a.describe()))
    for p in pm.predict_all(a, clock_mhz=args.clock_mhz):
        if not p.instances:
            r = p.resources
            print(
                f"{p.chip:6} {p.variant:14} does not fit: {r.lut:,} LUT, {r.bram18} BRAM18, "
                f"{r.dsp} DSP per instance ({p.binding} binds)"
            )
            continue
        print(
            f"{p.chip:6} {p.variant:14} {p.cycles_per_word:>9,} cycles/word "
            f"{p.words_per_s:>10,.0f} words/s  x{p.instances:<3} ({p.binding}) "
            f"{p.words_per_s_chip:>11,.0f} words/s  {p.words_per_s_per_w:>8,.1f} words/s/W "
            f"({p.power_w:g} W {p.power_kind})"
        )
    return 0


def _run(args) -> int:
    from ..hls_models import test_inputs
    from . import open_design
    from .records import append_record, make_record, runs_path

    model, source = _model(args.variant, args.model)
    kwargs = {"bitstream": args.bitstream} if args.bitstream else {}
    if kwargs or (args.backend or "").lower() not in ("", "csim"):
        kwargs["timeout_s"] = args.timeout
    with open_design(model, args.variant, args.backend, **kwargs) as acc:
        acc.source = source
        xq, clips = test_inputs(model, args.check_clips)
        check = acc.check(xq, quantized=True)
        print(
            f"{acc.params.top} on {acc.backend} ({acc.board}): {clips}: "
            f"{'bit-exact' if check.bit_exact else f'{check.mismatched_clips} clips differ'}"
        )
        if not check.bit_exact:
            print("the design's outputs differ from the integer pipeline: nothing recorded")
            return 1
        counts = sorted({1, acc.n_instances})
        for n in counts:
            result = acc.throughput(
                n_words=max(args.words, n), n_instances=n, repeats=args.repeats, warmup=args.warmup
            )
            rec = make_record(acc.describe(), result, check, note=args.note)
            power = (
                f"{result.power.watts:.2f} W {result.power.kind} ({result.power.source})"
                if result.power.watts
                else "no power reading"
            )
            print(
                f"  {n} instance(s): {result.words_per_s:,.1f} words/s (quartiles "
                f"{result.words_per_s_p25:,.1f}-{result.words_per_s_p75:,.1f}), end to end "
                f"{result.words_per_s_end_to_end:,.1f}; {power}"
            )
            if result.mismatches:
                print(
                    f"  {result.mismatches} timed clips differ from the integer pipeline: "
                    f"not recorded"
                )
                return 1
            if args.no_record:
                print("  " + json.dumps(rec)[:200] + "...")
            else:
                path = append_record(rec, runs_path(acc.backend))
                print(f"  recorded in {path}")
    return 0
