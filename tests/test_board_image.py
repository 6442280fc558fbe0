"""The numpy-only core runs as on a PYNQ board image: Python 3.10, numpy 1.21, no torch."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

import pytest

BOARD_PYTHON = "python3.10"
BOARD_NUMPY = "numpy==1.21.6"  # the numpy of the PYNQ 3.0.1 images (Ubuntu 22.04)


def _find_python310() -> str | None:
    """A working Python 3.10: on PATH, or in pyenv's versions (whose shim may not be active)."""
    pyenv = os.path.expanduser("~/.pyenv/versions/3.10*/bin/python3.10")
    for candidate in [shutil.which(BOARD_PYTHON), *sorted(glob.glob(pyenv))]:
        if candidate:
            ok = subprocess.run([candidate, "-c", "import venv"], capture_output=True, check=False)
            if ok.returncode == 0:
                return candidate
    return None


@pytest.fixture(scope="session")
def board_venv(root):
    python = _find_python310()
    if python is None:
        pytest.skip(f"{BOARD_PYTHON} not found: cannot imitate the PYNQ board's Python here")
    venv = root / "_build" / "board-venv"
    stamp = venv / f".{BOARD_NUMPY}"
    if not stamp.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [venv / "bin" / "pip", "install", "--quiet", BOARD_NUMPY],
            check=True,
            capture_output=True,
        )
        stamp.touch()
    return venv


def test_core_runs_on_the_board_python(root, board_venv):
    result = subprocess.run(
        [board_venv / "bin" / "python", root / "tests" / "board_smoke.py"],
        env={"PYTHONPATH": str(root / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "python 3.10" in result.stdout and "numpy 1.21" in result.stdout


def test_core_does_not_import_heavy_packages():
    code = (
        "import sys, compsparse, compsparse.hardware; "
        "print(sorted({'torch', 'scipy', 'matplotlib', 'numba', 'pynq'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
