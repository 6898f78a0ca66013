"""Alerts: one per (read, watchlist entry), with an id that makes a replay a no-op.

The API streams alerts by `sequence` (microseconds since the epoch, strictly increasing within
an indexer), so an alert written with immediate refresh is on the operators' screens within
one poll of the SSE stream.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ConflictError, Elasticsearch

from anpr_core.elastic.indices import alerts_index
from anpr_core.reads import PlateRead
from indexer.watchlist_matcher import WatchlistMatch

_sequence_lock = threading.Lock()
_last_sequence = 0


def next_sequence() -> int:
    global _last_sequence
    with _sequence_lock:
        _last_sequence = max(_last_sequence + 1, time.time_ns() // 1000)
        return _last_sequence


def alert_id(read_id: str, entry_id: str) -> str:
    return hashlib.blake2b(f"{read_id}|{entry_id}".encode(), digest_size=10).hexdigest()


def alert_document(read: PlateRead, match: WatchlistMatch) -> dict[str, Any]:
    entry = match.entry
    document: dict[str, Any] = {
        "alert_id": alert_id(read.read_id, str(entry.get("id"))),
        "sequence": next_sequence(),
        "plate": read.plate,
        "watchlist_plate": entry.get("plate"),
        "matched_plate": match.matched_plate,
        "match_kind": match.kind.value,
        "score": match.score,
        "camera_id": read.camera_id,
        "read_id": read.read_id,
        "watchlist_id": entry.get("id"),
        "priority": entry.get("priority"),
        "reason": entry.get("reason"),
        "case_number": entry.get("case_number"),
        "created_at": datetime.now(UTC).isoformat(),
        "best_seen": read.best_seen.isoformat(),
        "crop_ref": read.crop_ref,
        "frame_ref": read.frame_ref,
        "confidence": read.confidence,
        "acknowledged": False,
    }
    if read.location is not None:
        document["location"] = {"lat": read.location.lat, "lon": read.location.lon}
    return document


def write_alerts(client: Elasticsearch, prefix: str, documents: list[dict[str, Any]]) -> None:
    """Create each alert once: a replayed read finds its alert already there (409)."""
    for document in documents:
        try:
            client.create(
                index=alerts_index(prefix), id=document["alert_id"], document=document, refresh="true"
            )
        except ConflictError:
            continue
