"""Small helpers shared by the benchmark commands: timing and the machine description.

Benchmarks report medians over repeats after a warm-up, and ratios against a baseline timed in the
same run, interleaved, because the machines we run on are shared and noisy.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable

import numpy as np

__all__ = ["machine_info", "time_interleaved"]


def time_interleaved(
    candidates: dict[str, Callable[[], object]],
    repeats: int = 21,
    warmup: int = 2,
    min_time: float = 0.02,
) -> dict[str, dict[str, float]]:
    """Time each callable, round-robin so every candidate sees the same machine load.

    Each sample runs the callable enough times to last about ``min_time`` seconds.

    Returns:
        ``{name: {"median_s", "p25_s", "p75_s", "repeats", "calls_per_sample"}}``, seconds per call.
    """
    calls = {}
    for name, fn in candidates.items():
        for _ in range(warmup):
            fn()
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        calls[name] = max(1, int(min_time / once))
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
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
            "repeats": repeats,
            "calls_per_sample": calls[name],
        }
        for name, s in samples.items()
    }


def machine_info() -> dict[str, object]:
    """What ran the benchmark: CPU, cores, Python and numpy versions, thread settings."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads_env": {
            k: os.environ.get(k)
            for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        },
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
