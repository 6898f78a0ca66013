"""The indexed form of a read (PlateRead + plate search fields), for the seeder and tests.

The indexer produces the same shape in production; this helper lets the benchmark seeder and
the API tests write reads without running the indexer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from anpr_core.plates import parse_plate, plate_search_fields
from anpr_core.reads import make_read_id


def read_document(
    plate: str,
    camera_id: str,
    seen: datetime,
    lat: float,
    lon: float,
    *,
    confidence: float = 0.95,
    crop_ref: str | None = None,
    direction: str | None = None,
    track_key: str = "t",
) -> dict[str, Any]:
    parsed = parse_plate(plate)
    seen = seen.astimezone(UTC)
    return {
        "read_id": make_read_id(camera_id, seen, f"{track_key}|{parsed.text}"),
        "confidence": confidence,
        "alternatives": [],
        "camera_id": camera_id,
        "first_seen": (seen - timedelta(milliseconds=400)).isoformat(),
        "last_seen": (seen + timedelta(milliseconds=400)).isoformat(),
        "best_seen": seen.isoformat(),
        "direction": direction,
        "crop_ref": crop_ref,
        "location": {"lat": lat, "lon": lon},
        "frames": 5,
        **plate_search_fields(parsed),
    }
