"""Figures of the FPGA chapter: every bar labelled with its source, tables regenerated."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from compsparse import perfmodel as pm
from compsparse.fpga.results import board_runs, long_rows, table2, table3, table4
from compsparse.viz.fpga import (
    draw_blog_figure,
    draw_cycles,
    draw_efficiency,
    draw_resources,
    draw_throughput,
)


def _record(backend, variant, instances, rate, date="2026-01-01T00:00:00+0000", power=None):
    return {
        "backend": backend,
        "variant": variant,
        "instances": instances,
        "words_per_s": rate,
        "date": date,
        "power_w": power,
        "power_kind": "measured" if power else "rated",
        "words_per_s_per_w": rate / (power or 24.0),
    }


@pytest.fixture(scope="module")
def preds():
    return pm.predict_all()


def _labels(fig):
    return {t.get_text() for t in fig.legends[0].get_texts()} if fig.legends else set()


def test_tables_without_board_runs(preds):
    rows = long_rows(preds)
    t2, cols = table2(rows)
    assert [r["network"] for r in t2[:3]] == ["dense", "sparse-dense", "sparse-sparse"]
    assert t2[2]["paper"] == "102,564 (33.63x)"  # the paper's printed speed-up
    assert t2[3]["paper"] == "does not fit"  # dense on the ZU3EG
    assert "board run" not in cols and "model" in cols
    t3, _ = table3(rows)
    assert t3[2]["paper"].startswith("20 x: 1,369,863")
    t4, _ = table4(rows)
    assert "225 W rated" in t4[0]["model"] and "24 W assumed" in t4[4]["model"]
    assert t4[3]["paper"] == "–"  # the paper has no dense ZU3EG efficiency


def test_board_runs_enter_the_tables(preds):
    runs = [
        _record("zynq", "sparse-sparse", 1, 900.0, power=5.0),
        _record("alveo", "sparse-sparse", 1, 1500.0),
        _record("alveo", "sparse-sparse", 12, 15000.0, power=80.0),
        _record("alveo", "sparse-sparse", 1, 1600.0, date="2026-02-01T00:00:00+0000"),
        _record("csim", "sparse-sparse", 1, 40.0),
    ]
    picked = board_runs(runs)
    assert picked["single"][("U250", "sparse-sparse")]["words_per_s"] == 1600.0  # the latest
    assert picked["chip"][("U250", "sparse-sparse")]["instances"] == 12
    assert ("C simulation", "sparse-sparse") not in picked["single"]
    rows = long_rows(preds, runs)
    t2, cols = table2(rows)
    assert "board run" in cols
    assert t2[2]["board run"].startswith("1,600") and t2[5]["board run"].startswith("900")
    t3, _ = table3(rows)
    assert t3[2]["board run"].startswith("12 x: 15,000")
    t4, _ = table4(rows)
    assert "80 W measured" in t4[2]["board run"]


def test_throughput_figure_labels_every_source(preds):
    rows = long_rows(preds, [_record("alveo", "dense", 1, 300.0)], pm.predict_all(pm.TUNED))
    fig = draw_throughput(rows)
    assert _labels(fig) == {"paper", "model", "model (tuned)", "board run"}
    assert len(fig.axes) == 3
    titles = [ax.get_title() for ax in fig.axes]
    assert any("Table 3" in t for t in titles) and any("ZU3EG" in t for t in titles)
    # the dense network does not fit the ZU3EG in the paper: said, not drawn
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert "does not fit" in texts
    plt.close(fig)


def test_blog_figure_has_the_two_panels(preds):
    rows = long_rows(preds)
    fig = draw_blog_figure(rows)
    a, b = fig.axes
    assert a.get_title() == "(a) sparse network performance on the Alveo U250"
    assert b.get_title() == "(b) sparse-sparse network performance on the U250"
    texts = [t.get_text() for t in b.texts]
    assert any(t.startswith("112.3x") for t in texts)  # 1,369,863 / 12,195 (paper)
    assert any(t.startswith("33.6x") for t in texts)
    assert _labels(fig) == {"paper", "model"}
    plt.close(fig)


def test_efficiency_figure_says_which_power(preds):
    fig = draw_efficiency(long_rows(preds))
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "225 W paper" in texts and "225 W rated" in texts and "24 W assumed" in texts
    plt.close(fig)


def test_cycles_and_resources_figures(preds):
    u250 = [p for p in preds if p.chip == "U250"]
    fig = draw_cycles({p.variant: p.cycles for p in u250}, 300.0, {"dense": 1000.0})
    labels = {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    assert {"conv1", "conv2", "linear1", "output"} <= labels
    assert any("paper" in label for label in labels)
    assert any("cycles/word" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)
    fig = draw_resources(preds)
    assert len(fig.axes) == 2
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("fit" in t for t in texts)
    plt.close(fig)
