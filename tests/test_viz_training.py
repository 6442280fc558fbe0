"""Drawings of the training and int8 chapters."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from quant_models import random_quant_model

from compsparse.viz.training import (
    draw_accuracy,
    draw_activation_sparsity,
    draw_int8_layer,
    draw_learning_curves,
    draw_quantized_input,
    draw_requantize,
    markdown_table,
    winners_per_pixel,
)


def _history(n, boost_off=2):
    return [
        {
            "epoch": e + 1,
            "train_loss": 2.0 / (e + 1),
            "train_accuracy": 0.5 + e / (2 * n),
            "val_accuracy": 0.4 + e / (2 * n),
            "boost": 0.0 if e >= n - boost_off else 1.0,
        }
        for e in range(n)
    ]


def test_learning_curves_one_line_per_variant_and_boost_band():
    fig = draw_learning_curves({"dense": _history(5), "sparse-sparse": _history(5)})
    loss, acc = fig.axes
    assert len(loss.get_lines()) == 2
    val = next(line for line in acc.get_lines() if line.get_label() == "sparse-sparse")
    assert np.allclose(val.get_ydata(), [100 * h["val_accuracy"] for h in _history(5)])
    assert any("no boosting" in t.get_text() for t in acc.texts)
    plt.close(fig)
    with pytest.raises(ValueError, match="train a model"):
        draw_learning_curves({})


def test_accuracy_bars_label_the_paper_band():
    results = {"dense": {"float32": 0.9, "int8": 0.89}, "sparse-sparse": {"float32": 0.88}}
    fig = draw_accuracy(results, paper_range=(96.4, 96.9), chance=1 / 12)
    ax = fig.axes[0]
    bars = [bar for container in ax.containers for bar in container]
    heights = sorted(round(bar.get_height(), 3) for bar in bars if np.isfinite(bar.get_height()))
    assert heights == [88.0, 89.0, 90.0]
    assert any(t.get_text() == "paper (real GSC)" for t in ax.texts)
    plt.close(fig)


def test_activation_sparsity_bars():
    data = {
        "dense": [("conv2", 0.5), ("linear1", 0.6)],
        "sparse-sparse": [("conv2", 0.89), ("linear1", 0.9)],
    }
    fig = draw_activation_sparsity(data, paper_range=(88, 90))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == ["dense", "paper", "sparse-sparse"]
    bars = [bar for container in ax.containers for bar in container]
    assert sorted(round(bar.get_height(), 1) for bar in bars) == [50.0, 60.0, 89.0, 90.0]
    plt.close(fig)


def test_requantize_staircase_is_the_rule():
    fig = draw_requantize(multiplier=2**14, shift=20)  # one step every 64 units
    ax = fig.axes[0]
    step = next(line for line in ax.get_lines() if line.get_label() == "int8 output")
    acc, y = step.get_xdata(), step.get_ydata()
    assert y.min() == 0 and y.max() == 127
    assert np.array_equal(y, np.clip((acc + 32) // 64, 0, 127))
    plt.close(fig)


def test_int8_layer_panels_and_winner_counts():
    model = random_quant_model("sparse-sparse", 0)
    out = model.forward_layers(np.zeros((12, 12), np.int8), quantized=True)[0]
    fig = draw_int8_layer(out, channel=1)
    assert len(fig.axes) == 8  # 4 panels + 4 colour bars
    assert np.array_equal(fig.axes[0].get_images()[0].get_array(), out.acc[1])
    plt.close(fig)
    counts = winners_per_pixel(out.active)
    assert counts.shape == out.out.shape[1:] and np.all(counts == model.layers[0].k)
    with pytest.raises(ValueError, match="conv"):
        draw_int8_layer(model.forward_layers(np.zeros((12, 12), np.int8), quantized=True)[2])


def test_markdown_table():
    text = markdown_table([{"a": 1, "b": "x"}], {"a": "A", "b": "B"})
    assert text.splitlines() == ["| A | B |", "|---|---|", "| 1 | x |"]


def test_quantized_input_panels():
    x = np.linspace(-80, 0, 32 * 32, dtype=np.float32).reshape(32, 32)
    xq = np.clip(np.rint((x + 40) / 0.4), -128, 127).astype(np.int8)
    fig = draw_quantized_input(x, xq)
    assert np.array_equal(fig.axes[1].get_images()[0].get_array(), xq)
    plt.close(fig)
