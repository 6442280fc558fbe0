"""Figures and tables of the CPU chapter, drawn from ``data/results/cpu_bench.json``.

``draw_layout`` shows the CPU layout of packed weights (rows by input position);
``draw_speedups`` and ``draw_network`` plot the benchmark against dense PyTorch and the ideal
from MAC counts; ``speedup_table`` and ``paper_comparison`` build the Markdown tables. The
paper's numbers come from :mod:`compsparse.paper` and are labelled "paper".

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..packing import PackedKernels
from .style import EMPTY, grid_lines, kernel_cmap, kernel_colors
from .training import markdown_table

__all__ = [
    "CANDIDATES",
    "candidate",
    "draw_layout",
    "draw_network",
    "draw_speedups",
    "paper_comparison",
    "rows_of",
    "speedup_table",
]

# what the figures show, by the benchmark's candidate names, with a short label and a colour
CANDIDATES = {
    "torch CSR float32": ("PyTorch CSR", "#999999"),
    "fast sparse-dense float32": ("engine sparse-dense f32", "#f2b27a"),
    "fast sparse-dense int8": ("engine sparse-dense int8", "#dd8452"),
    "fast sparse-sparse float32 rows": ("engine sparse-sparse f32, unpacked rows", "#9fd0a5"),
    "fast sparse-sparse float32 routed": ("engine sparse-sparse f32, packed rows", "#6fb57a"),
    "fast sparse-sparse float32 auto": ("engine sparse-sparse f32 (auto)", "#6fb57a"),
    "fast sparse-sparse int8 rows": ("engine sparse-sparse int8, unpacked rows", "#55a868"),
    "fast sparse-sparse int8 routed": ("engine sparse-sparse int8, packed rows", "#2d7a3c"),
    "fast sparse-sparse int8 auto": ("engine sparse-sparse int8 (auto)", "#2d7a3c"),
    # batch 1, one word shared by all threads (compsparse.fast.parallel)
    "fast sparse-dense int8 split": ("engine sparse-dense int8, word split", "#a44a1c"),
    "fast sparse-sparse int8 rows split": (
        "engine sparse-sparse int8, rows, word split",
        "#1f5c2b",
    ),
    "fast sparse-sparse int8 auto split": (
        "engine sparse-sparse int8 (auto), word split",
        "#174d23",
    ),
}
LAYER_ORDER = ["conv1", "conv2", "linear1", "output", "network"]


def rows_of(result: dict, batch: int) -> dict[str, dict]:
    """The benchmark rows of one batch size, by layer name (``"network"`` for the whole)."""
    rows = {r["name"]: r for r in result["rows"] if r["batch"] == batch}
    if not rows:
        have = sorted({r["batch"] for r in result["rows"]})
        raise ValueError(f"no rows for batch {batch} in this result; batches: {have}")
    return rows


def candidate(row: dict, name: str) -> dict | None:
    """One candidate of a row, or ``None`` if the row does not have it."""
    return row["candidates"].get(name)


def draw_layout(P: PackedKernels, selected=(), title: str = "packed kernels"):
    """The packed weights as the FPGA reads them, and the CPU layout of the same numbers.

    Left: ``(n_groups, n_in)`` packed kernels, each position coloured by its kernel. Right: the
    routed rows ``(n_in, n_groups)``: one row per input position. Everything but the
    ``selected`` input positions (the k-WTA winners) is faded: a sparse-sparse layer reads one
    contiguous row per winner on the CPU, one column per winner in the FPGA's layout.
    """
    if len(P.kernel_shape) != 1:
        raise ValueError("draw_layout draws a linear layer's packed kernels (n_out, n_in)")
    ids = P.kernel_ids.astype(int)
    owner = np.where(P.values != 0, ids, -1)
    cmap = kernel_cmap(P.n_per_group)
    fig, (ax_p, ax_r) = plt.subplots(
        1, 2, figsize=(8, 3.4), gridspec_kw={"width_ratios": [P.kernel_shape[0], P.n_groups + 2]}
    )
    ax_p.imshow(owner, cmap=cmap, vmin=-1, vmax=P.n_per_group - 1)
    grid_lines(ax_p, owner.shape)
    ax_p.set_title(f"{title}: (groups, inputs)", fontsize=9)
    ax_p.set_ylabel("packed kernel (group)")
    ax_p.set_xlabel("input position")
    rows = owner.T
    ax_r.imshow(rows, cmap=cmap, vmin=-1, vmax=P.n_per_group - 1)
    grid_lines(ax_r, rows.shape)
    if len(selected):
        # fade what a sparse-sparse layer never reads: every input position not selected
        for i in sorted(set(range(rows.shape[0])) - {int(i) for i in selected}):
            ax_r.add_patch(plt.Rectangle((-0.5, i - 0.5), rows.shape[1], 1, fc="white",
                                         alpha=0.75, lw=0))  # fmt: skip
            ax_p.add_patch(plt.Rectangle((i - 0.5, -0.5), 1, owner.shape[0], fc="white",
                                         alpha=0.75, lw=0))  # fmt: skip
        ax_r.set_ylabel(f"input position ({len(selected)} selected)")
    ax_r.set_title("CPU layout: one row per input", fontsize=9)
    ax_r.set_xlabel("group")
    colors = kernel_colors(P.n_per_group)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors]
    handles.append(plt.Rectangle((0, 0), 1, 1, color=EMPTY))
    labels = [f"kernel {j} of its group" for j in range(P.n_per_group)] + ["no weight"]
    fig.legend(handles, labels, loc="lower center", ncol=P.n_per_group + 1, fontsize=8)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def _names(result: dict, batch: int, names) -> list[str]:
    rows = rows_of(result, batch)
    return [n for n in names if any(n in r["candidates"] for r in rows.values())]


def draw_speedups(result: dict, names=None, batches=None):
    """Speed-up over dense PyTorch per layer and for the network; one panel per batch size.

    Bars are measured (same run, interleaved); a black dash over each layer is the ideal
    speed-up of sparse-sparse from MAC counts (dense MACs / sparse-sparse MACs).
    """
    batches = batches or sorted({r["batch"] for r in result["rows"]})
    names = names or [n for n in CANDIDATES if not n.endswith("auto")]
    fig, axes = plt.subplots(1, len(batches), figsize=(5.2 * len(batches), 4.2), squeeze=False)
    for ax, batch in zip(axes[0], batches, strict=True):
        rows = rows_of(result, batch)
        layers = [n for n in LAYER_ORDER if n in rows]
        shown = _names(result, batch, names)
        width = 0.8 / max(len(shown), 1)
        for j, name in enumerate(shown):
            label, color = CANDIDATES.get(name, (name, None))
            xs, ys = [], []
            for i, layer in enumerate(layers):
                c = candidate(rows[layer], name)
                if c is not None:
                    xs.append(i - 0.4 + width * (j + 0.5))
                    ys.append(c["speedup"])
            ax.bar(xs, ys, width=width, color=color, label=label)
        for i, layer in enumerate(layers):
            ideal = rows[layer]["ideal_speedup"]["sparse-sparse"]
            ax.plot([i - 0.42, i + 0.42], [ideal, ideal], color="black", lw=2)
        ax.axhline(1.0, color="#444444", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_xticks(range(len(layers)), layers)
        ax.set_ylabel("speed-up over dense PyTorch (x)")
        threads = result["machine"].get("threads")
        ax.set_title(f"batch {batch} (PyTorch: best of 1 and {threads} threads)", fontsize=9)
    axes[0][0].plot([], [], color="black", lw=2, label="ideal sparse-sparse (MAC count)")
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=8)
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    return fig


def draw_network(result: dict, names=None):
    """Time per word of the whole network, every candidate, batch 1 and the largest batch."""
    batches = sorted({r["batch"] for r in result["rows"]})
    batches = [batches[0], batches[-1]] if len(batches) > 1 else batches
    fig, axes = plt.subplots(1, len(batches), figsize=(5.6 * len(batches), 4.6), squeeze=False)
    for ax, batch in zip(axes[0], batches, strict=True):
        row = rows_of(result, batch)["network"]
        cands = row["candidates"]
        shown = [n for n in (names or cands) if n in cands]
        shown.sort(key=lambda n: cands[n]["per_word_s"])
        times = [cands[n]["per_word_s"] * 1e6 for n in shown]
        colors = [CANDIDATES.get(n, (n, "#4c72b0"))[1] for n in shown]
        ax.barh(range(len(shown)), times, color=colors)
        ax.set_yticks(range(len(shown)), [f"{n} ({cands[n]['threads']}t)" for n in shown])
        ax.tick_params(axis="y", labelsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("microseconds per word (log)")
        ax.set_title(f"whole network, batch {batch}", fontsize=9)
        for y, t in enumerate(times):
            ax.text(t, y, f" {t:,.0f}", va="center", fontsize=7)
    fig.tight_layout()
    return fig


def speedup_table(result: dict, batch: int, names=None) -> str:
    """Markdown: per-word median and speed-up of each candidate, per layer and network."""
    rows = rows_of(result, batch)
    layers = [n for n in LAYER_ORDER if n in rows]
    names = names or list(rows["network"]["candidates"])
    all_names = []
    for r in rows.values():
        all_names += [n for n in r["candidates"] if n not in all_names]
    table = []
    for name in [n for n in all_names if n in names or n in CANDIDATES]:
        entry = {"name": name}
        for layer in layers:
            c = candidate(rows[layer], name)
            entry[layer] = (
                "" if c is None else f"{c['per_word_s'] * 1e6:,.1f} us ({c['speedup']:.1f}x)"
            )
        table.append(entry)
    ideal = {"name": "ideal sparse-sparse (MACs)"}
    ideal.update({lay: f"{rows[lay]['ideal_speedup']['sparse-sparse']:.0f}x" for lay in layers})
    table.append(ideal)
    return markdown_table(table, {"name": f"batch {batch}", **{lay: lay for lay in layers}})


def paper_comparison(result: dict, paper) -> str:
    """Markdown: this book's CPU speed-ups and words/s beside the paper's CPU and FPGA figures.

    Args:
        paper: the :mod:`compsparse.paper` module (its tables and claims).
    """
    lines = []
    for batch in sorted({r["batch"] for r in result["rows"]}):
        net = rows_of(result, batch)["network"]
        for name in (
            "fast sparse-sparse int8 auto",
            "fast sparse-sparse int8 auto split",
            "fast sparse-sparse float32 auto",
        ):
            c = candidate(net, name)
            if c is None:
                continue
            lines.append(
                {
                    "who": "this book (CPU, this machine)",
                    "what": f"{CANDIDATES[name][0]}, batch {batch}, {c['threads']} thread(s)",
                    "speedup": f"{c['speedup']:.1f}x vs dense PyTorch",
                    "words": f"{c['words_per_s_per_core']:,.0f} per core",
                }
            )
    cores = paper.claim("cpu_xeon_cores")["value"]
    for key, label in (
        ("cpu_onnxruntime_speedup", "ONNX Runtime"),
        ("cpu_openvino_speedup", "OpenVINO"),
        ("cpu_deepsparse_speedup", "Neural Magic DeepSparse"),
        ("cpu_tvm_speedup", "Apache TVM"),
    ):
        claim = paper.claim(key)
        lines.append(
            {
                "who": "paper (CPU)",
                "what": f"{label}, sparse vs dense network, {cores}-core Xeon 8275CL",
                "speedup": f"about {claim['value']}x",
                "words": "not published",
            }
        )
    for row in paper.table("table2_single_network"):
        if row["words_per_s"] is None:
            continue
        up = row["speedup_vs_dense_u250"]
        lines.append(
            {
                "who": "paper (FPGA)",
                "what": f"{row['fpga']} {row['network']}, one network",
                "speedup": f"{up}x vs dense U250" if up is not None else "n/a",
                "words": f"{row['words_per_s']:,} per chip",
            }
        )
    cols = {"who": "source", "what": "what ran", "speedup": "speed-up", "words": "words/s"}
    return markdown_table(lines, cols)
