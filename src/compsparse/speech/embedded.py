"""The committed compact form of the synthetic set (``data/embedded/``): write, verify, read.

Book: chapter "Speech data".

``gsc_synth.npz`` holds what the GSC loader computes from the generated folder, as uint8 dB codes
(see ``features.quantize_db``), so reading it needs numpy alone:

- ``features`` uint8 ``(n, 32, 32)``, layout (mel, time); ``label`` int8 ``(n,)``; ``split``
  int8 ``(n,)`` (0 train, 1 validation, 2 test); ``name`` bytes ``(n,)``, the clip's GSC path;
- ``noise`` uint8 ``(m, 32, 32)``: features of background-noise windows from the train region,
  for feature-domain augmentation.

The archive is written uncompressed with fixed timestamps, so the same arrays give the same
bytes; ``manifest.json`` records its sha256 and a checksum of the features alone.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .features import DB_FLOOR, HOP, N_FFT, N_MELS, SAMPLE_RATE, log_mel, quantize_db
from .gsc import SPLITS, load_gsc, noise_windows
from .labels import labels_for
from .wavio import SpeechDataError, read_wav, write_wav

__all__ = ["ARCHIVE", "MANIFEST", "build_compact", "embedded_dir", "load_embedded"]

ARCHIVE = "gsc_synth.npz"
MANIFEST = "manifest.json"
N_NOISE = 256
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def embedded_dir() -> Path:
    """``$COMPSPARSE_EMBEDDED`` if set, else ``data/embedded`` of this source tree."""
    env = os.environ.get("COMPSPARSE_EMBEDDED")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "data" / "embedded"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def features_checksum(codes: np.ndarray) -> str:
    """sha256 of uint8 feature codes in C order (what reproducibility is checked against)."""
    return hashlib.sha256(np.ascontiguousarray(codes, dtype=np.uint8).tobytes()).hexdigest()


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME), buf.getvalue())


def build_compact(
    gsc_dir: str | Path,
    out_dir: str | Path,
    *,
    seed: int,
    scheme: str = "digits",
    generator: dict | None = None,
    progress: bool = False,
) -> dict:
    """Featurise a generated GSC-layout folder into ``out_dir``; returns the manifest.

    ``seed`` is the generator's, recorded in the manifest; the folder is read with the loader's
    defaults, so ``load_split(gsc_dir, split)`` returns exactly the committed arrays.

    Writes ``gsc_synth.npz``, ``manifest.json`` and ``samples/`` (one test clip per class, as
    16 kHz wav, so readers can listen without espeak-ng).
    """
    gsc_dir, out_dir = Path(gsc_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = labels_for(scheme)
    parts = []
    for i, split in enumerate(SPLITS):
        # The loader's defaults (seed 0), so load_split(gsc_dir) gives exactly these arrays.
        data = load_gsc(gsc_dir, split, scheme, progress=progress)
        if data.skipped:
            raise SpeechDataError(f"{gsc_dir}: {len(data.skipped)} unreadable clips in {split}")
        parts.append((i, data))
    codes = np.concatenate([quantize_db(d.X) for _, d in parts])
    arrays = {
        "features": codes,
        "label": np.concatenate([d.y for _, d in parts]).astype(np.int8),
        "split": np.concatenate([np.full(len(d.y), i, np.int8) for i, d in parts]),
        "name": np.array([n.encode() for _, d in parts for n in d.names]),
        "noise": quantize_db(log_mel(noise_windows(gsc_dir, "train", N_NOISE))),
    }
    _write_npz(out_dir / ARCHIVE, arrays)
    samples = _write_samples(gsc_dir, out_dir / "samples", parts[2][1], labels)
    files = [ARCHIVE, *[f"samples/{s}" for s in samples]]
    manifest = {
        "what": "synthetic speech made with espeak-ng, NOT Google Speech Commands",
        "generator": generator or {},
        "seed": seed,
        "scheme": scheme,
        "loader": "load_split(folder) defaults: seed 0, unknown_fraction 0.1, silence_fraction 0.1",
        "labels": list(labels),
        "features": {
            "layout": "(mel, time)",
            "shape": [N_MELS, 1 + SAMPLE_RATE // HOP],
            "sample_rate": SAMPLE_RATE,
            "n_fft": N_FFT,
            "hop": HOP,
            "n_mels": N_MELS,
            "db": f"power_to_db(ref=max), floor {DB_FLOOR:g} dB, uint8 code = (db + 80) * 255 / 80",
            "sha256_uint8": features_checksum(codes),
        },
        "splits": {
            split: {
                "clips": len(d.y),
                "speakers": len(
                    {
                        n.split("/")[1].split("_")[0]
                        for n in d.names
                        if not n.startswith("_silence_")
                    }
                ),
                "per_class": {lab: int((d.y == j).sum()) for j, lab in enumerate(labels)},
            }
            for (_, d), split in zip(parts, SPLITS, strict=True)
        },
        "noise_windows": N_NOISE,
        "files": {
            f: {"bytes": (out_dir / f).stat().st_size, "sha256": sha256_file(out_dir / f)}
            for f in files
        },
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    _load_embedded.cache_clear()
    return manifest


def _write_samples(gsc_dir: Path, folder: Path, test, labels) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for j, lab in enumerate(labels):
        names = [n for n, y in zip(test.names, test.y, strict=True) if y == j and "zeros@" not in n]
        if not names:
            continue
        name = names[0]
        if name.startswith("_silence_/"):
            source, start = name[len("_silence_/") :].rsplit("@", 1)
            x = read_wav(gsc_dir / "_background_noise_" / source)[int(start) :][:SAMPLE_RATE]
        else:
            x = read_wav(gsc_dir / name)
        write_wav(folder / f"{j:02d}_{lab}.wav", x)
        out.append(f"{j:02d}_{lab}.wav")
    return out


def load_embedded(folder: str | Path | None = None, verify: bool = True) -> dict:
    """The committed arrays (see the module docstring), read-only, checked against the manifest.

    Returns:
        ``{"features", "label", "split", "name", "noise"}`` arrays as stored, plus ``"labels"``
        (the label list) and ``"manifest"`` (the parsed ``manifest.json``). Cached per folder.

    Raises:
        SpeechDataError: the files are missing or do not match ``manifest.json``.
    """
    folder = Path(folder) if folder is not None else embedded_dir()
    return _load_embedded(folder.resolve(), verify)


@functools.lru_cache(maxsize=4)
def _load_embedded(folder: Path, verify: bool) -> dict:
    path, manifest_path = folder / ARCHIVE, folder / MANIFEST
    if not path.is_file() or not manifest_path.is_file():
        raise SpeechDataError(
            f"{folder}: no {ARCHIVE} / {MANIFEST}; the embedded speech set ships in the "
            "compsparse source tree (data/embedded/), set COMPSPARSE_EMBEDDED to its folder, or "
            "regenerate it with `python -m compsparse make-speech`"
        )
    manifest = json.loads(manifest_path.read_text())
    raw = path.read_bytes()
    if verify and hashlib.sha256(raw).hexdigest() != manifest["files"][ARCHIVE]["sha256"]:
        raise SpeechDataError(
            f"{path} does not match the sha256 in {MANIFEST} (a partial checkout or an edit?); "
            "restore it from git or regenerate with `python -m compsparse make-speech`"
        )
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    for a in arrays.values():
        a.setflags(write=False)
    arrays["labels"] = np.array(manifest["labels"])
    arrays["manifest"] = manifest
    return arrays
