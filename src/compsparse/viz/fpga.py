"""Figures of the FPGA chapter: the paper's throughput and efficiency beside the model and runs.

Every bar says where its number came from: "paper" (the published tables), "model"
(:mod:`compsparse.perfmodel`), "board run" (records in ``data/fpga/runs.jsonl``). The functions
take the long rows of :func:`compsparse.fpga.results.long_rows`.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "SERIES_STYLE",
    "draw_blog_figure",
    "draw_cycles",
    "draw_efficiency",
    "draw_resources",
    "draw_throughput",
]

NETWORKS = ("dense", "sparse-dense", "sparse-sparse")
#: colour and hatch of each source of numbers
SERIES_STYLE = {
    "paper": {"color": "#c8553d", "hatch": ""},
    "model": {"color": "#3b6ea8", "hatch": "//"},
    "model (tuned)": {"color": "#9dbbe0", "hatch": ".."},
    "board run": {"color": "#2ca02c", "hatch": ""},
    "C simulation": {"color": "#dd8452", "hatch": "xx"},
}
_LAYER_COLORS = ["#8c8c8c", "#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]


def _style(series: str) -> dict:
    if series in SERIES_STYLE:
        return SERIES_STYLE[series]
    if series.startswith("model"):
        return SERIES_STYLE["model (tuned)"]
    return {"color": "#777777", "hatch": ""}


def _series(rows, table) -> list[str]:
    out = []
    for r in rows:
        if r["table"] == table and r["series"] not in out:
            out.append(r["series"])
    return out


def _value(rows, table, fpga, network, series):
    for r in rows:
        if (r["table"], r["fpga"], r["network"], r["series"]) == (table, fpga, network, series):
            return r
    return None


def _grouped(ax, rows, table, fpga, networks=NETWORKS, fmt="{:,.0f}", speedup=False, note=None):
    """Bars of ``table`` for one FPGA: one group per network, one bar per series (log scale)."""
    series = _series(rows, table)
    width = 0.8 / max(1, len(series))
    x = np.arange(len(networks))
    top = 0.0
    labelled: set[str] = set()
    for j, s in enumerate(series):
        st = _style(s)
        for i, net in enumerate(networks):
            r = _value(rows, table, fpga, net, s)
            pos = x[i] - 0.4 + width * (j + 0.5)
            if r is None:
                continue
            v = r["value"]
            if speedup and v is not None:
                base = _value(rows, table, "U250", "dense", s)
                v = v / base["value"] if base and base["value"] else None
            if v is None or v <= 0:
                ax.text(
                    pos,
                    0.02,
                    "does not fit",
                    rotation=90,
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color=st["color"],
                    transform=ax.get_xaxis_transform(),
                )
                continue
            ax.bar(
                pos,
                v,
                width,
                color=st["color"],
                hatch=st["hatch"],
                edgecolor="white",
                label=None if s in labelled else s,
            )
            labelled.add(s)
            text = f"{v:.1f}x" if speedup else fmt.format(v)
            if note and r.get(note):
                text += f"\n{r[note]}"
            ax.text(pos, v * 1.08, text, ha="center", va="bottom", fontsize=6.5, rotation=90)
            top = max(top, v)
    ax.set_yscale("log")
    ax.set_xticks(x, networks, fontsize=9)
    if top:
        ax.set_ylim(top=top * 40)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", labelsize=8)
    return series


def _legend(fig, axes):
    handles, labels = {}, []
    for ax in np.ravel(axes):
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in handles:
                handles[label] = h
                labels.append(label)
    fig.legend(
        [handles[k] for k in labels],
        labels,
        loc="upper center",
        ncol=len(labels),
        fontsize=8,
        frameon=False,
    )


def draw_throughput(rows):
    """Tables 2 and 3 as bars: one network on the U250 and the ZU3EG, the full U250 chip.

    Args:
        rows: :func:`compsparse.fpga.results.long_rows`.

    Returns:
        matplotlib Figure with three axes (words/s, log scale), one bar per source.
    """
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.8), sharey=True)
    _grouped(axes[0], rows, "single", "U250")
    axes[0].set_title("one network, Alveo U250 (Table 2)", fontsize=9.5)
    axes[0].set_ylabel("words per second (log scale)", fontsize=9)
    _grouped(axes[1], rows, "single", "ZU3EG")
    axes[1].set_title("one network, ZU3EG (Table 2)", fontsize=9.5)
    _grouped(axes[2], rows, "chip", "U250")
    axes[2].set_title("full chip, Alveo U250 (Table 3)", fontsize=9.5)
    _legend(fig, axes)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def draw_blog_figure(rows):
    """The blog's two-panel figure, from the paper's tables and this book's model and runs.

    (a) sparse network performance on the Alveo U250: one network of each kind, speed-up over
    the dense network; (b) sparse-sparse network performance on the U250: one network and the
    full chip, speed-up over the dense network (the same source's dense figure each time).
    """
    fig, (a, b) = plt.subplots(1, 2, figsize=(10.0, 3.8))
    _grouped(a, rows, "single", "U250", speedup=True)
    a.set_title("(a) sparse network performance on the Alveo U250", fontsize=9.5)
    a.set_ylabel("throughput over dense (log scale)", fontsize=9)
    series = [s for s in _series(rows, "single") if s in _series(rows, "chip")]
    width = 0.8 / max(1, len(series))
    groups = (("one network", "single"), ("full chip", "chip"))
    top = 0.0
    for j, s in enumerate(series):
        st = _style(s)
        for i, (_, table) in enumerate(groups):
            r = _value(rows, table, "U250", "sparse-sparse", s)
            base = _value(rows, table, "U250", "dense", s)
            if not r or not base or not r["value"] or not base["value"]:
                continue
            v = r["value"] / base["value"]
            pos = i - 0.4 + width * (j + 0.5)
            b.bar(
                pos,
                v,
                width,
                color=st["color"],
                hatch=st["hatch"],
                edgecolor="white",
                label=s if i == 0 else None,
            )
            copies = f"\n{r['instances']} vs {base['instances']} copies" if table == "chip" else ""
            b.text(
                pos,
                v * 1.08,
                f"{v:.1f}x{copies}",
                ha="center",
                va="bottom",
                fontsize=6.5,
                rotation=90,
            )
            top = max(top, v)
    b.set_yscale("log")
    if top:
        b.set_ylim(top=top * 40)
    b.set_xticks(range(len(groups)), [g for g, _ in groups], fontsize=9)
    b.set_title("(b) sparse-sparse network performance on the U250", fontsize=9.5)
    b.spines[["top", "right"]].set_visible(False)
    _legend(fig, (a, b))
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def draw_efficiency(rows):
    """Table 4 as bars: words per second per watt, one panel per FPGA; each bar is labelled
    with the power it used and whether that power was measured, rated or the paper's."""
    rows = [dict(r) for r in rows]
    for r in rows:
        if r["table"] == "power" and r["power_w"] is not None:
            r["power_label"] = f"{r['power_w']:.0f} W {r['power_kind']}"
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.8), sharey=True)
    _grouped(axes[0], rows, "power", "U250", note="power_label")
    axes[0].set_title("Alveo U250, full chip (Table 4)", fontsize=9.5)
    axes[0].set_ylabel("words per second per watt (log scale)", fontsize=9)
    _grouped(axes[1], rows, "power", "ZU3EG", note="power_label")
    axes[1].set_title("ZU3EG (Table 4)", fontsize=9.5)
    _legend(fig, axes)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def draw_cycles(cycles: dict, clock_mhz: float, implied: dict | None = None):
    """Where the model's cycles per word go: each design's layers, and the one that sets its pace.

    The tops run their layers as DATAFLOW processes, each on its own word, so a word leaves
    every max(process) cycles: one bar per layer (its slowest process), the longest of a design
    marked, on a log scale.

    Args:
        cycles: ``{label: compsparse.perfmodel.Cycles}``, e.g. one per variant.
        clock_mhz: the clock of the model, for the words/s in the labels.
        implied: optional ``{label: cycles}`` drawn as markers, e.g. the cycles per word the
            paper's U250 throughput implies at this clock.
    """
    labels = list(cycles)
    layers: list[str] = []
    for c in cycles.values():
        layers += [name for name in c.per_layer if name not in layers]
    step = len(layers) + 1.5
    fig, ax = plt.subplots(figsize=(9.0, 0.32 * step * len(labels) + 1.4))
    right = max(max(c.per_layer.values()) for c in cycles.values())
    for i, lab in enumerate(labels):
        c = cycles[lab]
        slowest = max(c.per_layer, key=c.per_layer.get)
        for k, layer in enumerate(layers):
            if layer not in c.per_layer:
                continue
            y = i * step + k
            ax.barh(
                y,
                c.per_layer[layer],
                color=_LAYER_COLORS[k % len(_LAYER_COLORS)],
                edgecolor="black" if layer == slowest else "white",
                linewidth=1.2 if layer == slowest else 0.5,
                label=layer if i == 0 else None,
            )
        words = clock_mhz * 1e6 / c.cycles_per_word
        ax.text(
            right * 1.6,
            i * step + (len(layers) - 1) / 2,
            f"{c.cycles_per_word:,} cycles/word\n= {words:,.0f} words/s\npace: {c.bottleneck}",
            va="center",
            fontsize=8,
        )
        if implied and lab in implied:
            ax.vlines(
                implied[lab],
                i * step - 0.6,
                i * step + len(layers) - 0.4,
                color=SERIES_STYLE["paper"]["color"],
                linestyle="--",
                linewidth=1.5,
                label="paper's throughput, in cycles at this clock" if i == 0 else None,
            )
    centers = [i * step + (len(layers) - 1) / 2 for i in range(len(labels))]
    ax.set_yticks(centers, labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(100, right * 12)
    ax.set_xlabel(
        f"model: clock cycles per word of each layer at {clock_mhz:g} MHz "
        "(layers overlap; the outlined one sets the pace)",
        fontsize=9,
    )
    ax.legend(
        fontsize=7.5,
        ncol=len(layers) + 1,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        frameon=False,
    )
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def draw_resources(predictions):
    """Model: how many copies of each design one chip holds, as limited by each resource.

    For each design four bars: the copies that the chip's usable LUTs, flip-flops, block RAMs
    and DSP slices would each allow; the smallest is the answer (written above the group).

    Args:
        predictions: :class:`compsparse.perfmodel.Prediction` list (several chips and designs).
    """
    from ..perfmodel import CHIPS

    chips = [c for c in CHIPS if any(p.chip == c for p in predictions)]
    fig, axes = plt.subplots(1, len(chips), figsize=(5.0 * len(chips), 3.6))
    axes = np.atleast_1d(axes)
    kinds = (("LUT", "lut"), ("FF", "ff"), ("BRAM", "bram18"), ("DSP", "dsp"))
    for ax, chip_name in zip(axes, chips, strict=True):
        chip = CHIPS[chip_name]
        preds = [p for p in predictions if p.chip == chip_name]
        width = 0.8 / len(kinds)
        top = 1.0
        for j, (label, attr) in enumerate(kinds):
            for i, p in enumerate(preds):
                used = getattr(p.resources, attr)
                fit = int(chip.usable * getattr(chip, attr) // used) if used else 0
                pos = i - 0.4 + width * (j + 0.5)
                if fit:
                    ax.bar(pos, fit, width, color=_LAYER_COLORS[j + 1],
                           label=label if i == 0 else None)  # fmt: skip
                else:
                    ax.text(pos, 0.6, "0", ha="center", fontsize=8, color=_LAYER_COLORS[j + 1])
                    ax.bar(pos, 0, width, color=_LAYER_COLORS[j + 1],
                           label=label if i == 0 else None)  # fmt: skip
                top = max(top, fit)
        for i, p in enumerate(preds):
            text = f"{p.instances} fit ({p.binding})" if p.instances else f"none fit ({p.binding})"
            ax.text(i, top * 2.2, text, ha="center", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylim(0.5, top * 6)
        ax.set_xticks(range(len(preds)), [p.variant for p in preds], fontsize=9)
        ax.set_title(f"model: copies on the {chip.board} ({chip_name})", fontsize=9.5)
        ax.set_ylabel(f"copies that fit ({100 * chip.usable:.0f}% usable)", fontsize=8.5)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(fontsize=7.5, frameon=False, loc="lower right", title="limited by",
                  title_fontsize=7.5)  # fmt: skip
    fig.tight_layout()
    return fig
