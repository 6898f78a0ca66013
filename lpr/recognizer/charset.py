"""The recogniser's output classes: CTC blank, then every plate character in a fixed order."""

from __future__ import annotations

from anpr_core.plates import PLATE_ALPHABET

BLANK = 0
CHARSET: tuple[str, ...] = PLATE_ALPHABET
NUM_CLASSES = len(CHARSET) + 1
INDEX_OF = {ch: i + 1 for i, ch in enumerate(CHARSET)}


def encode(text: str) -> list[int]:
    return [INDEX_OF[ch] for ch in text]
