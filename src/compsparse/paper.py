"""The paper's published numbers, read from ``data/paper/*.csv`` (numpy-free, stdlib only).

Every row keeps its ``source`` code (see ``data/paper/README.md``): most numbers come from a
secondary copy of the paper's tables, and plots must label them "paper".

Book: chapters "Two sparsities" and "FPGA runs".
"""

from __future__ import annotations

import csv
from functools import cache

from .paths import data_dir

__all__ = ["CITATION", "SOURCES", "claim", "table"]

CITATION = "Hunter, Spracklen & Ahmad, Neuromorph. Comput. Eng. 2022 (arXiv 2112.13896)"
SOURCES = {
    "P": "the paper (abstract, Figure 4)",
    "N": "secondary copy of the paper's tables (EfficientPaper note, extracted from the PDF)",
    "B": "Numenta blog / poster",
    "D": "derived by us from the rows above",
}


def _value(text: str):
    """CSV cell -> int, float, None (empty) or the string itself."""
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


@cache
def _read(name: str) -> tuple[dict, ...]:
    path = data_dir("paper", f"{name}.csv")
    with path.open(newline="") as f:
        return tuple({k: _value(v) for k, v in row.items()} for row in csv.DictReader(f))


def table(name: str) -> list[dict]:
    """Rows of ``data/paper/<name>.csv`` as dicts; numbers parsed, empty cells ``None``.

    Args:
        name: e.g. ``"table2_single_network"``, ``"table3_full_chip"``, ``"table4_power"``,
            ``"gsc_network"``, ``"claims"``.

    Raises:
        FileNotFoundError: no such table (the message lists the ones there are).
    """
    try:
        return [dict(row) for row in _read(name)]
    except FileNotFoundError:
        known = sorted(p.stem for p in data_dir("paper").glob("*.csv"))
        raise FileNotFoundError(f"no paper table {name!r}; the tables are {known}") from None


def claim(key: str) -> dict:
    """One row of ``claims.csv``: ``value`` or ``low``/``high``, ``unit``, ``source``, ``note``."""
    for row in _read("claims"):
        if row["key"] == key:
            return dict(row)
    known = sorted(row["key"] for row in _read("claims"))
    raise KeyError(f"no paper claim {key!r}; the claims are {known}")
