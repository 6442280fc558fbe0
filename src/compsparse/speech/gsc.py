"""The Google Speech Commands loader: the on-disk layout of GSC v0.01/v0.02 -> features.

Book: chapter "Speech data".

Layout (what ``tar xzf speech_commands_v0.0x.tar.gz`` gives, and what ``make-speech`` writes)::

    root/
      zero/0a2b400e_nohash_0.wav ...   one folder per word, 16 kHz mono 16-bit clips <= 1 s
      ...
      _background_noise_/*.wav         long noise recordings (16 kHz mono 16-bit)
      validation_list.txt              "word/file.wav" per line
      testing_list.txt                 "word/file.wav" per line

Train is every clip in a word folder that neither list names. The target words of the scheme
are classes; every other word is "unknown", subsampled to ``unknown_fraction`` of the clips of
the target words; "silence" is one-second windows of the background noise (one in ten all
zeros, the authors' silence), ``silence_fraction`` of the target clips. Each noise file is cut
in time into disjoint train/validation/test regions (80/10/10 %), so no noise sample is in two
splits. Everything is seeded: the same folder and seed give the same clips in the same order.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .features import SAMPLE_RATE, dequantize_db, log_mel, quantize_db
from .labels import SILENCE, UNKNOWN, labels_for, target_words
from .wavio import SpeechDataError, read_wav

__all__ = [
    "LAYOUT_HELP",
    "SPLITS",
    "SplitData",
    "check_layout",
    "load_gsc",
    "noise_windows",
    "plan_split",
]

SPLITS = ("train", "validation", "test")
NOISE_DIR = "_background_noise_"
LIST_FILES = {"validation": "validation_list.txt", "test": "testing_list.txt"}
NOISE_REGIONS = {"train": (0.0, 0.8), "validation": (0.8, 0.9), "test": (0.9, 1.0)}
ZERO_SILENCE_EVERY = 10  # one silence clip in ten is digital zero, as the authors' silence
FEATURE_VERSION = 1  # bump when features change, so caches of real GSC are rebuilt

LAYOUT_HELP = (
    "expected a Google Speech Commands folder (v0.01 or v0.02): one sub-folder per word with "
    "16 kHz mono 16-bit .wav clips, '_background_noise_/' with long .wav noise files, and "
    "'validation_list.txt' and 'testing_list.txt' naming clips as 'word/file.wav'. "
    "Get it with compsparse.speech.download(), or make the synthetic one with "
    "`python -m compsparse make-speech --out DIR`."
)


@dataclass
class SplitData:
    """Features of one split.

    Attributes:
        X: float32 ``(n, 32, 32)`` log-mel dB in [-80, 0], layout (mel, time).
        y: int64 ``(n,)`` indices into ``labels``.
        names: ``n`` clip names: ``"word/file.wav"``, or ``"_silence_/noise.wav@start"``.
        labels: the label list of the scheme.
        skipped: ``(name, reason)`` of every clip that could not be used.
    """

    X: np.ndarray
    y: np.ndarray
    names: list[str]
    labels: tuple[str, ...]
    skipped: list[tuple[str, str]] = field(default_factory=list)


def check_layout(root: str | Path) -> dict:
    """Validate a GSC folder; returns ``{"root", "words", "lists", "noise"}``.

    Raises:
        SpeechDataError: naming what is missing and the layout expected.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise SpeechDataError(f"{root}: no such folder; {LAYOUT_HELP}")
    words = sorted(
        p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )
    if not words:
        raise SpeechDataError(f"{root}: no word folders; {LAYOUT_HELP}")
    lists = {}
    for split, name in LIST_FILES.items():
        if not (root / name).is_file():
            raise SpeechDataError(f"{root}: missing {name}; {LAYOUT_HELP}")
        lines = (root / name).read_text().split()
        lists[split] = [ln.strip().replace("\\", "/") for ln in lines if ln.strip()]
    noise_dir = root / NOISE_DIR
    noise = sorted(noise_dir.glob("*.wav")) if noise_dir.is_dir() else []
    return {"root": root, "words": words, "lists": lists, "noise": noise}


def _split_names(layout: dict, split: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Clip names of a split, and the listed clips that are not on disk."""
    root = layout["root"]
    if split in LIST_FILES:
        skipped = [
            (n, f"named in {LIST_FILES[split]} but missing")
            for n in layout["lists"][split]
            if not (root / n).is_file()
        ]
        missing = {n for n, _ in skipped}
        return [n for n in layout["lists"][split] if n not in missing], skipped
    held_out = set(layout["lists"]["validation"]) | set(layout["lists"]["test"])
    names = [f"{w}/{p.name}" for w in layout["words"] for p in sorted((root / w).glob("*.wav"))]
    return [n for n in names if n not in held_out], []


def _rng(seed: int, split: str, purpose: str) -> np.random.Generator:
    # Independent streams per split and purpose: adding silence never changes the unknown pick.
    tag = int.from_bytes(hashlib.sha256(f"{split}/{purpose}".encode()).digest()[:4], "little")
    return np.random.default_rng([seed, tag])


def plan_split(
    root: str | Path,
    split: str,
    scheme: str = "digits",
    unknown_fraction: float = 0.1,
    silence_fraction: float = 0.1,
    seed: int = 0,
) -> tuple[list[tuple[str, int]], list[tuple[str, str]]]:
    """Which clips make up a split: ``([(name, label), ...], skipped)``, in a fixed order.

    Silence names are ``"_silence_/<noise file>@<start sample>"`` (``"_silence_/zeros@i"`` for
    the all-zero ones).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: use one of {SPLITS}")
    labels, targets = labels_for(scheme), target_words(scheme)
    layout = check_layout(root)
    names, skipped = _split_names(layout, split)
    known = [(n, labels.index(n.split("/")[0])) for n in names if n.split("/")[0] in targets]
    others = [n for n in names if n.split("/")[0] not in targets]
    n_unknown = min(len(others), round(unknown_fraction * len(known)))
    pick = np.sort(_rng(seed, split, "unknown").choice(len(others), n_unknown, replace=False))
    unknown = [(others[i], labels.index(UNKNOWN)) for i in pick]
    silence = [
        (n, labels.index(SILENCE))
        for n in _silence_names(layout, split, round(silence_fraction * len(known)), seed)
    ]
    return known + unknown + silence, skipped


def _silence_names(layout: dict, split: str, n: int, seed: int) -> list[str]:
    if n == 0:
        return []
    if not layout["noise"]:
        raise SpeechDataError(
            f"{layout['root']}: no {NOISE_DIR}/*.wav to make 'silence' clips from; "
            f"pass silence_fraction=0 or restore the folder. {LAYOUT_HELP}"
        )
    rng = _rng(seed, split, "silence")
    lo, hi = NOISE_REGIONS[split]
    lengths = {p: len(read_wav(p)) for p in layout["noise"]}
    out = []
    for i in range(n):
        if i % ZERO_SILENCE_EVERY == ZERO_SILENCE_EVERY - 1:
            out.append(f"_silence_/zeros@{i}")
            continue
        path = layout["noise"][rng.integers(len(layout["noise"]))]
        length = lengths[path]
        a, b = int(lo * length), max(int(lo * length), int(hi * length) - SAMPLE_RATE)
        out.append(f"_silence_/{path.name}@{int(rng.integers(a, b + 1))}")
    return out


def noise_windows(
    root: str | Path, split: str, n: int, seed: int = 0, length: int = SAMPLE_RATE
) -> np.ndarray:
    """``n`` random background-noise windows from ``split``'s region, float32 ``(n, length)``."""
    layout = check_layout(root)
    if not layout["noise"]:
        raise SpeechDataError(f"{layout['root']}: no {NOISE_DIR}/*.wav; {LAYOUT_HELP}")
    audio = [read_wav(p) for p in layout["noise"]]
    rng = _rng(seed, split, "noise-windows")
    lo, hi = NOISE_REGIONS[split]
    out = np.zeros((n, length), dtype=np.float32)
    for i in range(n):
        a = audio[rng.integers(len(audio))]
        start, stop = int(lo * len(a)), int(hi * len(a))
        s = int(rng.integers(start, max(start, stop - length) + 1))
        seg = a[s : min(stop, s + length)]
        out[i, : len(seg)] = seg
    return out


def _read_clip(root: Path, name: str, noise_cache: dict) -> np.ndarray:
    if not name.startswith("_silence_/"):
        return read_wav(root / name)
    source, start = name[len("_silence_/") :].rsplit("@", 1)
    if source == "zeros":
        return np.zeros(SAMPLE_RATE, dtype=np.float32)
    if source not in noise_cache:
        noise_cache[source] = read_wav(root / NOISE_DIR / source)
    return noise_cache[source][int(start) : int(start) + SAMPLE_RATE]


def load_gsc(
    root: str | Path,
    split: str,
    scheme: str = "digits",
    unknown_fraction: float = 0.1,
    silence_fraction: float = 0.1,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> SplitData:
    """Read and featurise one split of a GSC folder.

    Bad clips (empty, corrupt, stereo, wrong rate) and listed-but-missing clips are skipped and
    counted in ``SplitData.skipped``, and a warning at the end says how many and which.

    Args:
        cache_dir: if given, features are kept there (``.npz`` keyed by folder, split, options and
            the clips' sizes and times) so a second load takes well under a second.
    """
    root = Path(root).expanduser()
    items, skipped = plan_split(root, split, scheme, unknown_fraction, silence_fraction, seed)
    key = _cache_key(root, split, scheme, unknown_fraction, silence_fraction, seed, items)
    cached = Path(cache_dir).expanduser() / f"gsc-{key}.npz" if cache_dir else None
    if cached is not None and cached.is_file():
        with np.load(cached) as z:
            data = SplitData(
                dequantize_db(z["codes"]),
                z["y"].astype(np.int64),
                list(z["names"].astype(str)),
                labels_for(scheme),
                [tuple(s) for s in z["skipped"].astype(str).reshape(-1, 2)],
            )
    else:
        data = _featurise(root, items, skipped, labels_for(scheme), progress)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp.npz")
            np.savez(
                tmp,
                codes=quantize_db(data.X),
                y=data.y,
                names=np.array(data.names),
                skipped=np.array(data.skipped, dtype=str).reshape(-1, 2),
            )
            os.replace(tmp, cached)
    if data.skipped:
        shown = "; ".join(f"{n}: {why}" for n, why in data.skipped[:5])
        more = f" (and {len(data.skipped) - 5} more)" if len(data.skipped) > 5 else ""
        warnings.warn(
            f"{root} {split}: skipped {len(data.skipped)} clip(s): {shown}{more}", stacklevel=2
        )
    return data


def _featurise(root, items, skipped, labels, progress) -> SplitData:
    audio = np.zeros((len(items), SAMPLE_RATE), dtype=np.float32)
    keep = np.zeros(len(items), dtype=bool)
    skipped = list(skipped)
    noise_cache: dict = {}
    bar = _progress(items, progress, f"reading {root.name}")
    for i, (name, _) in enumerate(bar):
        try:
            x = _read_clip(root, name, noise_cache)
        except SpeechDataError as exc:
            skipped.append((name, str(exc)))
            continue
        audio[i, : min(len(x), SAMPLE_RATE)] = x[:SAMPLE_RATE]
        keep[i] = True
    audio = audio[keep]
    # Quantised like the committed embedded set, so a path and its cache give identical arrays.
    X = dequantize_db(quantize_db(log_mel(audio))) if len(audio) else np.zeros((0, 32, 32), "f4")
    y = np.array([lab for (_, lab), k in zip(items, keep, strict=True) if k], dtype=np.int64)
    names = [n for (n, _), k in zip(items, keep, strict=True) if k]
    return SplitData(X.astype(np.float32), y, names, labels, skipped)


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional: no bar, same result
        return items
    return tqdm(items, desc=desc, unit="clip")


def _cache_key(root, split, scheme, unknown_fraction, silence_fraction, seed, items) -> str:
    h = hashlib.sha256()
    h.update(
        repr(
            (
                str(root.resolve()),
                split,
                scheme,
                unknown_fraction,
                silence_fraction,
                seed,
                FEATURE_VERSION,
            )
        ).encode()
    )
    for name, label in items:
        silence = name.startswith("_silence_/")
        p = root / NOISE_DIR / name[10:].rsplit("@", 1)[0] if silence else root / name
        st = p.stat() if p.exists() else None
        h.update(f"{name}|{label}|{st and (st.st_size, st.st_mtime_ns)}\n".encode())
    return h.hexdigest()[:20]
