"""``python -m compsparse make-speech``: synthesise the speech set and write its compact form.

Book: chapter "Speech data".

Renders every clip with espeak-ng into ``--out`` in the Google Speech Commands layout, then
featurises it with the same loader readers use on the real GSC and writes ``--compact`` (by
default ``data/embedded/``: ``gsc_synth.npz``, ``manifest.json``, ``samples/``). Same seed, same
espeak-ng, same features (``manifest.json`` records their checksum).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

HELP = "synthesise the embedded speech set with espeak-ng (GSC layout + compact features)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("data/cache/gsc_synth"),
        help="folder for the clips in the GSC layout (default: data/cache/gsc_synth)",
    )
    parser.add_argument(
        "--compact",
        type=Path,
        default=Path("data/embedded"),
        help="folder for the compact features and manifest (default: data/embedded); '-' to skip",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--per-class",
        type=int,
        nargs=3,
        default=(500, 100, 100),
        metavar=("TRAIN", "VALIDATION", "TEST"),
        help="clips per class and split",
    )
    parser.add_argument("--scheme", choices=("digits", "commands"), default="digits")
    parser.add_argument("--jobs", type=int, default=2, help="parallel espeak-ng processes")
    parser.add_argument("--force", action="store_true", help="replace an earlier --out folder")
    parser.add_argument("--bench-json", type=Path, help="also write timings to this JSON file")


def _prepare_out(out: Path, force: bool) -> str | None:
    """Return an error message, or None when ``out`` is ready to be written."""
    if not out.exists() or not any(out.iterdir()):
        return None
    if not (out / "README.txt").is_file() or "espeak-ng" not in (out / "README.txt").read_text():
        return f"{out} exists and was not made by make-speech; choose an empty --out folder"
    if not force:
        return f"{out} already holds a synthetic set; pass --force to replace it"
    shutil.rmtree(out)  # ours (README.txt marker): stale clips would otherwise be loaded
    return None


def run(args: argparse.Namespace) -> int:
    from .embedded import build_compact
    from .synth import (
        GENERATOR_VERSION,
        VARIANTS,
        espeak_version,
        noise_bank,
        plan_clips,
        write_gsc_layout,
    )
    from .wavio import SpeechDataError

    try:
        version = espeak_version()
    except SpeechDataError as exc:
        print(f"make-speech: {exc}", file=sys.stderr)
        return 1
    problem = _prepare_out(args.out, args.force)
    if problem:
        print(f"make-speech: {problem}", file=sys.stderr)
        return 1
    per_class = tuple(args.per_class)
    t0 = time.perf_counter()
    clips = plan_clips(args.seed, per_class, args.scheme)
    bank = noise_bank(args.seed)
    write_gsc_layout(args.out, clips, bank, jobs=args.jobs)
    t_synth = time.perf_counter() - t0
    print(
        f"synthesised {len(clips)} clips into {args.out} in {t_synth:.1f} s "
        f"({len(clips) / t_synth:.0f} clips/s, espeak-ng {version})"
    )
    timings = {"synthesis_s": t_synth, "clips_synthesised": len(clips)}
    if str(args.compact) != "-":
        generator = {
            "command": "python -m compsparse make-speech "
            f"--seed {args.seed} --per-class {' '.join(map(str, per_class))} "
            f"--scheme {args.scheme}",
            "generator_version": GENERATOR_VERSION,
            "espeak_ng": version,
            "per_class": list(per_class),
            "variants": len(VARIANTS),
        }
        t0 = time.perf_counter()
        manifest = build_compact(
            args.out,
            args.compact,
            seed=args.seed,
            scheme=args.scheme,
            generator=generator,
            progress=True,
        )
        t_feat = time.perf_counter() - t0
        n = sum(s["clips"] for s in manifest["splits"].values())
        print(
            f"featurised {n} clips in {t_feat:.1f} s ({n / t_feat:.0f} clips/s, reading "
            f"wavs included) into {args.compact}"
        )
        for split, s in manifest["splits"].items():
            print(
                f"  {split:<10} {s['clips']:>5} clips, {s['speakers']:>3} voices, "
                f"per class {sorted(set(s['per_class'].values()))}"
            )
        timings.update(featurise_s=t_feat, clips_featurised=n)
    if args.bench_json:
        if str(args.compact) != "-":
            os.environ["COMPSPARSE_EMBEDDED"] = str(args.compact)  # time what was just written
            timings.update(_bench_loading())
        args.bench_json.parent.mkdir(parents=True, exist_ok=True)
        args.bench_json.write_text(json.dumps(timings, indent=1) + "\n")
        print(f"timings in {args.bench_json}")
    return 0


def _bench_loading() -> dict:
    """Median seconds to load the embedded train split and to make one augmented epoch."""
    import statistics

    import numpy as np

    from . import _load, augmented_split, load_split
    from .embedded import _load_embedded
    from .features import log_mel

    out = {}
    samples = []
    for _ in range(5):
        _load_embedded.cache_clear()
        _load.cache_clear()
        t0 = time.perf_counter()
        load_split("embedded", "train")
        samples.append(time.perf_counter() - t0)
    out["load_split_train_s"] = statistics.median(samples)
    X, _ = load_split("embedded", "train")
    samples = []
    for epoch in range(5):
        t0 = time.perf_counter()
        augmented_split("embedded", "train", epoch=epoch, seed=0)
        samples.append(time.perf_counter() - t0)
    out["augmented_epoch_s"] = statistics.median(samples)
    out["train_clips"] = len(X)
    audio = np.random.default_rng(0).standard_normal((1000, 16000)).astype(np.float32) * 0.1
    samples = []
    for _ in range(3):
        t0 = time.perf_counter()
        log_mel(audio)
        samples.append(time.perf_counter() - t0)
    out["log_mel_clips_per_s"] = 1000 / statistics.median(samples)
    return out
