"""The paper's numbers: present, sourced, and consistent with each other."""

from __future__ import annotations

import pytest

from compsparse import paper


def _by(rows, **match):
    (row,) = [r for r in rows if all(r[k] == v for k, v in match.items())]
    return row


def test_every_row_has_a_known_source():
    for name in [
        "table2_single_network",
        "table3_full_chip",
        "table4_power",
        "gsc_network",
        "claims",
    ]:
        rows = paper.table(name)
        assert rows, name
        assert all(row["source"] in paper.SOURCES for row in rows), name


def test_table_ratios_agree_with_the_throughputs():
    t2 = paper.table("table2_single_network")
    dense = _by(t2, fpga="U250", network="dense")["words_per_s"]
    for row in t2:
        if row["fpga"] == "U250":
            assert row["words_per_s"] / dense == pytest.approx(
                row["speedup_vs_dense_u250"], abs=0.01
            )
    t3 = paper.table("table3_full_chip")
    dense3 = _by(t3, network="dense")["words_per_s"]
    for row in t3:
        assert row["words_per_s"] / dense3 == pytest.approx(row["speedup"], abs=0.1)


def test_efficiency_is_full_chip_throughput_over_system_power():
    t3 = {r["network"]: r for r in paper.table("table3_full_chip")}
    t2 = {(r["fpga"], r["network"]): r for r in paper.table("table2_single_network")}
    for row in paper.table("table4_power"):
        if row["fpga"] == "U250":
            words = t3[row["network"]]["words_per_s"]
        else:
            words = t2[(row["fpga"], row["network"])]["words_per_s"]
        assert words / row["system_power_w"] == pytest.approx(row["words_per_s_per_w"], abs=1.5)


def test_dense_parameter_count_matches_the_network_table():
    conv = 5 * 5 * 1 * 64 + 64 + 5 * 5 * 64 * 64 + 64
    linear = 1600 * 1500 + 1500 * 12
    assert paper.claim("dense_parameters")["value"] == conv + linear


def test_unknown_names_list_what_exists():
    with pytest.raises(FileNotFoundError, match="table2_single_network"):
        paper.table("table9")
    with pytest.raises(KeyError, match="gsc_accuracy"):
        paper.claim("nope")
