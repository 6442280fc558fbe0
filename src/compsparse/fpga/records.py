"""Run records: one JSON line per throughput measurement, appended atomically.

Board runs go to ``data/fpga/runs.jsonl``; C-simulation runs, which measure a CPU and not an
FPGA, go to ``data/fpga/csim_runs.jsonl`` and are never drawn as hardware numbers. A reader
with a board contributes their runs back by pull request; the book draws whatever board records
the file holds.

Appending never leaves a half-written record: the new file (old records plus the new line) is
written to a temporary file in the same folder, flushed to disk, and renamed over the old one
(``os.replace`` is atomic on POSIX and Windows). A crash at any moment leaves either the old
file or the new one. Concurrent writers take an exclusive lock on the folder (``flock``, where
available) so that neither loses the other's record.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import tempfile
import time
from pathlib import Path

__all__ = [
    "CSIM_RUNS",
    "REQUIRED",
    "RUNS",
    "SCHEMA",
    "append_record",
    "load_records",
    "make_record",
    "runs_path",
    "validate",
]

SCHEMA = 1
RUNS = "runs.jsonl"
CSIM_RUNS = "csim_runs.jsonl"
#: Fields every record has (values may be null where the backend cannot know them).
REQUIRED = {
    "schema": int,
    "date": str,
    "design": str,
    "variant": str,
    "backend": str,
    "board": str,
    "part": str,
    "bitstream_sha256": (str, type(None)),
    "pynq": (str, type(None)),
    "tools": (dict, type(None)),
    "instances": int,
    "n_words": int,
    "words_per_s": (int, float),
    "words_per_s_p25": (int, float),
    "words_per_s_p75": (int, float),
    "power_w": (int, float, type(None)),
    "power_source": str,
    "power_kind": str,
    "words_per_s_per_w": (int, float, type(None)),
}
_VARIANTS = ("dense", "sparse-dense", "sparse-sparse")


def runs_path(backend: str, folder=None) -> Path:
    """The file a backend's records go to: ``runs.jsonl`` (boards), ``csim_runs.jsonl`` (csim)."""
    if folder is None:
        from ..paths import repo_root

        folder = os.environ.get("COMPSPARSE_DATA") or repo_root() / "data"
        folder = Path(folder) / "fpga"
    return Path(folder) / (CSIM_RUNS if backend == "csim" else RUNS)


def make_record(description: dict, result, check=None, note: str = "") -> dict:
    """A record from an accelerator's :meth:`~compsparse.fpga.driver.Accelerator.describe`,
    a :class:`~compsparse.fpga.measure.Throughput` and optionally a
    :class:`~compsparse.fpga.driver.Check` on real clips."""
    rec = {
        "schema": SCHEMA,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "bitstream_sha256": None,
        "pynq": None,
        "tools": None,
        **description,
        "instances": result.n_instances,
        "n_words": result.n_words,
        "repeats": result.repeats,
        "warmup": result.warmup,
        "words_per_s": result.words_per_s,
        "words_per_s_p25": result.words_per_s_p25,
        "words_per_s_p75": result.words_per_s_p75,
        "words_per_s_min": result.words_per_s_min,
        "words_per_s_max": result.words_per_s_max,
        "words_per_s_end_to_end": result.words_per_s_end_to_end,
        "seconds": result.seconds,
        "power_w": result.power.watts,
        "power_kind": result.power.kind,
        "power_source": result.power.source,
        "power_samples": result.power.samples,
        "words_per_s_per_w": result.words_per_s_per_w,
        "checked_words": result.checked_words,
        "mismatched_words": result.mismatches,
        "host": {"python": platform.python_version(), "machine": platform.machine()},
    }
    if check is not None:
        rec["check_clips"] = check.n_clips
        rec["check_bit_exact"] = check.bit_exact
    if note:
        rec["note"] = note
    return rec


def validate(record: dict) -> None:
    """Raise ValueError naming every missing or mistyped field of a record."""
    problems = []
    for key, kinds in REQUIRED.items():
        if key not in record:
            problems.append(f"missing {key!r}")
        elif not isinstance(record[key], kinds) or isinstance(record[key], bool):
            problems.append(f"{key!r} is {type(record[key]).__name__}")
    if record.get("variant") not in _VARIANTS:
        problems.append(f"variant must be one of {_VARIANTS}")
    if record.get("backend") not in ("csim", "zynq", "alveo"):
        problems.append("backend must be csim, zynq or alveo")
    if record.get("power_kind") not in ("measured", "rated", "assumed", "none"):
        problems.append("power_kind must be measured, rated, assumed or none")
    rate = record.get("words_per_s")
    if isinstance(rate, (int, float)) and not (math.isfinite(rate) and rate > 0):
        problems.append("words_per_s must be a positive number")
    if problems:
        raise ValueError("invalid run record: " + "; ".join(problems))


@contextlib.contextmanager
def _locked(folder: Path):
    try:
        import fcntl
    except ImportError:  # Windows: no flock; the rename alone keeps records whole
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _remove_stale_temps(path: Path) -> None:
    """Temporary files of writers that died (their pid is gone) are removed."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\..*\.tmp$")
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        match = pattern.match(tmp.name)
        if not match:
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
        except PermissionError:  # alive, another user's
            pass


def append_record(record: dict, path=None) -> Path:
    """Validate ``record`` and append it as one line to ``path`` (default :func:`runs_path`).

    Returns the file written. The old file is never modified in place (see the module
    docstring).
    """
    validate(record)
    path = Path(path) if path is not None else runs_path(record["backend"])
    if record["backend"] == "csim" and path.name == RUNS:
        raise ValueError(
            f"C-simulation records do not go into {RUNS} (board runs only): use {CSIM_RUNS}"
        )
    line = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        _remove_stale_temps(path)
        old = path.read_bytes() if path.exists() else b""
        if old and not old.endswith(b"\n"):
            old += b"\n"
        # .<name>.<pid>.<random>.tmp: _remove_stale_temps reads the pid
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(old)
                f.write(line.encode())
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_records(path=None, backend: str = "board") -> list[dict]:
    """Every record of a runs file, oldest first.

    Args:
        path: the file (default: ``data/fpga/runs.jsonl``, or ``csim_runs.jsonl`` for
            ``backend="csim"``). A missing file has no records.

    Raises:
        ValueError: a line that is not a valid record, with its line number.
    """
    if path is None:
        path = runs_path("csim" if backend == "csim" else "zynq")
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            validate(rec)
        except (json.JSONDecodeError, ValueError) as e:
            raise ValueError(f"{path}:{n}: {e}; fix or remove that line") from e
        records.append(rec)
    return records
