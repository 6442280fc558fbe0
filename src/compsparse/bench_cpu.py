"""``python -m compsparse bench``: the CPU engine against dense PyTorch, per layer and network.

For batch 1 and batch 64 (``--batch``), per layer and for the whole speech network, all
candidates of a row are timed in one interleaved loop (:mod:`.bench_cpu_cases` builds them):
dense PyTorch float32 at 1 thread and at ``--threads``, PyTorch with CSR weights, the numpy
reference, and ``compsparse.fast`` sparse-dense and sparse-sparse in float32 and int8. Reported
per candidate: median, quartiles, time per word, speed-up over the faster dense PyTorch of the
same row (the baseline), the ideal speed-up from MAC counts and the fraction of it reached, and
for the network words/s per core. Also the weight memory packed against dense, the first-call
compile time of the engine from an empty cache, and the machine's load.

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .benchtools import machine_info

HELP = "time the CPU engine (compsparse.fast) against dense PyTorch, per layer and network"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("data/results/cpu_bench.json"))
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 64], help="batch sizes")
    parser.add_argument("--repeats", type=int, default=15, help="timed samples per candidate")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="threads for PyTorch and for the engine at batch > 1",
    )
    parser.add_argument(
        "--models",
        type=Path,
        default=None,
        help="folder with <variant>/model.json (default data/models)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small run for the book build: 5 repeats, no numpy reference at "
        "batch > 1, no cold-compile measurement",
    )
    parser.add_argument("--seed", type=int, default=0)


def time_candidates(
    cands: dict, repeats: int, warmup: int = 2, min_time: float = 0.01, slow_s: float = 0.25
) -> dict:
    """Round-robin timing of ``{name: callable}``; per candidate median and quartiles (s/call).

    Each sample repeats the call to last about ``min_time``. A candidate slower than ``slow_s``
    per call takes part in only as many rounds as fit ``repeats * slow_s`` (at least 3), so a
    slow reference does not stretch the run; it is still interleaved with the others.
    """
    calls, rounds = {}, {}
    for name, fn in cands.items():
        for _ in range(warmup):
            fn()
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        calls[name] = max(1, int(min_time / once))
        rounds[name] = repeats if once < slow_s else max(3, int(repeats * slow_s / once))
    samples: dict[str, list[float]] = {name: [] for name in cands}
    for r in range(repeats):
        for name, fn in cands.items():
            if r >= rounds[name]:
                continue
            n = calls[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - start) / n)
    return {
        name: {
            "median_s": float(np.median(s)),
            "p25_s": float(np.percentile(s, 25)),
            "p75_s": float(np.percentile(s, 75)),
            "repeats": len(s),
            "calls_per_sample": calls[name],
        }
        for name, s in samples.items()
    }


def summarize(row: dict, timings: dict) -> dict:
    """Attach speed-ups, ideal speed-ups and words/s to the timings of one row."""
    macs, batch = row["macs"], row["batch"]
    ideal = {
        "dense": 1.0,
        "csr": macs["dense"] / macs["sparse_dense"],
        "sparse-dense": macs["dense"] / macs["sparse_dense"],
        "sparse-sparse": macs["dense"] / macs["sparse_sparse"],
    }
    torch_dense = [n for n in timings if n.startswith("torch dense float32")]
    base = min(torch_dense, key=lambda n: timings[n]["median_s"])
    out = {}
    for name, t in timings.items():
        meta = row["candidates"][name][1]
        entry = dict(t, **meta)
        entry["per_word_s"] = t["median_s"] / batch
        entry["speedup"] = timings[base]["median_s"] / t["median_s"]
        entry["ideal_speedup"] = ideal[meta["path"]]
        entry["fraction_of_ideal"] = entry["speedup"] / entry["ideal_speedup"]
        if row["scope"] == "network":
            entry["words_per_s"] = batch / t["median_s"]
            entry["words_per_s_per_core"] = entry["words_per_s"] / meta["threads"]
        out[name] = entry
    return {
        "scope": row["scope"],
        "name": row["name"],
        "batch": batch,
        "macs": macs,
        "ideal_speedup": {k: v for k, v in ideal.items() if k != "dense"},
        "baseline": base,
        "candidates": out,
    }


def memory(models) -> dict:
    """Weight bytes per layer: dense and packed (int8 and float32), and each CPU layout's."""
    from .fast import FastNet

    f_ss, q_ss = models[0], models[1]
    result = {}
    for mode, make in (
        ("int8", lambda s: FastNet.from_quant(q_ss, s)),
        ("float32", lambda s: FastNet.from_float(f_ss, s)),
    ):
        nets = {s: make(s) for s in ("routed", "rows")}
        for name, b in nets["routed"].weight_bytes.items():
            entry = result.setdefault(name, {})
            entry[mode] = dict(
                b,
                layout_routed=nets["routed"].layout_bytes[name],
                layout_rows=nets["rows"].layout_bytes[name],
            )
    result["network"] = {
        mode: {k: sum(v[mode][k] for v in result.values()) for k in result["conv1"][mode]}
        for mode in ("int8", "float32")
    }
    return result


_COMPILE = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from compsparse.bench_models import speech_models
from compsparse.fast import FastNet
t_import = time.perf_counter() - t0
q, f, _ = speech_models("sparse-sparse", folder="/nonexistent")
x = np.zeros((1, 32, 32), np.float32)
out = {"import_s": t_import}
for mode, net in (("int8", FastNet.from_quant(q)), ("float32", FastNet.from_float(f))):
    t0 = time.perf_counter()
    net.logits(x)
    out[mode + "_first_call_s"] = time.perf_counter() - t0
print(json.dumps(out))
"""


def compile_times() -> dict:
    """First-call time of the whole-network engine from an empty numba cache (a subprocess)."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        run = subprocess.run(
            [sys.executable, "-c", _COMPILE], env=env, capture_output=True, text=True, check=True
        )
        cold = json.loads(run.stdout.strip().splitlines()[-1])
        run = subprocess.run(
            [sys.executable, "-c", _COMPILE], env=env, capture_output=True, text=True, check=True
        )
        warm = json.loads(run.stdout.strip().splitlines()[-1])
    return {"empty_cache": cold, "cached": warm}


def _features(n: int, seed: int) -> tuple[np.ndarray, str]:
    try:
        from .speech import load_split

        x, _ = load_split("embedded", "test", progress=False)
        return x[:n].astype(np.float32), "embedded speech set, test split"
    except Exception as err:  # the embedded set is optional for a benchmark
        rng = np.random.default_rng(seed)
        return rng.normal(-40.0, 15.0, (n, 32, 32)).astype(np.float32), f"random ({err})"


def measure(batches, repeats, threads, quick=False, models_dir=None, seed=0, log=print) -> dict:
    """Run the whole benchmark and return the result dict (what ``bench`` writes as JSON)."""
    import numba
    import torch

    from .bench_cpu_cases import layer_macs, layer_rows, network_rows
    from .bench_models import speech_models
    from .fast.parallel import split_threads_ok

    load_before = os.getloadavg()
    features, source = _features(max(batches), seed)
    folder = (lambda v: Path(models_dir) / v) if models_dir else (lambda v: None)
    q_ss, f_ss, src_ss = speech_models("sparse-sparse", seed, folder("sparse-sparse"), features)
    q_sd, f_sd, src_sd = speech_models("sparse-dense", seed, folder("sparse-dense"), features)
    models = (f_ss, q_ss, f_sd, q_sd)
    result = {
        "machine": dict(
            machine_info(),
            torch=torch.__version__,
            numba=numba.__version__,
            threads=threads,
            torch_default_threads=torch.get_num_threads(),
            # one word split across threads needs cheap launches (OpenMP or TBB)
            numba_split_threads=split_threads_ok(),
            numba_threading_layer=numba.threading_layer(),
            loadavg_before=list(load_before),
        ),
        "config": {
            "batches": list(batches),
            "repeats": repeats,
            "quick": quick,
            "features": source,
            "models": {"sparse-sparse": src_ss, "sparse-dense": src_sd},
        },
        "layers": {
            ly.name: {
                "kind": ly.kind,
                "in_shape": list(ly.in_shape),
                "n_per_group": ly.weights.n_per_group,
                "k": ly.k,
            }
            for ly in q_ss.layers
        },
        "macs": layer_macs(q_ss),
        "memory": memory(models),
        "rows": [],
    }
    for batch in batches:
        numpy_ref = not (quick and batch > 1)
        built = layer_rows(f_ss, q_ss, features, batch, threads, numpy_ref)
        built.append(network_rows(models, features, batch, threads, numpy_ref))
        for row in built:
            log(f"timing {row['name']:<8} batch {batch:>3} ({len(row['candidates'])} candidates)")
            fns = {name: fn for name, (fn, _) in row["candidates"].items()}
            summary = summarize(row, time_candidates(fns, repeats))
            result["rows"].append(summary)
            best = max(summary["candidates"].items(), key=lambda kv: kv[1]["speedup"])
            base = summary["candidates"][summary["baseline"]]["per_word_s"]
            log(
                f"  {summary['baseline']}: {base * 1e6:9.1f} us/word; best {best[0]}: "
                f"{best[1]['per_word_s'] * 1e6:8.1f} us/word ({best[1]['speedup']:.1f}x, "
                f"ideal {best[1]['ideal_speedup']:.0f}x)"
            )
    result["machine"]["loadavg_after"] = list(os.getloadavg())
    if not quick:
        log("first-call compile time from an empty numba cache (subprocess)")
        result["compile"] = compile_times()
    return result


def run(args: argparse.Namespace) -> int:
    repeats = 5 if args.quick and args.repeats == 15 else args.repeats
    result = measure(args.batch, repeats, args.threads, args.quick, args.models, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0
