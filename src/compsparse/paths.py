"""Where the repository's data lives, found the same way by every module.

The package reads committed data (the paper's tables, the embedded speech set, exported models,
results) from the repository's ``data/`` folder. Set ``COMPSPARSE_DATA`` to use another copy, for
instance on a board where the package was installed without the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "repo_root", "shown_path"]


def repo_root() -> Path:
    """The repository this package was installed from (editable install or source tree)."""
    return Path(__file__).resolve().parents[2]


def shown_path(path) -> str:
    """``path`` relative to the repository when it lies inside it, for reports and the book
    (an absolute path would name the machine that wrote it)."""
    path = Path(path).resolve()
    try:
        return path.relative_to(repo_root()).as_posix()
    except ValueError:
        return str(path)


def data_dir(*parts: str) -> Path:
    """``data/<parts...>`` of the repository, or of ``$COMPSPARSE_DATA`` when set.

    Raises:
        FileNotFoundError: the folder does not exist; the message says how to get it.
    """
    base = (
        Path(os.environ["COMPSPARSE_DATA"])
        if "COMPSPARSE_DATA" in os.environ
        else repo_root() / "data"
    )
    path = base.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: compsparse reads its data from a clone of the repository "
            f"(git clone https://github.com/compsparse/compsparse; pip install -e .), "
            f"or from the folder named by the COMPSPARSE_DATA environment variable"
        )
    return path
