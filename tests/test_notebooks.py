"""The book's sources follow the conventions: stripped notebooks, known tags, a clean TOC."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

ALLOWED_TAGS = {
    "hide-input",
    "hide-output",
    "remove-cell",
    "remove-input",
    "skip-execution",
    "raises-exception",
    "output_scroll",
}


def _notebooks(root):
    return sorted((root / "book").glob("*.ipynb"))


def _toc_files(root) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_notebooks_are_committed_without_outputs(root):
    result = subprocess.run(
        [sys.executable, "-m", "compsparse", "strip-notebooks", "--check", str(root / "book")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"{result.stdout}run `python -m compsparse strip-notebooks book` before committing"
    )


@pytest.mark.parametrize("name", ["outputs", "tags", "imports", "opening"])
def test_notebook_conventions(root, name):
    problems = []
    for path in _notebooks(root):
        nb = json.loads(path.read_text())
        cells = nb["cells"]
        for i, cell in enumerate(cells):
            source = "".join(cell["source"])
            if name == "outputs" and cell["cell_type"] == "code":
                if cell.get("outputs") or cell.get("execution_count") is not None:
                    problems.append(f"{path.name} cell {i} has outputs")
            if name == "tags":
                unknown = set(cell.get("metadata", {}).get("tags", [])) - ALLOWED_TAGS
                if unknown:
                    problems.append(f"{path.name} cell {i} has unknown tags {sorted(unknown)}")
            if name == "imports" and cell["cell_type"] == "code":
                if re.search(r"sys\.path|%run\b", source) or "#pragma HLS" in source:
                    problems.append(f"{path.name} cell {i}: sys.path/%run hack or pasted HLS code")
        if name == "opening":
            first = "".join(cells[0]["source"]) if cells else ""
            if not first.startswith("# ") or "What you will learn" not in first:
                problems.append(f"{path.name} must open with a '# Title' and 'What you will learn'")
            if nb.get("metadata", {}).get("kernelspec", {}).get("name") != "python3":
                problems.append(f"{path.name} needs the python3 kernelspec")
    assert not problems, "\n".join(problems)


def test_toc_lists_every_chapter_in_numeric_order(root):
    files = _toc_files(root)
    chapters = [f for f in files if re.match(r"book/\d\d_", f)]
    on_disk = sorted(f"book/{p.stem}" for p in _notebooks(root))
    assert sorted(chapters) == on_disk, "every book/NN_*.ipynb must be in _toc.yml and vice versa"
    assert chapters == sorted(chapters), "_toc.yml must list chapters in the order of their numbers"
    for f in files:
        assert any((root / f"{f}{ext}").exists() for ext in (".md", ".ipynb")), (
            f"{f} in _toc.yml is missing"
        )


def test_config_builds_offline_and_strictly(root):
    config = yaml.safe_load((root / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "cache"
    assert config["only_build_toc_files"] is True
    sphinx = config["sphinx"]["config"]
    assert "_static" not in sphinx["html_static_path"], "a _static/ folder injects every .js file"
    assert not sphinx["mathjax_path"].startswith("http")
    assert all(not src.startswith("http") for src in sphinx["nb_ipywidgets_js"])
    makefile = (root / "Makefile").read_text()
    assert "-W -n --keep-going" in makefile
