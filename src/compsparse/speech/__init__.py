"""Speech data: Google Speech Commands or the embedded synthetic set, as 32x32 log-mel features.

Book: chapter "Speech data".

::

    from compsparse.speech import load_split, augmented_split, LABELS
    X, y = load_split("embedded", "train")          # or a path to a GSC folder
    Xa, ya = augmented_split("embedded", "train", epoch=3, seed=0)

- ``X``: float32 ``(n, 32, 32)``, log-mel dB in [-80, 0] relative to each clip's loudest cell,
  layout **(mel, time)** (row 0 the lowest band); the model input is ``X[:, None]``, i.e.
  ``(n, 1, 32, 32)``. Not normalised, as in the authors' pipeline.
- ``y``: int64 ``(n,)``, indices into :data:`LABELS` = ``("unknown", "silence", "zero", ...,
  "nine")`` (the authors' order: digit d is index d + 2), or :data:`LABELS_COMMANDS` with
  ``scheme="commands"``.

The source is ``"embedded"`` (the committed synthetic set in ``data/embedded/``), a path to a
GSC v0.01/v0.02 folder, or ``None``: then ``$COMPSPARSE_SPEECH`` if set, else ``"embedded"``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from .augment import augment_features, augment_waveform
from .download import ARCHIVES, download, safe_extract
from .embedded import embedded_dir, load_embedded
from .features import dequantize_db, fix_length, log_mel, mel_power, power_to_db, quantize_db
from .gsc import SPLITS, SplitData, load_gsc, noise_windows
from .labels import COMMANDS, DIGITS, LABELS, LABELS_COMMANDS, labels_for
from .wavio import SpeechDataError, read_wav, write_wav

__all__ = [
    "ARCHIVES",
    "COMMANDS",
    "DIGITS",
    "LABELS",
    "LABELS_COMMANDS",
    "SPLITS",
    "SpeechDataError",
    "SplitData",
    "augment_features",
    "augment_waveform",
    "augmented_split",
    "default_source",
    "dequantize_db",
    "download",
    "embedded_dir",
    "fix_length",
    "labels_for",
    "load_embedded",
    "load_gsc",
    "load_split",
    "log_mel",
    "mel_power",
    "noise_features",
    "power_to_db",
    "quantize_db",
    "read_wav",
    "safe_extract",
    "write_wav",
]

ENV_SOURCE = "COMPSPARSE_SPEECH"
_SPLIT_CODE = {s: i for i, s in enumerate(SPLITS)}


def default_source() -> str:
    """``$COMPSPARSE_SPEECH`` (a GSC folder) if set and not empty, else ``"embedded"``."""
    return os.environ.get(ENV_SOURCE) or "embedded"


def _default_cache() -> Path:
    return Path(os.environ.get("COMPSPARSE_CACHE", "~/.cache/compsparse")).expanduser() / "speech"


def _key(source) -> str:
    """A cache key naming the data: ``"embedded:<folder>"`` or a resolved GSC path."""
    source = default_source() if source is None else str(source)
    if source == "embedded":
        return f"embedded:{embedded_dir().resolve()}"
    return str(Path(source).expanduser().resolve())


@functools.lru_cache(maxsize=8)
def _load(source: str, split: str, scheme: str, options: tuple) -> tuple[np.ndarray, np.ndarray]:
    if split not in _SPLIT_CODE:
        raise ValueError(f"unknown split {split!r}: use one of {SPLITS}")
    if source.startswith("embedded:"):
        z = load_embedded(source[len("embedded:") :])
        if z["manifest"]["scheme"] != scheme:
            raise SpeechDataError(
                f"the embedded set has the {z['manifest']['scheme']!r} scheme, not {scheme!r}; "
                f"make one with `python -m compsparse make-speech --scheme {scheme} --out DIR` "
                "and load that folder"
            )
        rows = z["split"] == _SPLIT_CODE[split]
        X, y = dequantize_db(z["features"][rows]), z["label"][rows].astype(np.int64)
    else:
        opts = dict(options)
        cache = _default_cache() if opts.pop("cache") else None
        data = load_gsc(source, split, scheme, cache_dir=cache, **opts)
        X, y = data.X, data.y
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load_split(
    source: str | Path | None = None,
    split: str = "train",
    *,
    scheme: str = "digits",
    unknown_fraction: float = 0.1,
    silence_fraction: float = 0.1,
    seed: int = 0,
    cache: bool = True,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of one split.

    Args:
        source: ``"embedded"``, a GSC folder, or None (see the module docstring).
        split: ``"train"``, ``"validation"`` or ``"test"``.
        scheme: ``"digits"`` (:data:`LABELS`) or ``"commands"`` (:data:`LABELS_COMMANDS`).
        unknown_fraction, silence_fraction, seed: how a GSC folder's "unknown" and "silence"
            clips are drawn (see ``compsparse.speech.gsc``); the embedded set was made with the
            defaults.
        cache: keep a GSC folder's features in ``$COMPSPARSE_CACHE/speech`` (default
            ``~/.cache/compsparse/speech``) so later loads take a second.

    Returns:
        ``(X, y)``: float32 ``(n, 32, 32)`` dB, layout (mel, time); int64 ``(n,)``. Fresh,
        writable copies. A GSC folder's unreadable clips are skipped with a warning.
    """
    options = (
        ("unknown_fraction", unknown_fraction),
        ("silence_fraction", silence_fraction),
        ("seed", seed),
        ("cache", cache),
        ("progress", progress),
    )
    X, y = _load(_key(source), split, scheme, options)
    return X.copy(), y.copy()


def noise_features(source: str | Path | None = None, seed: int = 0) -> np.ndarray:
    """float32 ``(m, 32, 32)`` dB features of background-noise windows from the train region.

    For the embedded set these are committed (256 windows); for a GSC folder, 256 windows are
    cut from ``_background_noise_``. Cached; do not modify the result.
    """
    return _noise(_key(source), seed)


@functools.lru_cache(maxsize=4)
def _noise(key: str, seed: int) -> np.ndarray:
    if key.startswith("embedded:"):
        out = dequantize_db(load_embedded(key[len("embedded:") :])["noise"])
    else:
        out = log_mel(noise_windows(key, "train", 256, seed))
    out.setflags(write=False)
    return out


def augmented_split(
    source: str | Path | None = None,
    split: str = "train",
    *,
    epoch: int,
    seed: int = 0,
    scheme: str = "digits",
    p: float = 0.5,
    **loader_options,
) -> tuple[np.ndarray, np.ndarray]:
    """One augmented pass over a split: deterministic in ``(seed, epoch)``.

    Each clip is shifted, sped up or down, stretched, and mixed with background noise, each with
    probability ``p`` (see ``compsparse.speech.augment``). Costs well under a second for the
    embedded train split. Same shapes and dtypes as :func:`load_split`; ``y`` is unchanged (the
    order is the split's order: shuffle in the training loop).
    """
    X, y = load_split(source, split, scheme=scheme, **loader_options)
    rng = np.random.default_rng([seed, epoch, 0x5EEC])
    return augment_features(X, rng, noise_features(source), p=p), y
