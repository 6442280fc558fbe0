"""The paper's throughput and efficiency tables beside the model's and any board runs.

Three sources, always labelled: ``"paper"`` (``data/paper/table{2,3,4}*.csv``, a secondary copy
of the paper's tables), ``"model"`` (:mod:`compsparse.perfmodel`, the kernels of ``hls/`` as
written, and optionally a second, hypothetical set of assumptions), and ``"board run"`` (records
in ``data/fpga/runs.jsonl``, :mod:`compsparse.fpga.records`). C-simulation runs are never
board runs and do not appear here.

:func:`long_rows` gives one row per (table, FPGA, network, source) for the figures;
:func:`table2`, :func:`table3` and :func:`table4` give the wide rows of the paper's tables.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

__all__ = [
    "BOARD_CHIP",
    "NETWORKS",
    "board_runs",
    "long_rows",
    "table2",
    "table3",
    "table4",
]

NETWORKS = ("dense", "sparse-dense", "sparse-sparse")
BOARD_CHIP = {"zynq": "ZU3EG", "alveo": "U250"}


def _paper():
    from .. import paper

    return (
        paper.table("table2_single_network"),
        paper.table("table3_full_chip"),
        paper.table("table4_power"),
    )


def board_runs(records: list[dict]) -> dict:
    """The latest board record per (chip, network): ``{"single": {...}, "chip": {...}}``.

    ``single`` holds runs of one instance; ``chip`` the run with the most instances (the
    full chip when the bitstream holds as many copies as fit).
    """
    single: dict = {}
    chip: dict = {}
    for rec in sorted(records, key=lambda r: r["date"]):
        if rec["backend"] not in BOARD_CHIP:
            continue
        key = (BOARD_CHIP[rec["backend"]], rec["variant"])
        if rec["instances"] == 1:
            single[key] = rec
        best = chip.get(key)
        if best is None or rec["instances"] >= best["instances"]:
            chip[key] = rec
    return {"single": single, "chip": chip}


def long_rows(predictions, records=(), extra_predictions=(), extra_label="model (tuned)"):
    """One row per (table, fpga, network, series) with ``value`` (None: does not fit / absent).

    Args:
        predictions: :class:`compsparse.perfmodel.Prediction` list (the ``"model"`` series).
        records: board run records.
        extra_predictions: a second model series (labelled ``extra_label``).

    Row keys: ``table`` (``"single"``, ``"chip"``, ``"power"``), ``fpga``, ``network``,
    ``series``, ``value`` (words/s or words/s/W), ``instances``, ``power_w``, ``power_kind``;
    the paper's rows also ``printed_speedup`` (its own speed-up column, None where it has
    none). Speed-ups shown by the tables are the paper's printed ones for its rows where it
    prints one, otherwise the ratio to the same source's dense network on the U250.
    """
    t2, t3, t4 = _paper()
    rows = []
    for r in t2:
        row = _row("single", r["fpga"], r["network"], "paper", r["words_per_s"], 1)
        row["printed_speedup"] = r["speedup_vs_dense_u250"]
        rows.append(row)
    for r in t3:
        row = _row(
            "chip", r["fpga"], r["network"], "paper", r["words_per_s"], r["networks_on_chip"]
        )
        row["printed_speedup"] = r["speedup"]
        rows.append(row)
    for r in t4:
        rows.append(
            _row(
                "power",
                r["fpga"],
                r["network"],
                "paper",
                r["words_per_s_per_w"],
                r["networks"],
                r["system_power_w"],
                "paper",
            )
        )
    for label, preds in (("model", predictions), (extra_label, extra_predictions)):
        for p in preds:
            fits = p.instances > 0
            rows.append(
                _row(
                    "single",
                    p.chip,
                    p.variant,
                    label,
                    p.words_per_s if fits else None,
                    1 if fits else 0,
                )
            )
            if p.chip == "U250":
                rows.append(
                    _row(
                        "chip",
                        p.chip,
                        p.variant,
                        label,
                        p.words_per_s_chip if fits else None,
                        p.instances,
                    )
                )
            rows.append(
                _row(
                    "power",
                    p.chip,
                    p.variant,
                    label,
                    p.words_per_s_per_w if fits else None,
                    p.instances,
                    p.power_w,
                    p.power_kind,
                )
            )
    runs = board_runs(list(records))
    for (chip, network), rec in runs["single"].items():
        rows.append(_row("single", chip, network, "board run", rec["words_per_s"], 1))
    for (chip, network), rec in runs["chip"].items():
        if chip == "U250":
            rows.append(
                _row("chip", chip, network, "board run", rec["words_per_s"], rec["instances"])
            )
        rows.append(
            _row(
                "power",
                chip,
                network,
                "board run",
                rec["words_per_s_per_w"],
                rec["instances"],
                rec["power_w"],
                rec["power_kind"],
            )
        )
    return rows


def _row(table, fpga, network, series, value, instances, power_w=None, power_kind=None):
    return {
        "table": table,
        "fpga": fpga,
        "network": network,
        "series": series,
        "value": value,
        "instances": instances,
        "power_w": power_w,
        "power_kind": power_kind,
    }


def _get(rows, table, fpga, network, series):
    for r in rows:
        if (r["table"], r["fpga"], r["network"], r["series"]) == (table, fpga, network, series):
            return r
    return None


def _fmt(v, digits=0) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


def _speedup(rows, table, fpga, network, series) -> str:
    r = _get(rows, table, fpga, network, series)
    if r and r.get("printed_speedup") is not None:
        return f"{r['printed_speedup']:g}x"  # the paper's own figure
    base = _get(rows, table, "U250", "dense", series)
    if not r or not base or r["value"] is None or not base["value"]:
        return "–"
    return f"{r['value'] / base['value']:.1f}x"


def _series(rows) -> list[str]:
    seen = []
    for r in rows:
        if r["series"] not in seen:
            seen.append(r["series"])
    return seen


def table2(rows) -> tuple[list[dict], dict]:
    """Table 2 (one network): rows and the column titles for
    :func:`compsparse.viz.training.markdown_table`."""
    series = _series([r for r in rows if r["table"] == "single"])
    out = []
    for fpga in ("U250", "ZU3EG"):
        for net in NETWORKS:
            row = {"fpga": fpga, "network": net}
            for s in series:
                r = _get(rows, "single", fpga, net, s)
                if r is None:
                    row[s] = "–"
                elif r["value"] is None:
                    row[s] = "does not fit"
                else:
                    row[s] = f"{_fmt(r['value'])} ({_speedup(rows, 'single', fpga, net, s)})"
            out.append(row)
    cols = {"fpga": "FPGA", "network": "network"}
    cols.update({s: f"{s}: words/s (vs dense U250)" for s in series})
    return out, cols


def table3(rows) -> tuple[list[dict], dict]:
    """Table 3 (full chip, U250): rows and column titles."""
    series = _series([r for r in rows if r["table"] == "chip"])
    out = []
    for net in NETWORKS:
        row = {"network": net}
        for s in series:
            r = _get(rows, "chip", "U250", net, s)
            if r is None:
                row[s] = "–"
            elif r["value"] is None:
                row[s] = "does not fit"
            else:
                speed = _speedup(rows, "chip", "U250", net, s)
                row[s] = f"{r['instances']} x: {_fmt(r['value'])} ({speed})"
        out.append(row)
    cols = {"network": "network"}
    cols.update({s: f"{s}: copies: words/s (vs dense)" for s in series})
    return out, cols


def table4(rows) -> tuple[list[dict], dict]:
    """Table 4 (words/s/W): rows and column titles; the power's kind is shown with it."""
    series = _series([r for r in rows if r["table"] == "power"])
    out = []
    for fpga in ("U250", "ZU3EG"):
        for net in NETWORKS:
            row = {"fpga": fpga, "network": net}
            for s in series:
                r = _get(rows, "power", fpga, net, s)
                if r is None:
                    row[s] = "–"
                elif r["value"] is None:
                    row[s] = "does not fit"
                else:
                    row[s] = f"{_fmt(r['value'])} ({_fmt(r['power_w'])} W {r['power_kind']})"
            out.append(row)
    cols = {"fpga": "FPGA", "network": "network"}
    cols.update({s: f"{s}: words/s/W (power)" for s in series})
    return out, cols
