"""Log-mel features: checked against an independent computation on known signals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from compsparse.speech import features as F

SR, N = 16000, 2048


def slaney_mel(f: float) -> float:
    """Slaney's mel scale written out with math (independent of the package's numpy version)."""
    return f / (200 / 3) if f < 1000 else 15 + math.log(f / 1000) * 27 / math.log(6.4)


def slaney_hz(m: float) -> float:
    return m * (200 / 3) if m < 15 else 1000 * math.exp((m - 15) * math.log(6.4) / 27)


def band_weight(band: int, f: float) -> float:
    """Weight of mel band ``band`` at frequency ``f``: an area-1 triangle between its edges."""
    top = slaney_mel(SR / 2)
    lo, mid, hi = (slaney_hz(top * (band + i) / 33) for i in range(3))
    if not lo < f < hi:
        return 0.0
    rise = (f - lo) / (mid - lo) if f <= mid else (hi - f) / (hi - mid)
    return rise * 2 / (hi - lo)


def tone(freq: float, amp: float = 0.5) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(SR) / SR)


def test_shapes_and_dtypes():
    x = tone(440)
    assert F.log_mel(x).shape == (32, 32) and F.log_mel(x).dtype == np.float32
    batch = np.stack([x, 0.1 * x, np.zeros(SR)])
    out = F.log_mel(batch)
    assert out.shape == (3, 32, 32) and out.dtype == np.float32
    assert F.mel_power(batch.astype(np.int16)).dtype == np.float32
    assert np.allclose(out[0], F.log_mel(x), atol=1e-4)


@pytest.mark.parametrize("freq", [250.0, 700.0, 1500.0, 3000.0, 6000.0])
def test_pure_tone_lands_in_its_mel_band(freq):
    spectrum = F.mel_power(tone(freq)).sum(axis=1)  # over time
    expected = max(range(32), key=lambda b: band_weight(b, freq))
    assert int(np.argmax(spectrum)) == expected
    centers = F.mel_centers_hz()
    assert abs(centers[expected] - freq) < (centers[min(expected + 1, 31)] - centers[expected - 1])


@pytest.mark.parametrize("k", [40, 200, 517])
def test_tone_power_matches_hann_dft_by_hand(k):
    """A tone on FFT bin k: a periodic-Hann frame puts (A*N/4)**2 in bin k, (A*N/8)**2 beside it."""
    amp, freq = 0.3, k * SR / N
    frame_power = F.mel_power(tone(freq, amp))[:, 16]  # a middle frame, far from padding
    bins = {k: (amp * N / 4) ** 2, k - 1: (amp * N / 8) ** 2, k + 1: (amp * N / 8) ** 2}
    expected = np.array(
        [sum(band_weight(b, j * SR / N) * pw for j, pw in bins.items()) for b in range(32)]
    )
    assert np.allclose(frame_power, expected, rtol=2e-3, atol=1e-6 * expected.max())


def test_energy_scaling():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(SR) * 0.1
    assert np.allclose(F.mel_power(2 * x), 4 * F.mel_power(x), rtol=1e-4)
    # dB relative to the clip's own maximum: loudness cancels, down to the 80 dB floor.
    assert np.allclose(F.log_mel(2 * x), F.log_mel(x), atol=1e-3)
    db = F.log_mel(x)
    assert db.max() == 0.0 and db.min() >= -80.0
    # 10 dB more power in one half of the clip shows as +10 dB there (relative to the other half).
    y = x.copy()
    y[SR // 2 :] *= math.sqrt(10)
    diff = F.log_mel(y)[:, 24:30] - F.log_mel(x)[:, 24:30]
    assert np.allclose(diff - diff.mean(), 0, atol=0.05)
    assert F.log_mel(y)[:, 2:8].mean() < F.log_mel(x)[:, 2:8].mean() - 9


def test_silence_and_length_handling():
    assert np.array_equal(F.log_mel(np.zeros(SR)), np.zeros((32, 32), np.float32))
    short = tone(1000)[:9000]
    assert np.array_equal(F.log_mel(short), F.log_mel(np.pad(short, (0, SR - 9000))))
    long = tone(1000, 0.1)
    long = np.concatenate([long, np.ones(5000)])
    assert np.array_equal(F.log_mel(long), F.log_mel(long[:SR]))


def test_filterbank_triangles_have_unit_area():
    fb = F.mel_filterbank()
    assert fb.shape == (32, 1025) and (fb >= 0).all()
    area = fb.sum(axis=1) * (SR / N)
    assert np.allclose(area, 1.0, atol=0.03)
    assert np.all(np.diff(F.mel_centers_hz()) > 0)
    assert np.allclose(
        F.mel_to_hz(F.hz_to_mel([0, 500, 1000, 4321, 8000])), [0, 500, 1000, 4321, 8000]
    )


@given(hnp.arrays(np.float32, st.integers(1, 50), elements=st.floats(-80, 0, width=32)))
def test_quantize_round_trip(db):
    codes = F.quantize_db(db)
    assert codes.dtype == np.uint8
    assert np.max(np.abs(F.dequantize_db(codes) - db)) <= 80 / 255 / 2 + 1e-5
    assert np.array_equal(F.quantize_db(F.dequantize_db(codes)), codes)


def test_quantize_ends():
    assert F.quantize_db(np.array([-80.0, 0.0, -200.0])).tolist() == [0, 255, 0]
