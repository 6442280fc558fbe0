"""Label schemes: which words are classes, in which order.

Book: chapter "Speech data".

The order follows the authors' GSC code (``("unknown", "silence", "zero", ..., "nine")``), so
index ``2 + d`` is the digit ``d`` and a model trained here has the same output layout as
Numenta's published GSC networks.
"""

from __future__ import annotations

__all__ = [
    "COMMANDS",
    "DIGITS",
    "GSC_WORDS",
    "LABELS",
    "LABELS_COMMANDS",
    "SCHEMES",
    "SILENCE",
    "UNKNOWN",
    "labels_for",
    "target_words",
]

UNKNOWN = "unknown"
SILENCE = "silence"
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# The standard keyword-spotting benchmark's ten commands (Warden 2018).
COMMANDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")

# Every word folder of GSC v0.02 (v0.01 has all but the last five).
GSC_WORDS = (
    *DIGITS,
    *COMMANDS,
    "bed",
    "bird",
    "cat",
    "dog",
    "happy",
    "house",
    "marvin",
    "sheila",
    "tree",
    "wow",
    "backward",
    "forward",
    "follow",
    "learn",
    "visual",
)

#: The default 12 outputs, as in the authors' setup: index 0 unknown, 1 silence, 2 + d digit d.
LABELS: tuple[str, ...] = (UNKNOWN, SILENCE, *DIGITS)
#: The standard 12-class keyword-spotting scheme: unknown, silence, then the ten commands.
LABELS_COMMANDS: tuple[str, ...] = (UNKNOWN, SILENCE, *COMMANDS)

SCHEMES: dict[str, tuple[str, ...]] = {"digits": LABELS, "commands": LABELS_COMMANDS}


def labels_for(scheme: str) -> tuple[str, ...]:
    """The label list of a scheme (``"digits"``, the default, or ``"commands"``)."""
    try:
        return SCHEMES[scheme]
    except KeyError:
        raise ValueError(f"unknown label scheme {scheme!r}: use one of {sorted(SCHEMES)}") from None


def target_words(scheme: str) -> tuple[str, ...]:
    """The words that are classes of their own in ``scheme`` (every other word is "unknown")."""
    return labels_for(scheme)[2:]
