"""Watchlist matching: exact, OCR-tolerant (likely/possible) and patterns, without a scan."""

from __future__ import annotations

from datetime import UTC, datetime

from anpr_core.reads import PlateAlternative, PlateRead
from indexer.watchlist_matcher import MatchKind, WatchlistIndex

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def read(plate: str, alternatives: tuple[tuple[str, float], ...] = ()) -> PlateRead:
    return PlateRead(
        read_id="C17-20261123T030000-0001",
        plate=plate,
        confidence=0.9,
        alternatives=tuple(PlateAlternative(plate=p, confidence=c) for p, c in alternatives),
        camera_id="C17",
        first_seen=NOW,
        last_seen=NOW,
        best_seen=NOW,
    )


ENTRIES = [
    {"id": "stolen", "plate": "12가3456", "active": True},
    {"id": "pattern", "plate": "*7777", "active": True},
    {"id": "prefix", "plate": "서울12*", "active": True},
    {"id": "old", "plate": "55로0939", "active": False},
] + [{"id": f"bulk{i}", "plate": f"{10 + i % 80}나{i:04d}", "active": True} for i in range(10_000)]
index = WatchlistIndex(ENTRIES)


def kinds(plate: str, alternatives: tuple[tuple[str, float], ...] = ()) -> dict[str, MatchKind]:
    return {m.entry["id"]: m.kind for m in index.match(read(plate, alternatives))}


def test_a_wanted_plate_read_exactly_is_an_exact_match() -> None:
    assert kinds("12가3456") == {"stolen": MatchKind.EXACT}


def test_a_wanted_plate_read_with_one_wrong_digit_still_raises_a_likely_match() -> None:
    assert kinds("12가8456")["stolen"] is MatchKind.LIKELY  # 3 read as 8


def test_the_recognisers_alternative_counts_as_a_likely_match() -> None:
    assert kinds("12거3457", alternatives=(("12가3456", 0.3),))["stolen"] is MatchKind.LIKELY


def test_patterns_match_as_possible_and_inactive_entries_never_match() -> None:
    assert kinds("34가7777") == {"pattern": MatchKind.POSSIBLE}
    assert kinds("서울12가1111") == {"prefix": MatchKind.POSSIBLE}
    assert kinds("55로0939") == {}


def test_an_unrelated_plate_matches_nothing_among_ten_thousand_entries() -> None:
    assert kinds("99허1234") == {}
