"""Shared test fixtures and the visible-skip rules for tools this machine may lack."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"


def pytest_collection_modifyitems(config, items):
    """Skip, with the reason printed, tests whose hardware or tools are not here."""
    vitis = shutil.which("vitis_hls") or shutil.which("vitis-run") or shutil.which("vivado")
    for item in items:
        if "vitis" in item.keywords and not vitis:
            item.add_marker(
                pytest.mark.skip(reason="Xilinx tools not on PATH (vitis_hls/vitis-run/vivado)")
            )
        if "board" in item.keywords:
            from compsparse.hardware import board_available

            ok, why = board_available()
            if not ok:
                item.add_marker(pytest.mark.skip(reason=f"no FPGA board: {why}"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def site() -> Path:
    """The built book; tests marked `site` need it (`make book` or `make test` builds it)."""
    if not (SITE / "index.html").is_file():
        pytest.skip(f"no built book at {SITE}: run `make book` first")
    return SITE


# Property-based tests take their example counts from one profile: `default` in `make test`,
# `thorough` in `make test-slow` (HYPOTHESIS_PROFILE=thorough).
settings.register_profile("default", max_examples=500, deadline=None, print_blob=True)
settings.register_profile("thorough", max_examples=5000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
