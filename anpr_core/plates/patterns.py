"""Plate patterns for search and the watchlist: `?` is one character, `*` any run.

`12가34??`, `*3456`, `12가*`. Patterns are normalised like plates (spaces, hyphens, full-width
digits, decomposed jamo) and must contain at least two fixed characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from anpr_core.plates.alphabet import PLATE_ALPHABET
from anpr_core.plates.errors import InvalidPattern, InvalidPlate
from anpr_core.plates.normalize import normalize_plate_text

_ALLOWED = set(PLATE_ALPHABET) | {"?", "*"}


class PatternKind(StrEnum):
    EXACT = "exact"  # no wildcard: a term query on `plate`
    PREFIX = "prefix"  # `12가*`: prefix query on `plate`
    SUFFIX = "suffix"  # `*3456`: prefix query on `plate_reversed`
    WILDCARD = "wildcard"  # anything else: wildcard query on `plate`


@dataclass(frozen=True, slots=True)
class PlatePattern:
    text: str
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, raw: str) -> PlatePattern:
        try:
            text = normalize_plate_text(raw)
        except InvalidPlate as exc:
            raise InvalidPattern(str(raw), exc.reason) from None
        text = re.sub(r"\*+", "*", text)
        bad = sorted(set(text) - _ALLOWED)
        if bad:
            raise InvalidPattern(raw, f"characters not used on plates: {' '.join(bad)}")
        fixed = sum(ch not in "?*" for ch in text)
        if fixed < 2:
            raise InvalidPattern(raw, "a pattern needs at least two fixed characters")
        if len(text) > 12:
            raise InvalidPattern(raw, "longer than any plate")
        body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in text)
        return cls(text, re.compile(f"^{body}$"))

    @property
    def is_exact(self) -> bool:
        return "?" not in self.text and "*" not in self.text

    @property
    def kind(self) -> PatternKind:
        if self.is_exact:
            return PatternKind.EXACT
        inner = self.text.strip("*")
        if "?" not in inner and "*" not in inner:
            if self.text.endswith("*") and not self.text.startswith("*"):
                return PatternKind.PREFIX
            if self.text.startswith("*") and not self.text.endswith("*"):
                return PatternKind.SUFFIX
        return PatternKind.WILDCARD

    @property
    def fixed_text(self) -> str:
        """The pattern without its wildcards (the prefix/suffix for PREFIX/SUFFIX kinds)."""
        return self.text.strip("*")

    def matches(self, plate_text: str) -> bool:
        return self.regex.match(plate_text) is not None

    def to_es_wildcard(self) -> str:
        # Plate characters never include Elasticsearch's escape character, so no escaping is
        # needed beyond what `compile` already refused.
        return self.text
