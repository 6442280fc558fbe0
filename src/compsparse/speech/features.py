"""32x32 log-mel features, as in the authors' GSC pipeline, in numpy/scipy.

Book: chapter "Speech data".

The authors called ``librosa.feature.melspectrogram(n_mels=32)`` with librosa's defaults on one
second of 16 kHz audio, then ``power_to_db(ref=np.max)``. Written out, that is:

- pad or cut the clip to 16000 samples (zeros appended at the end);
- centred STFT: reflect-pad 1024 samples at each end, periodic Hann window of 2048, hop 512,
  giving 1 + 16000 // 512 = 32 frames; power = |rFFT|^2;
- Slaney-style mel filterbank (32 triangles from 0 Hz to 8 kHz, area-normalised);
- decibels relative to the clip's loudest cell, floored 80 dB below it.

So every feature lies in [-80, 0] dB and the loudest cell of each clip is 0 dB. Amplitude does
not change the features (the reference is the clip's own maximum); only the ratio of speech to
noise does. Layout is **(mel, time)**: row 0 is the lowest band, column 0 the first frame, as in
librosa and in the authors' model input ``(1, 32, 32)``.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

__all__ = [
    "DB_FLOOR",
    "HOP",
    "N_FFT",
    "N_FRAMES",
    "N_MELS",
    "SAMPLE_RATE",
    "dequantize_db",
    "fix_length",
    "hz_to_mel",
    "log_mel",
    "mel_centers_hz",
    "mel_filterbank",
    "mel_power",
    "mel_to_hz",
    "power_to_db",
    "quantize_db",
]

SAMPLE_RATE = 16000
N_FFT = 2048
HOP = 512
N_MELS = 32
N_FRAMES = 1 + SAMPLE_RATE // HOP  # 32
DB_FLOOR = -80.0  # librosa's top_db=80
AMIN = 1e-10  # librosa's amin: the power below which a cell counts as silent

# Slaney's mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(f) -> np.ndarray:
    """Slaney mel of frequencies ``f`` (Hz), float64, same shape."""
    f = np.asarray(f, dtype=np.float64)
    lin = f / _F_SP
    log = _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(f >= _MIN_LOG_HZ, log, lin)


def mel_to_hz(m) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`, float64."""
    m = np.asarray(m, dtype=np.float64)
    lin = m * _F_SP
    log = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(m, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(m >= _MIN_LOG_MEL, log, lin)


def _mel_edges_hz(n_mels: int = N_MELS, sr: int = SAMPLE_RATE) -> np.ndarray:
    return mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2), n_mels + 2))


def mel_centers_hz(n_mels: int = N_MELS, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Centre frequency (Hz) of each mel band, shape ``(n_mels,)`` float64, ascending."""
    return _mel_edges_hz(n_mels, sr)[1:-1]


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Triangular mel filters, shape ``(n_mels, n_fft // 2 + 1)`` float64.

    Band ``i`` rises from edge ``i`` to a peak at edge ``i + 1`` and falls to edge ``i + 2``; each
    triangle is scaled by ``2 / (width in Hz)`` so every band has the same area (Slaney's norm),
    which keeps wide high bands from dominating.
    """
    edges = _mel_edges_hz(n_mels, sr)
    freqs = np.linspace(0.0, sr / 2, n_fft // 2 + 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lo) / (mid - lo)
    falling = (hi - freqs[None, :]) / (hi - mid)
    tri = np.maximum(0.0, np.minimum(rising, falling))
    return tri * (2.0 / (hi - lo))


_FB32 = mel_filterbank().T.astype(np.float32)  # (1025, 32), reused by every call
# Periodic Hann (as scipy.signal.get_window("hann", N) and librosa): the DFT-even window.
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def fix_length(x: np.ndarray, n: int = SAMPLE_RATE) -> np.ndarray:
    """Cut to the first ``n`` samples or append zeros, along the last axis (as the authors did)."""
    x = np.asarray(x)
    if x.shape[-1] >= n:
        return x[..., :n]
    pad = [(0, 0)] * (x.ndim - 1) + [(0, n - x.shape[-1])]
    return np.pad(x, pad)


def mel_power(x: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Mel power spectrogram of one clip or a batch.

    Args:
        x: audio, shape ``(16000,)`` or ``(n, 16000)`` (other lengths are padded or cut), any
            float or int dtype; values as given (no rescaling).

    Returns:
        float32 ``(32, 32)`` or ``(n, 32, 32)``, layout (mel, time), in units of squared sample
        value (a full-scale sine of amplitude A in one band sums to about ``(A * 2048 / 4)**2``).
    """
    x = np.asarray(x)
    single = x.ndim == 1
    x = fix_length(np.atleast_2d(x).astype(np.float32, copy=False))
    out = np.empty((x.shape[0], N_MELS, N_FRAMES), dtype=np.float32)
    half = N_FFT // 2
    # Batches bound the memory of the (n, 32, 1025) complex spectra.
    for start in range(0, x.shape[0], chunk):
        xb = np.pad(x[start : start + chunk], ((0, 0), (half, half)), mode="reflect")
        frames = np.lib.stride_tricks.sliding_window_view(xb, N_FFT, axis=1)[:, ::HOP]
        spec = scipy.fft.rfft(frames * _WINDOW, axis=-1)
        power = spec.real**2 + spec.imag**2  # (b, 32 frames, 1025)
        out[start : start + chunk] = np.swapaxes(power @ _FB32, 1, 2)
    return out[0] if single else out


def power_to_db(power: np.ndarray, floor_db: float = DB_FLOOR) -> np.ndarray:
    """Decibels relative to each clip's maximum, floored at ``floor_db``.

    Args:
        power: ``(..., 32, 32)`` non-negative power; the reference is taken per clip (the last two
            axes).

    Returns:
        float32 of the same shape, in ``[floor_db, 0]``. An all-zero clip gives all zeros (its
        maximum is its only level), as librosa's ``power_to_db(ref=np.max)`` does.
    """
    db = 10.0 * np.log10(np.maximum(np.asarray(power, dtype=np.float32), AMIN))
    db -= db.max(axis=(-2, -1), keepdims=True)
    return np.maximum(db, floor_db).astype(np.float32, copy=False)


def log_mel(x: np.ndarray) -> np.ndarray:
    """The authors' features: :func:`power_to_db` of :func:`mel_power`.

    Args:
        x: ``(16000,)`` or ``(n, 16000)`` audio.

    Returns:
        float32 ``(32, 32)`` or ``(n, 32, 32)`` in [-80, 0] dB, layout (mel, time).
    """
    return power_to_db(mel_power(x))


# Compact storage: 256 levels over the 80 dB range (0.31 dB a step, well below what matters).
_DB_STEP = -DB_FLOOR / 255.0


def quantize_db(db: np.ndarray) -> np.ndarray:
    """float dB in [-80, 0] -> uint8 codes 0..255 (0 is -80 dB, 255 is 0 dB), same shape."""
    codes = np.rint((np.asarray(db, dtype=np.float64) - DB_FLOOR) / _DB_STEP)
    return np.clip(codes, 0, 255).astype(np.uint8)


def dequantize_db(codes: np.ndarray) -> np.ndarray:
    """uint8 codes -> float32 dB, the inverse of :func:`quantize_db` (error at most 0.16 dB)."""
    return (
        np.asarray(codes, dtype=np.float32) * np.float32(_DB_STEP) + np.float32(DB_FLOOR)
    ).astype(np.float32)
