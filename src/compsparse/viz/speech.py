"""Figures of the speech-data chapter: audio players, the log-mel pipeline, spectrogram grids.

Every spectrogram is drawn the same way: layout (mel, time) as ``compsparse.speech`` returns it,
the lowest band at the bottom, time in seconds, one colour scale from -80 dB (the floor) to 0 dB
(the clip's loudest cell). The audio players embed each wav file as a ``data:`` URI, so the page
plays them offline and loads nothing from the network.

Book: chapter "Speech data" (book/07_speech_data.ipynb).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ..speech.features import (
    DB_FLOOR,
    HOP,
    N_FFT,
    N_FRAMES,
    N_MELS,
    SAMPLE_RATE,
    mel_centers_hz,
    mel_filterbank,
    mel_power,
    power_to_db,
)

__all__ = [
    "CMAP",
    "AudioGrid",
    "audio_grid",
    "class_examples",
    "draw_pipeline",
    "draw_spectrograms",
    "split_table",
]

CMAP = "magma"
# Frame t is centred on sample t * HOP: the image spans half a hop either side of the centres.
_EXTENT_S = (-HOP / 2 / SAMPLE_RATE, (N_FRAMES - 0.5) * HOP / SAMPLE_RATE)
_MEL_TICKS = (0, 8, 16, 24, 31)


def _wav_bytes(clip: bytes | str | Path) -> bytes:
    data = clip if isinstance(clip, bytes) else Path(clip).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        where = "the bytes given" if isinstance(clip, bytes) else str(clip)
        raise ValueError(f"{where}: not a wav file (no RIFF/WAVE header); pass a .wav file")
    return data


class AudioGrid:
    """Captioned ``<audio>`` players in a grid, each clip embedded in the page (see module)."""

    def __init__(self, clips: Sequence[tuple[str, bytes]], columns: int = 4):
        self.clips = list(clips)
        self.columns = columns

    def __len__(self) -> int:
        return len(self.clips)

    def to_html(self) -> str:
        cells = []
        for caption, data in self.clips:
            uri = "data:audio/wav;base64," + base64.b64encode(data).decode("ascii")
            cells.append(
                '<figure class="cs-audio" style="margin:0;display:flex;flex-direction:column">'
                '<figcaption style="font-weight:600;margin-bottom:4px;flex-grow:1">'
                f"{html.escape(caption)}</figcaption>"
                f'<audio controls preload="none" style="width:100%" src="{uri}"></audio>'
                "</figure>"
            )
        style = (
            f"display:grid;grid-template-columns:repeat({self.columns},minmax(0,1fr));"
            "gap:10px 14px;margin:0.5em 0 1em 0"
        )
        return f'<div class="cs-audio-grid" style="{style}">{"".join(cells)}</div>'

    def _repr_html_(self) -> str:
        return self.to_html()


def audio_grid(clips: Mapping[str, bytes | str | Path], columns: int = 4) -> AudioGrid:
    """Players for wav clips, in the order given.

    Args:
        clips: ``{caption: wav}``, each wav a file path or the bytes of a wav file (played as is:
            no resampling, no normalisation).
        columns: players per row.

    Raises:
        ValueError: a clip is not a wav file, or there are no clips.
    """
    if not clips:
        raise ValueError("no clips to play: pass {caption: path to a .wav file}")
    return AudioGrid([(str(k), _wav_bytes(v)) for k, v in clips.items()], columns)


def class_examples(X: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Index of the first clip of each class whose features are not constant.

    An all-zero "silence" clip has a flat spectrogram (every cell is its own maximum), which shows
    nothing; the first clip with some structure is picked instead.

    Args:
        X: ``(n, 32, 32)`` features; y: int ``(n,)`` labels in ``0..n_classes-1``.

    Returns:
        int64 ``(n_classes,)``; ``-1`` where a class has no such clip.
    """
    X, y = np.asarray(X), np.asarray(y)
    varied = np.ptp(X.reshape(len(X), -1), axis=1) > 0 if len(X) else np.zeros(0, bool)
    out = np.full(n_classes, -1, dtype=np.int64)
    for c in range(n_classes):
        hits = np.flatnonzero((y == c) & varied)
        if hits.size:
            out[c] = hits[0]
    return out


def _mel_axis(ax, label: bool = True) -> None:
    """Mel bands as y ticks labelled with their centre frequency; ``label``: the axis title."""
    centres = mel_centers_hz()
    ax.set_yticks(_MEL_TICKS, [f"{centres[b] / 1000:.1f}" for b in _MEL_TICKS])
    if label:
        ax.set_ylabel("mel band centre (kHz)")


def _show(ax, feature: np.ndarray, **kw):
    return ax.imshow(
        feature,
        origin="lower",
        aspect="auto",
        extent=(*_EXTENT_S, -0.5, N_MELS - 0.5),
        interpolation="nearest",
        **kw,
    )


def draw_spectrograms(
    panels: Mapping[str, np.ndarray], columns: int = 4, panel_size: tuple[float, float] = (1.9, 1.7)
):
    """A grid of labelled log-mel spectrograms on one dB scale, with one colour bar.

    Args:
        panels: ``{title: float (32, 32) dB features}``, layout (mel, time), drawn in order.
        columns: panels per row.

    Returns:
        The figure; each panel's title is its key, axes are time (s) and mel band centre (kHz).
    """
    if not panels:
        raise ValueError("no spectrograms to draw")
    for title, feature in panels.items():
        if np.shape(feature) != (N_MELS, N_FRAMES):
            raise ValueError(
                f"panel {title!r}: shape {np.shape(feature)}, expected ({N_MELS}, {N_FRAMES}) "
                "log-mel features in (mel, time) layout"
            )
    n = len(panels)
    columns = min(columns, n)
    rows = -(-n // columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(panel_size[0] * columns + 1.0, panel_size[1] * rows + 0.4),
        squeeze=False,
        sharex=True,
        sharey=True,
        layout="constrained",
    )
    image = None
    for i, (title, feature) in enumerate(panels.items()):
        ax = axes.flat[i]
        image = _show(ax, np.asarray(feature), cmap=CMAP, vmin=DB_FLOOR, vmax=0.0)
        ax.set_title(title, fontsize=10)
        _mel_axis(ax, label=i % columns == 0)
        ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])  # short labels: panels sit close
        if i + columns >= n:  # nothing drawn below this panel
            ax.set_xlabel("time (s)")
            ax.tick_params(labelbottom=True)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.colorbar(image, ax=axes, shrink=0.85, label="dB re the clip's loudest cell")
    return fig


def draw_pipeline(x: np.ndarray, frame: int = 16):
    """The authors' features of one clip, step by step (``compsparse.speech.log_mel``).

    Four panels: the waveform with the 2048-sample window of analysis frame ``frame`` and the 32
    frame centres; the 32 mel filters over frequency; the clip's mel power on a linear scale;
    the same in dB re its maximum, floored at -80 dB (the network's 32x32 input).

    Args:
        x: float ``(16000,)`` audio in [-1, 1) at 16 kHz (other lengths are padded or cut).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"one clip at a time: got shape {x.shape}, expected (16000,)")
    if not 0 <= frame < N_FRAMES:
        raise ValueError(f"frame {frame} outside 0..{N_FRAMES - 1}")
    power = mel_power(x)
    db = power_to_db(power)
    fig, axes = plt.subplots(2, 2, figsize=(8.8, 6.4))
    (ax_wave, ax_fb), (ax_pow, ax_db) = axes

    t = np.arange(len(x)) / SAMPLE_RATE
    ax_wave.plot(t, x, color="#4c72b0", linewidth=0.5)
    centre = frame * HOP / SAMPLE_RATE
    half = N_FFT / 2 / SAMPLE_RATE
    ax_wave.axvspan(
        centre - half, centre + half, color="#dd8452", alpha=0.25, label=f"window of frame {frame}"
    )
    ax_wave.plot(
        np.arange(N_FRAMES) * HOP / SAMPLE_RATE,
        np.full(N_FRAMES, -1.0),
        "|",
        color="#444444",
        markersize=8,
        label=f"{N_FRAMES} frame centres",
    )
    ax_wave.set(
        xlim=(-half, len(x) / SAMPLE_RATE + half * 0.1),
        ylim=(-1.08, 1.0),
        xlabel="time (s)",
        ylabel="amplitude",
        title="1. waveform, 16 kHz",
    )
    ax_wave.legend(loc="upper right", fontsize=8)

    fb = mel_filterbank()
    freqs = np.linspace(0, SAMPLE_RATE / 2, fb.shape[1]) / 1000
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, N_MELS))
    for band, color in zip(fb, colors, strict=True):
        ax_fb.plot(freqs, band / band.max(), color=color, linewidth=0.8)
    ax_fb.set(
        xlim=(0, SAMPLE_RATE / 2000),
        xlabel="frequency (kHz)",
        ylabel="weight (scaled to peak 1)",
        title=f"2. {N_MELS} mel filters: narrow low, wide high",
    )

    im = _show(ax_pow, power, cmap=CMAP)
    _mel_axis(ax_pow)
    ax_pow.set(xlabel="time (s)", title="3. mel power (linear scale)")
    fig.colorbar(im, ax=ax_pow, label="power")
    im = _show(ax_db, db, cmap=CMAP, vmin=DB_FLOOR, vmax=0.0)
    _mel_axis(ax_db)
    ax_db.set(xlabel="time (s)", title=f"4. dB re loudest cell, floor {DB_FLOOR:g}")
    fig.colorbar(im, ax=ax_db, label="dB")
    fig.tight_layout()
    return fig


def split_table(y_by_split: Mapping[str, np.ndarray], labels: Sequence[str]) -> str:
    """Markdown table of clips per class and split, with a total row and column.

    Args:
        y_by_split: ``{split name: int labels (n,)}``, indices into ``labels``.

    Raises:
        ValueError: a label is outside ``0..len(labels)-1``.
    """
    counts = {}
    for split, y in y_by_split.items():
        y = np.asarray(y)
        if y.size and (y.min() < 0 or y.max() >= len(labels)):
            raise ValueError(f"split {split!r} has labels outside 0..{len(labels) - 1}")
        counts[split] = np.bincount(y.astype(np.int64), minlength=len(labels))
    splits = list(counts)
    head = "| class | " + " | ".join(splits) + " | all |"
    rule = "|---|" + "---:|" * (len(splits) + 1)
    body = [
        f"| {label} | "
        + " | ".join(f"{counts[s][c]:,}" for s in splits)
        + f" | {sum(int(counts[s][c]) for s in splits):,} |"
        for c, label in enumerate(labels)
    ]
    total = (
        "| **all** | "
        + " | ".join(f"**{int(counts[s].sum()):,}**" for s in splits)
        + f" | **{sum(int(counts[s].sum()) for s in splits):,}** |"
    )
    return "\n".join([head, rule, *body, total])
