"""Figures of the training and int8 chapters: learning curves, accuracy, sparsity, requantisation.

Every function takes results that code produced (training histories, ``evaluate`` JSON, the
integer pipeline's :class:`~compsparse.quant.LayerOutput` list) and returns a matplotlib figure.
The paper's numbers are drawn as shaded bands labelled "paper".

Book: chapters "Training" (book/08_training.ipynb) and "int8" (book/09_int8.ipynb).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..kwta import SparseActivation
from ..quant import ACT_MAX, ACT_MIN

__all__ = [
    "VARIANT_COLORS",
    "draw_accuracy",
    "draw_activation_sparsity",
    "draw_int8_layer",
    "draw_learning_curves",
    "draw_quantized_input",
    "draw_recipe_seeds",
    "draw_requantize",
    "markdown_table",
    "winners_per_pixel",
]

VARIANT_COLORS = {"dense": "#4c72b0", "sparse-dense": "#dd8452", "sparse-sparse": "#55a868"}
PAPER_COLOR = "#999999"


def markdown_table(rows: list[dict], columns: dict[str, str]) -> str:
    """A Markdown table of ``rows``: ``columns`` maps row keys to header texts (values as is)."""
    head = "| " + " | ".join(columns.values()) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(str(row.get(key, "")) for key in columns) + " |" for row in rows]
    return "\n".join([head, rule, *body])


def draw_learning_curves(histories: dict[str, list[dict]]):
    """Training loss and validation accuracy per epoch, one line per variant.

    Args:
        histories: ``{variant: [{"epoch", "train_loss", "train_accuracy", "val_accuracy",
            "boost"}, ...]}`` as written by ``python -m compsparse train`` (history.json).
    """
    if not histories:
        raise ValueError("no histories to draw: train a model first (python -m compsparse train)")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for variant, history in histories.items():
        epochs = [h["epoch"] for h in history]
        color = VARIANT_COLORS.get(variant)
        ax_loss.plot(epochs, [h["train_loss"] for h in history], color=color, label=variant)
        ax_acc.plot(epochs, [100 * h["val_accuracy"] for h in history], color=color, label=variant)
        ax_acc.plot(
            epochs,
            [100 * h["train_accuracy"] for h in history],
            color=color,
            linestyle=":",
            linewidth=1,
        )
        off = [h["epoch"] for h in history if h.get("boost", 0) == 0]
        if variant == "sparse-sparse" and off and len(off) < len(history):
            ax_acc.axvspan(off[0] - 0.5, epochs[-1] + 0.5, color="#eeeeee", zorder=0)
            ax_acc.text(off[0] - 0.3, 3, "no boosting", fontsize=8, color="#666666")
    ax_loss.set(xlabel="epoch", ylabel="training loss (augmented clips)", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", ylim=(0, 100))
    ax_acc.plot([], [], color="black", label="validation")
    ax_acc.plot([], [], color="black", linestyle=":", linewidth=1, label="training (augmented)")
    ax_acc.legend(loc="lower right", fontsize=8)
    ax_loss.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw_accuracy(results: dict[str, dict[str, float]], paper_range=None, chance=None):
    """Test accuracy per variant, float and int8 side by side, beside the paper's range.

    Args:
        results: ``{variant: {"float32": accuracy, "int8": accuracy}}`` (fractions).
        paper_range: ``(low, high)`` in percent: drawn as a band labelled "paper (real GSC)".
        chance: chance level (fraction), drawn as a dashed line.
    """
    fig, ax = plt.subplots(figsize=(7, 3.6))
    variants = list(results)
    width = 0.38
    for j, precision in enumerate(["float32", "int8"]):
        xs = np.arange(len(variants)) + (j - 0.5) * width
        accs = [100 * results[v].get(precision, np.nan) for v in variants]
        bars = ax.bar(
            xs,
            accs,
            width,
            color=[VARIANT_COLORS.get(v, "grey") for v in variants],
            alpha=1.0 if precision == "float32" else 0.55,
            edgecolor="black",
            linewidth=0.5,
        )
        for bar, acc in zip(bars, accs, strict=True):
            if np.isfinite(acc):
                ax.text(bar.get_x() + width / 2, acc + 0.8, f"{acc:.1f}", ha="center", fontsize=8)
                ax.text(bar.get_x() + width / 2, 3, precision, ha="center", fontsize=7, rotation=90)
    if paper_range is not None:
        ax.axhspan(*paper_range, color=PAPER_COLOR, alpha=0.35, zorder=0)
        # above the bars' value labels, which sit just over the band
        ax.text(len(variants) - 0.5, paper_range[1] + 5, "paper (real GSC)", ha="right", fontsize=8)
    if chance is not None:
        ax.axhline(100 * chance, color="black", linestyle="--", linewidth=0.8)
        ax.text(-0.45, 100 * chance + 1, "chance", fontsize=8)
    ax.set_xticks(np.arange(len(variants)), variants)
    ax.set(ylabel="test accuracy (%)", ylim=(0, 110))
    fig.tight_layout()
    return fig


def draw_recipe_seeds(runs: list[dict], what: dict[str, str] | None = None, margin: float = 1.0):
    """int8 test accuracy of every run of a recipe sweep: one row per recipe, one dot per seed
    (coloured by variant), a bar at the mean; the dense recipe's mean float32 accuracy as a
    line, and the band within ``margin`` points of it (the training issue's target).

    Args:
        runs: rows of ``python -m compsparse sweep`` (``recipe``, ``seed``, ``test_int8``,
            ``test_float``, ``net["variant"]``); the recipe named ``"dense"`` is the reference.
        what: optional ``{recipe: label}``; its order is the rows' order (default: the recipes
            in the order they first appear in ``runs``, dense first).
    """
    dense = [100 * r["test_float"] for r in runs if r["recipe"] == "dense"]
    if not dense:
        raise ValueError("the sweep has no 'dense' runs to compare with")
    in_runs = list(dict.fromkeys(r["recipe"] for r in runs))
    names = [n for n in what or {} if n in in_runs] + [n for n in in_runs if n not in (what or {})]
    names = ["dense"] + [n for n in names if n != "dense"]
    variant = {r["recipe"]: r["net"]["variant"] for r in runs}
    fig, ax = plt.subplots(figsize=(8, 0.34 * len(names) + 1.2))
    ref = float(np.mean(dense))
    ax.axvspan(ref - margin, ref, color=VARIANT_COLORS["dense"], alpha=0.12, zorder=0)
    ax.axvline(ref, color=VARIANT_COLORS["dense"], linewidth=1)
    ax.text(
        ref - margin,
        -0.9,
        f"dense float32, mean (line), and {margin:g} point below it ",
        ha="right",
        fontsize=8,
        color="#333333",
    )
    for y, name in enumerate(names):
        acc = [100 * r["test_int8"] for r in runs if r["recipe"] == name]
        ax.scatter(acc, [y] * len(acc), color=VARIANT_COLORS[variant[name]], s=22, zorder=3)
        ax.plot([np.mean(acc)] * 2, [y - 0.3, y + 0.3], color="black", linewidth=1.5)
        ax.text(max(acc) + 0.15, y, f"n={len(acc)}", va="center", fontsize=7, color="#666666")
    labels = [(what or {}).get(n, n) for n in names]
    ax.set_yticks(range(len(names)), labels, fontsize=8)
    ax.set_ylim(len(names) - 0.5, -1.3)
    ax.margins(x=0.12)
    ax.set_xlabel("int8 test accuracy (%): one dot per seed, bar at the mean")
    fig.tight_layout()
    return fig


def draw_activation_sparsity(layer_sparsity: dict[str, list[tuple[str, float]]], paper_range=None):
    """Measured fraction of zeros in each layer's input, per variant.

    Args:
        layer_sparsity: ``{variant: [(layer name, fraction of zeros), ...]}``.
        paper_range: ``(low, high)`` percent of activations that are zero in the paper.
    """
    fig, ax = plt.subplots(figsize=(7, 3.4))
    variants = list(layer_sparsity)
    names = [name for name, _ in next(iter(layer_sparsity.values()))]
    width = 0.8 / max(1, len(variants))
    for j, variant in enumerate(variants):
        xs = np.arange(len(names)) + (j - (len(variants) - 1) / 2) * width
        vals = [100 * s for _, s in layer_sparsity[variant]]
        ax.bar(xs, vals, width, color=VARIANT_COLORS.get(variant), label=variant)
    if paper_range is not None:
        ax.axhspan(*paper_range, color=PAPER_COLOR, alpha=0.35, zorder=0, label="paper")
    ax.set_xticks(np.arange(len(names)), [f"input of\n{n}" for n in names])
    ax.set(ylabel="zeros in the layer's input (%)", ylim=(0, 100))
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def draw_requantize(multiplier: int, shift: int, acc_range=None):
    """The requantisation rule of one channel: int32 accumulator -> int8 activation.

    Draws ``clip((acc*M + 2**(s-1)) >> s, 0, 127)`` over ``acc_range`` (default: the range
    that reaches saturation), with the real-valued line ``acc * M / 2**s`` for comparison.
    """
    step = 2**shift / multiplier  # accumulator units per output step
    lo, hi = acc_range if acc_range is not None else (-20 * step, 140 * step)
    acc = np.unique(np.linspace(lo, hi, 4000).astype(np.int64))
    y = np.clip((acc * multiplier + (1 << (shift - 1))) >> shift, ACT_MIN, ACT_MAX)
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.plot(acc, acc * multiplier / 2**shift, color=PAPER_COLOR, linewidth=1, label="acc x M / 2^s")
    ax.step(acc, y, where="post", color=VARIANT_COLORS["sparse-sparse"], label="int8 output")
    ax.axhline(ACT_MAX, color="black", linestyle=":", linewidth=0.8)
    ax.set(
        xlabel="int32 accumulator",
        ylabel="int8 activation",
        ylim=(-15, 145),
        title=f"M = {multiplier}, s = {shift}: one step every {step:.1f} accumulator units",
    )
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def draw_int8_layer(output, channel: int = 0):
    """One conv layer's integer intermediates for one clip: acc, pooled, int8 out, winners.

    Args:
        output: a :class:`~compsparse.quant.LayerOutput` of a conv layer.
        channel: which channel to show in the first three panels.
    """
    if output.acc.ndim != 3:
        raise ValueError("draw_int8_layer shows a conv layer's (c, h, w) outputs")
    panels = [
        (output.acc[channel], f"accumulator, channel {channel} (int32)", "RdBu_r"),
        (output.pooled[channel], "after max-pool (int32)", "RdBu_r"),
        (output.out[channel], "requantised + ReLU (int8)", "Greens"),
    ]
    if output.active is not None:
        dense = output.active.to_dense()
        panels.append((dense[channel], f"after k-WTA, channel {channel}", "Greens"))
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.2))
    for ax, (img, title, cmap) in zip(np.atleast_1d(axes), panels, strict=True):
        if cmap == "RdBu_r":
            m = max(1, int(np.abs(img).max()))
            im = ax.imshow(img, cmap=cmap, vmin=-m, vmax=m)
        else:
            im = ax.imshow(img, cmap=cmap, vmin=0, vmax=ACT_MAX)
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def draw_quantized_input(features: np.ndarray, xq: np.ndarray):
    """A clip's log-mel features (float dB) beside its int8 input, ``(h, w)`` each."""
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.2))
    panels = [(features, "log-mel features (dB, float32)"), (xq, "network input (int8)")]
    for ax, (img, title) in zip(axes, panels, strict=True):
        im = ax.imshow(img, origin="lower", aspect="auto", cmap="magma")
        ax.set(title=title, xlabel="frame", ylabel="mel band")
        ax.title.set_fontsize(9)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def winners_per_pixel(active: SparseActivation) -> np.ndarray:
    """``(h, w)`` count of winners at each pixel of a local k-WTA output (k everywhere)."""
    _, h, w = active.shape
    counts = np.zeros(h * w, dtype=np.int64)
    np.add.at(counts, active.indices % (h * w), 1)
    return counts.reshape(h, w)
