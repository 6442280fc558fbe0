"""The command line: listing, help, errors, and the small commands of the foundation."""

from __future__ import annotations

import json
import subprocess
import sys

from compsparse.__main__ import COMMANDS, main


def _run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "compsparse", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_help_lists_every_command(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_unknown_command_fails_with_usage():
    result = _run("no-such-command")
    assert result.returncode == 2 and "unknown command 'no-such-command'" in result.stderr


def test_every_command_has_help():
    for name in COMMANDS:
        result = _run(name, "--help")
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert "usage:" in result.stdout


def test_figure_command_writes_png(tmp_path):
    out = tmp_path / "fig.png"
    result = _run("figure", "readme", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_strip_notebooks_removes_outputs(tmp_path):
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": "1",
                "metadata": {"execution": {}},
                "outputs": [{"x": 1}],
                "execution_count": 3,
            },
            {"cell_type": "markdown", "source": "# T", "metadata": {}},
        ],
        "metadata": {"widgets": {}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nb))
    assert _run("strip-notebooks", "--check", str(path)).returncode == 1
    assert _run("strip-notebooks", str(tmp_path)).returncode == 0
    cleaned = json.loads(path.read_text())
    assert cleaned["cells"][0]["outputs"] == [] and cleaned["cells"][0]["execution_count"] is None
    assert (
        "execution" not in cleaned["cells"][0]["metadata"] and "widgets" not in cleaned["metadata"]
    )
    assert _run("strip-notebooks", "--check", str(path)).returncode == 0


def test_bench_core_writes_json(tmp_path):
    out = tmp_path / "core.json"
    result = _run("bench-core", "--out", str(out), "--repeats", "1")
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    linear = data["layers"]["linear 1600->1500"]
    assert set(linear["timings"]) == {
        "numpy dense",
        "cs.linear sparse-dense",
        "cs.linear sparse-sparse",
    }
    assert linear["macs"]["sparse_sparse"] == 160 * 75


def test_readme_figure_is_the_one_the_code_draws(root, tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    out = tmp_path / "readme.png"
    assert _run("figure", "readme", "--out", str(out)).returncode == 0
    committed = root / "book" / "images" / "readme.png"
    assert "book/images/readme.png" in (root / "README.md").read_text()
    assert np.array_equal(mpimg.imread(out), mpimg.imread(committed)), "run `make readme-figure`"
