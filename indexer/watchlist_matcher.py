"""Match every read against the whole watchlist, tolerant of OCR confusion, without a scan.

Entries are indexed four ways: exact plates in a dict; every exact plate also under each of
its one-character-masked forms (`12가3?56`), so a read with one misread character finds it
with a handful of dictionary lookups; patterns with a fixed 4-digit serial in buckets by
serial; the few remaining patterns in a short list. A misread entry's confusion-model
distance decides between a likely and a possible match.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from anpr_core.plates import ConfusionModel, PlatePattern
from anpr_core.reads import PlateRead

LIKELY_MAX_COST = 0.5
POSSIBLE_MAX_COST = 1.0


class MatchKind(StrEnum):
    EXACT = "exact"
    LIKELY = "likely"
    POSSIBLE = "possible"


@dataclass(frozen=True)
class WatchlistMatch:
    entry: dict[str, Any]
    kind: MatchKind
    score: float  # 1 = certain
    matched_plate: str


class WatchlistIndex:
    def __init__(self, entries: list[dict[str, Any]], confusion: ConfusionModel | None = None) -> None:
        self.confusion = confusion or ConfusionModel.load()
        self.exact: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.one_off: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self.by_serial: dict[str, list[tuple[PlatePattern, dict[str, Any]]]] = defaultdict(list)
        self.other: list[tuple[PlatePattern, dict[str, Any]]] = []
        for entry in entries:
            if not entry.get("active", True):
                continue
            pattern = PlatePattern.compile(entry["plate"])
            if pattern.is_exact:
                self.exact[pattern.text].append(entry)
                for key in _masked(pattern.text):
                    self.one_off[key].append((pattern.text, entry))
            elif len(pattern.text) >= 4 and pattern.text[-4:].isdigit():
                self.by_serial[pattern.text[-4:]].append((pattern, entry))
            else:
                self.other.append((pattern, entry))
        self.size = len(entries)

    def match(self, read: PlateRead) -> list[WatchlistMatch]:
        found: dict[str, WatchlistMatch] = {}

        def offer(entry: dict[str, Any], kind: MatchKind, score: float, plate: str) -> None:
            key = str(entry.get("id"))
            current = found.get(key)
            if current is None or score > current.score:
                found[key] = WatchlistMatch(entry, kind, round(score, 4), plate)

        for entry in self.exact.get(read.plate, ()):
            offer(entry, MatchKind.EXACT, 1.0, read.plate)
        # Likely: the recogniser's own alternatives, then shapes it confuses.
        for alternative in read.alternatives:
            for entry in self.exact.get(alternative.plate, ()):
                offer(entry, MatchKind.LIKELY, 0.5 + 0.5 * alternative.confidence, alternative.plate)
        for key in _masked(read.plate):
            for plate, entry in self.one_off.get(key, ()):
                if plate == read.plate:
                    continue
                cost = self.confusion.distance(read.plate, plate)
                if cost <= POSSIBLE_MAX_COST:
                    kind = MatchKind.LIKELY if cost <= LIKELY_MAX_COST else MatchKind.POSSIBLE
                    offer(entry, kind, max(0.0, 1.0 - cost), plate)
        # Patterns: only the bucket of the read's serial (and of its candidates' serials).
        for pattern, entry in self.by_serial.get(read.plate[-4:], ()):
            if pattern.matches(read.plate):
                offer(entry, MatchKind.POSSIBLE, 0.6, read.plate)
        for pattern, entry in self.other:
            if pattern.matches(read.plate):
                offer(entry, MatchKind.POSSIBLE, 0.6, read.plate)
        return sorted(found.values(), key=lambda m: -m.score)


def _masked(text: str) -> list[str]:
    return [f"{text[:i]}?{text[i + 1 :]}" for i in range(len(text))]
