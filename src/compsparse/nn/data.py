"""The training data, through the speech package's contract, with errors that say what to do.

``load_data(source, split)`` returns ``(X, y)``: float32 ``(n, 32, 32)`` log-mel features and
int64 ``(n,)`` labels; ``source`` is ``"embedded"`` (the synthetic set in the repository) or the
folder of a Google Speech Commands copy. ``augmenter(source, seed)`` returns ``f(epoch) -> X``,
the seeded augmented training split of that epoch (same order as ``load_data``).

Book: chapter "Training" (book/08_training.ipynb).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["DataError", "augmenter", "check_source", "labels", "load_data"]


class DataError(ValueError):
    """The training data cannot be found or read."""


def check_source(source: str) -> None:
    """Raise :class:`DataError` that says what to pass if ``source`` cannot be a data source."""
    if source == "embedded":
        return
    path = Path(source)
    if not path.is_dir():
        raise DataError(
            f"--data {source!r}: no such folder. Pass --data embedded for the synthetic speech "
            f"set in data/embedded/, or the folder of an extracted Google Speech Commands copy "
            f"(one sub-folder per word, validation_list.txt, testing_list.txt)"
        )


def load_data(source: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of ``split`` ("train", "validation" or "test") from ``source``."""
    check_source(str(source))
    from .. import speech

    try:
        X, y = speech.load_split(str(source), split)
    except (FileNotFoundError, OSError, speech.SpeechDataError) as err:
        raise DataError(f"cannot read {split!r} from --data {source!r}: {err}") from err
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if X.ndim != 3 or len(X) != len(y):
        raise DataError(f"{source} {split}: expected (n, h, w) features, got {X.shape}")
    return X, y


def labels(source: str) -> list[str]:
    """Class names, index = class id."""
    from .. import speech

    return [str(s) for s in speech.LABELS]


def augmenter(source: str, seed: int = 0) -> Callable[[int], np.ndarray]:
    """``f(epoch)``: the training split of ``source`` augmented for ``epoch`` (float32, seeded)."""
    from .. import speech

    def augmented(epoch: int) -> np.ndarray:
        X, _ = speech.augmented_split(str(source), "train", epoch=epoch, seed=seed)
        return np.ascontiguousarray(X, dtype=np.float32)

    return augmented
