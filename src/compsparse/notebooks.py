"""``python -m compsparse strip-notebooks``: remove outputs before notebooks are committed.

Chapters are committed without outputs or execution counts; the book build executes them. This
keeps diffs readable and guarantees that what readers see was produced by the current code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = "strip outputs and execution counts from the book's notebooks"

# metadata keys that editors add and that carry no meaning for the book
VOLATILE_METADATA = ("execution", "collapsed", "scrolled", "jupyter", "ExecuteTime")


def strip(notebook: dict) -> dict:
    """Return the notebook without outputs, execution counts or editor-only cell metadata."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        for key in VOLATILE_METADATA:
            cell.get("metadata", {}).pop(key, None)
    notebook.get("metadata", {}).pop("widgets", None)
    return notebook


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of notebooks")
    parser.add_argument(
        "--check", action="store_true", help="only report; exit 1 if any would change"
    )


def run(args: argparse.Namespace) -> int:
    files = [f for p in args.paths for f in (sorted(p.glob("*.ipynb")) if p.is_dir() else [p])]
    dirty = []
    for path in files:
        text = path.read_text()
        cleaned = json.dumps(strip(json.loads(text)), indent=1, ensure_ascii=False) + "\n"
        if cleaned != text:
            dirty.append(path)
            if not args.check:
                path.write_text(cleaned)
    verb = "would strip" if args.check else "stripped"
    for path in dirty:
        print(f"{verb} {path}")
    return 1 if args.check and dirty else 0
