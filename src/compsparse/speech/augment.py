"""Seeded training augmentation, on features (fast, for whole epochs) and on audio.

Book: chapter "Speech data".

The authors augment each training clip, each step with probability 0.5: amplitude x U(0.7, 1.1),
speed (resampling) by 1 + U(-0.2, 0.2), time stretch by 1 + U(-0.2, 0.2), and a time shift of up
to 8 STFT frames. :func:`augment_features` does the same on log-mel features, so a whole epoch
costs a fraction of a second and needs no audio:

- time shift and stretch move the time axis (linear interpolation between frames);
- a speed change moves the time axis *and* scales every frequency, i.e. warps the mel axis;
- amplitude alone cannot change features that are relative to each clip's maximum, so it acts
  through background noise: noise windows are mixed in the power domain at a random
  signal-to-noise ratio, and the amplitude factor shifts that ratio.

Cells that come from outside the clip take the clip's quietest level (its noise floor).
"""

from __future__ import annotations

import numpy as np

from .features import AMIN, DB_FLOOR, N_MELS, SAMPLE_RATE, mel_centers_hz

__all__ = ["augment_features", "augment_waveform", "mix_noise_features", "warp_features"]

_CENTERS = mel_centers_hz()
_BANDS = np.arange(N_MELS, dtype=np.float64)


def _interp_axis(X: np.ndarray, src: np.ndarray, fill: np.ndarray, axis: int) -> np.ndarray:
    """Sample ``X`` (n, 32, 32) at fractional positions ``src`` (n, 32) along ``axis`` (1 or 2)."""
    size = X.shape[axis]
    inside = (src >= 0) & (src <= size - 1)
    s = np.clip(src, 0, size - 1)
    i0 = np.minimum(np.floor(s).astype(np.intp), size - 2)
    w = (s - i0).astype(np.float32)
    n = np.arange(X.shape[0])[:, None, None]
    if axis == 2:  # time: src indexes columns, same for every row
        i0, w, inside = i0[:, None, :], w[:, None, :], inside[:, None, :]
        rows = np.arange(X.shape[1])[None, :, None]
        a, b = X[n, rows, i0], X[n, rows, i0 + 1]
    else:  # mel: src indexes rows
        i0, w, inside = i0[:, :, None], w[:, :, None], inside[:, :, None]
        cols = np.arange(X.shape[2])[None, None, :]
        a, b = X[n, i0, cols], X[n, i0 + 1, cols]
    return np.where(inside, a * (1 - w) + b * w, fill)


def warp_features(
    X: np.ndarray, shift: np.ndarray, speed: np.ndarray, stretch: np.ndarray
) -> np.ndarray:
    """Move the time and mel axes of each clip.

    Args:
        X: float32 ``(n, 32, 32)`` dB, layout (mel, time).
        shift: ``(n,)`` frames to delay the clip by (negative: earlier); fractional is fine.
        speed: ``(n,)`` playback-speed factors (1.2: 20 % faster, so shorter and higher).
        stretch: ``(n,)`` tempo factors about the middle frame, pitch kept (1.2: 20 % faster).

    Returns:
        float32 ``(n, 32, 32)``; cells from outside the clip take its quietest level.
    """
    X = np.asarray(X, dtype=np.float32)
    shift, speed, stretch = (np.asarray(a, dtype=np.float64) for a in (shift, speed, stretch))
    n_t = X.shape[2]
    # Output frame t reads source frame: undo the shift, then the stretch (about the middle),
    # then the speed change (resampling from the start, as np.interp does on audio).
    t = np.arange(n_t, dtype=np.float64)[None, :]
    mid = (n_t - 1) / 2
    src_t = ((t - shift[:, None] - mid) * stretch[:, None] + mid) * speed[:, None]
    out = _interp_axis(X, src_t, X.min(axis=2, keepdims=True), axis=2)
    # Speeding up by s moves energy at f to s*f: output band at f reads source frequency f/s.
    warp = speed != 1.0
    if warp.any():
        src_m = np.interp(_CENTERS[None, :] / speed[warp, None], _CENTERS, _BANDS, right=np.inf)
        floor = out[warp].min(axis=(1, 2), keepdims=True)
        out[warp] = _interp_axis(out[warp], src_m, floor, axis=1)
    return out.astype(np.float32, copy=False)


def mix_noise_features(X: np.ndarray, noise: np.ndarray, snr_db: np.ndarray) -> np.ndarray:
    """Add noise to clips in the power domain and re-reference to each clip's maximum.

    Args:
        X: float32 ``(n, 32, 32)`` dB; noise: ``(n, 32, 32)`` dB (one window per clip);
        snr_db: ``(n,)`` ratio of the clip's mean power to the added noise's mean power.

    Returns:
        float32 ``(n, 32, 32)`` dB in [-80, 0].
    """
    p_sig = 10 ** (np.asarray(X, dtype=np.float64) / 10)
    p_noise = 10 ** (np.asarray(noise, dtype=np.float64) / 10)
    snr = 10 ** (np.asarray(snr_db, dtype=np.float64) / 10)
    scale = p_sig.mean(axis=(1, 2)) / (p_noise.mean(axis=(1, 2)) * snr)
    db = 10 * np.log10(np.maximum(p_sig + scale[:, None, None] * p_noise, AMIN))
    db -= db.max(axis=(1, 2), keepdims=True)
    return np.maximum(db, DB_FLOOR).astype(np.float32)


def augment_features(
    X: np.ndarray,
    rng: np.random.Generator,
    noise: np.ndarray | None = None,
    p: float = 0.5,
    max_shift: float = 8.0,
    max_speed: float = 0.2,
    max_stretch: float = 0.2,
    amplitude: tuple[float, float] = (0.7, 1.1),
    snr_db: tuple[float, float] = (5.0, 25.0),
) -> np.ndarray:
    """Augment a batch of log-mel features (the authors' recipe, on features).

    Args:
        X: float32 ``(n, 32, 32)`` dB in [-80, 0], layout (mel, time) (see ``features``).
        rng: the only source of randomness: the same generator state gives the same output.
        noise: optional float32 ``(m, 32, 32)`` dB features of background-noise windows; each
            clip picked for noise mixes one random window at SNR ``U(*snr_db)`` plus the amplitude
            factor in dB.
        p: probability of each step (shift, speed, stretch, noise), independently per clip.

    Returns:
        float32 ``(n, 32, 32)`` in [-80, 0] dB.
    """
    X = np.asarray(X, dtype=np.float32)
    n = X.shape[0]
    on = rng.random((n, 4)) < p
    shift = np.where(on[:, 0], rng.uniform(-max_shift, max_shift, n), 0.0)
    speed = np.where(on[:, 1], 1.0 + rng.uniform(-max_speed, max_speed, n), 1.0)
    stretch = np.where(on[:, 2], 1.0 + rng.uniform(-max_stretch, max_stretch, n), 1.0)
    out = warp_features(X, shift, speed, stretch)
    mix = on[:, 3] if noise is not None and len(noise) else np.zeros(n, dtype=bool)
    if mix.any():
        k = int(mix.sum())
        snr = rng.uniform(*snr_db, k) + 20 * np.log10(rng.uniform(*amplitude, k))
        windows = np.asarray(noise)[rng.integers(len(noise), size=k)]
        out[mix] = mix_noise_features(out[mix], windows, snr)
    return np.maximum(out, DB_FLOOR).astype(np.float32)


def augment_waveform(
    x: np.ndarray,
    rng: np.random.Generator,
    noise: np.ndarray | None = None,
    p: float = 0.5,
    max_shift_s: float = 0.1,
    max_speed: float = 0.2,
    amplitude: tuple[float, float] = (0.7, 1.1),
    snr_db: tuple[float, float] = (5.0, 25.0),
) -> np.ndarray:
    """Augment one clip in the audio domain: amplitude, speed, time shift, background noise.

    Args:
        x: float32 ``(16000,)`` audio in [-1, 1).
        noise: optional float32 ``(m,)`` noise recording (>= 1 s); a random 1 s window is mixed
            at SNR ``U(*snr_db)``.

    Returns:
        float32 ``(16000,)``, clipped to [-1, 1).
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if rng.random() < p:
        x = x * rng.uniform(*amplitude)
    if rng.random() < p:  # resample: play 1 + u times faster (pitch and tempo together)
        step = 1.0 + rng.uniform(-max_speed, max_speed)
        pos = np.arange(0, n, step)
        x = np.interp(pos, np.arange(n), x)
        x = np.pad(x, (0, max(0, n - len(x))))[:n]
    if rng.random() < p:
        s = int(rng.integers(-int(max_shift_s * SAMPLE_RATE), int(max_shift_s * SAMPLE_RATE) + 1))
        x = np.roll(x, s)
        if s > 0:
            x[:s] = 0
        elif s < 0:
            x[s:] = 0
    if noise is not None and rng.random() < p:
        start = int(rng.integers(0, max(1, len(noise) - n + 1)))
        seg = np.asarray(noise[start : start + n], dtype=np.float64)
        seg = np.pad(seg, (0, n - len(seg)))
        p_sig, p_noise = np.mean(x**2), np.mean(seg**2)
        if p_sig > 0 and p_noise > 0:
            x = x + seg * np.sqrt(p_sig / (p_noise * 10 ** (rng.uniform(*snr_db) / 10)))
    return np.clip(x, -1.0, 32767 / 32768).astype(np.float32)
