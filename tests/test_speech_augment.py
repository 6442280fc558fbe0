"""Augmentation: seeded, and each step moves the features the way the audio change would."""

from __future__ import annotations

import numpy as np
import pytest

from compsparse.speech import features as F
from compsparse.speech.augment import (
    augment_features,
    augment_waveform,
    mix_noise_features,
    warp_features,
)


def blob(n=4, band=10, frame=12):
    """Quiet clips (-60 dB) with one loud cell: easy to follow through a warp."""
    X = np.full((n, 32, 32), -60.0, np.float32)
    X[:, band, frame] = 0.0
    return X


def peak(X):
    flat = X.reshape(len(X), -1).argmax(axis=1)
    return np.stack(np.unravel_index(flat, (32, 32)), axis=1)  # (band, frame)


def test_identity_when_nothing_is_drawn():
    rng = np.random.default_rng(0)
    X = np.random.default_rng(1).uniform(-80, 0, (5, 32, 32)).astype(np.float32)
    assert np.allclose(augment_features(X, rng, p=0.0), X)
    ones = np.ones(5)
    assert np.allclose(warp_features(X, np.zeros(5), ones, ones), X, atol=1e-5)


def test_shift_moves_frames():
    out = warp_features(blob(3), np.array([3.0, -5.0, 0.0]), np.ones(3), np.ones(3))
    assert peak(out).tolist() == [[10, 15], [10, 7], [10, 12]]
    assert out[0, 10, :3].max() == -60.0  # frames shifted in take the clip's floor


def test_speed_raises_pitch_and_shortens():
    centers = F.mel_centers_hz()
    out = warp_features(blob(1, band=10, frame=20), np.zeros(1), np.array([1.2]), np.ones(1))
    band, frame = peak(out)[0]
    assert band == int(np.argmin(np.abs(centers - 1.2 * centers[10])))
    assert frame == round(20 / 1.2)
    slower = warp_features(blob(1, band=10, frame=20), np.zeros(1), np.array([0.8]), np.ones(1))
    assert peak(slower)[0, 0] < 10 and peak(slower)[0, 1] == 25


def test_stretch_keeps_pitch_and_scales_about_the_middle():
    out = warp_features(blob(1, band=7, frame=27), np.zeros(1), np.ones(1), np.array([1.25]))
    band, frame = peak(out)[0]
    assert band == 7 and frame == round((27 - 15.5) / 1.25 + 15.5)


def test_noise_mixing_follows_the_snr():
    rng = np.random.default_rng(2)
    X = blob(2)
    noise = rng.uniform(-10, 0, (2, 32, 32)).astype(np.float32)
    clean = mix_noise_features(X, noise, np.array([80.0, 80.0]))
    assert np.allclose(clean, X, atol=0.1)
    drowned = mix_noise_features(X, noise, np.array([-60.0, -60.0]))
    assert np.allclose(drowned, noise - noise.max(axis=(1, 2), keepdims=True), atol=0.1)
    mid = mix_noise_features(X, noise, np.array([0.0, 0.0]))
    assert mid.max() == 0 and mid.min() >= -80 and (mid > -60).mean() > 0.9


def test_augment_features_is_seeded():
    X = np.random.default_rng(3).uniform(-80, 0, (50, 32, 32)).astype(np.float32)
    noise = np.random.default_rng(4).uniform(-30, 0, (8, 32, 32)).astype(np.float32)
    a = augment_features(X, np.random.default_rng(7), noise)
    b = augment_features(X, np.random.default_rng(7), noise)
    c = augment_features(X, np.random.default_rng(8), noise)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.dtype == np.float32 and a.shape == X.shape and a.min() >= -80 and a.max() <= 0
    changed = np.abs(a - X).max(axis=(1, 2)) > 1e-3
    assert 0.8 < changed.mean() < 1.0  # 1 - 0.5**4 of clips get at least one step


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_augment_waveform(seed):
    x = (0.3 * np.sin(2 * np.pi * 500 * np.arange(16000) / 16000)).astype(np.float32)
    noise = np.random.default_rng(9).standard_normal(40000).astype(np.float32) * 0.1
    a = augment_waveform(x, np.random.default_rng(seed), noise, p=1.0)
    b = augment_waveform(x, np.random.default_rng(seed), noise, p=1.0)
    assert np.array_equal(a, b) and a.shape == (16000,) and a.dtype == np.float32
    assert np.abs(a).max() < 1 and not np.allclose(a, x)
    assert np.array_equal(augment_waveform(x, np.random.default_rng(seed), noise, p=0.0), x)
    # speed only: the tone's frequency scales with the speed factor
    rng = np.random.default_rng(seed)
    sped = augment_waveform(x, rng, None, p=1.0, amplitude=(1, 1), max_shift_s=0)
    spec = np.abs(np.fft.rfft(sped[:8000]))
    assert 400 < np.argmax(spec) * 2 < 600 and np.argmax(spec) * 2 != 500
