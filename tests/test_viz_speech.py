"""Drawings of the speech-data chapter: players, the log-mel pipeline, spectrogram grids, tables."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import base64
import io
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.io.wavfile

from compsparse.speech import LABELS, log_mel, mel_power
from compsparse.speech.features import mel_centers_hz
from compsparse.viz.speech import (
    audio_grid,
    class_examples,
    draw_pipeline,
    draw_spectrograms,
    split_table,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _wav(x: np.ndarray, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    scipy.io.wavfile.write(buf, rate, (np.asarray(x) * 32767).astype(np.int16))
    return buf.getvalue()


def _tone(hz: float, amplitude: float = 0.5) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * hz * np.arange(16000) / 16000)).astype(np.float32)


def test_audio_grid_embeds_each_wav_unchanged_and_loads_nothing(tmp_path):
    path = tmp_path / "a.wav"
    path.write_bytes(_wav(_tone(440)))
    other = _wav(_tone(880, 0.1))
    grid = audio_grid({"tone <440>": path, "quiet": other}, columns=3)
    page = grid._repr_html_()
    assert len(grid) == 2
    uris = re.findall(r'<audio [^>]*src="data:audio/wav;base64,([^"]+)"', page)
    assert [base64.b64decode(u) for u in uris] == [path.read_bytes(), other]
    assert "tone &lt;440&gt;" in page  # captions are escaped
    assert "repeat(3," in page
    assert "http" not in page


def test_audio_grid_rejects_what_is_not_a_wav(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.txt: not a wav"):
        audio_grid({"x": bad})
    with pytest.raises(ValueError, match="no clips"):
        audio_grid({})


def test_class_examples_skips_flat_clips_and_marks_missing_classes():
    rng = np.random.default_rng(0)
    X = rng.uniform(-80, 0, (6, 32, 32)).astype(np.float32)
    X[1] = 0.0  # an all-zero "silence" clip: a flat spectrogram
    y = np.array([2, 1, 1, 0, 2, 0])
    assert class_examples(X, y, 4).tolist() == [3, 2, 0, -1]


def test_pipeline_draws_the_clips_own_features():
    x = _tone(1000)
    fig = draw_pipeline(x, frame=5)
    ax_wave, ax_fb, ax_pow, ax_db = fig.axes[:4]
    assert np.allclose(ax_wave.get_lines()[0].get_ydata(), x)
    window = ax_wave.patches[0].get_x(), ax_wave.patches[0].get_width()
    assert window == pytest.approx((5 * 512 / 16000 - 1024 / 16000, 2048 / 16000))
    assert len(ax_fb.get_lines()) == 32
    assert np.allclose(ax_pow.images[0].get_array(), mel_power(x))
    db = ax_db.images[0].get_array()
    assert np.allclose(db, log_mel(x))
    # a 1 kHz tone is loudest in the band whose centre is nearest 1 kHz, drawn at its row
    loudest_band = np.unravel_index(np.argmax(db), db.shape)[0]
    assert loudest_band == np.argmin(np.abs(mel_centers_hz() - 1000))
    assert ax_db.images[0].origin == "lower"
    with pytest.raises(ValueError, match="one clip at a time"):
        draw_pipeline(np.zeros((2, 16000)))


def test_spectrogram_grid_one_labelled_panel_per_entry_on_one_scale():
    rng = np.random.default_rng(1)
    panels = {lab: rng.uniform(-80, 0, (32, 32)) for lab in LABELS}
    fig = draw_spectrograms(panels, columns=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == list(LABELS)
    for ax, feature in zip(shown, panels.values(), strict=True):
        image = ax.images[0]
        assert np.array_equal(image.get_array(), feature)
        assert image.get_clim() == (-80.0, 0.0)
    assert sum(ax.get_ylabel() != "" for ax in shown) == 3  # first column only
    assert any("dB" in ax.get_ylabel() for ax in fig.axes if not ax.images)  # the colour bar
    fig = draw_spectrograms(dict(list(panels.items())[:5]), columns=4)
    assert sum(ax.get_visible() for ax in fig.axes if ax.images) == 5
    with pytest.raises(ValueError, match="expected \\(32, 32\\)"):
        draw_spectrograms({"x": np.zeros((32, 31))})


def test_split_table_counts_every_class_and_split():
    table = split_table({"train": np.array([0, 0, 1, 2]), "test": np.array([2])}, ["a", "b", "c"])
    rows = [line.split("|")[1:-1] for line in table.splitlines()]
    assert [c.strip() for c in rows[0]] == ["class", "train", "test", "all"]
    body = {r[0].strip(): [c.strip() for c in r[1:]] for r in rows[2:]}
    assert body["a"] == ["2", "0", "2"]
    assert body["c"] == ["1", "1", "2"]
    assert body["**all**"] == ["**4**", "**1**", "**5**"]
    with pytest.raises(ValueError, match=r"outside 0\.\.2"):
        split_table({"train": np.array([3])}, ["a", "b", "c"])
