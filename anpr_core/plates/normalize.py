"""Turn what people type and what OCR prints into one canonical plate string."""

from __future__ import annotations

import unicodedata

from anpr_core.plates.errors import InvalidPlate

_FULLWIDTH_DIGITS = {0xFF10 + i: str(i) for i in range(10)}
# Separators people and systems put inside plates: spaces of all widths, hyphens and dashes.
_SEPARATORS = {ord(ch): None for ch in " \t\u00a0\u3000-\u2010\u2011\u2012\u2013\u2014\u2212\uff0d_."}


def normalize_plate_text(raw: str) -> str:
    """NFC Hangul, ASCII digits, no separators. Raises InvalidPlate for non-strings or empties."""
    if not isinstance(raw, str):
        raise InvalidPlate(repr(raw), "a plate must be text")
    text = raw.translate(_FULLWIDTH_DIGITS).translate(_SEPARATORS)
    # NFC composes decomposed jamo (NFD input, e.g. from macOS file names) into syllables.
    text = unicodedata.normalize("NFC", text)
    if not text:
        raise InvalidPlate(raw, "empty plate")
    return text
