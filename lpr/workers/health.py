"""Per-camera health: what operators see for each feed, published for the indexer and the API."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any


@dataclass
class CameraHealth:
    camera_id: str
    state: str = "connecting"  # connecting | up | down
    fps: float = 0.0
    last_frame_at: datetime | None = None
    last_read_at: datetime | None = None
    errors: int = 0
    reconnects: int = 0
    bad_frames: int = 0
    dropped_frames: int = 0
    deferred_frames: int = 0  # motion seen, but other cameras had the detector this round
    frames: int = 0
    processed_frames: int = 0
    reads: int = 0
    repeats_suppressed: int = 0  # the same plate again within the repeat window: not a new pass
    parked_sightings: int = 0  # sightings on a parked plate's spot: read once, not tracked again
    decoded_frames: int = 0  # H.264 pictures decoded (every frame is: each depends on the last)
    # CPU seconds per stage (thread CPU time): where a camera's cost goes, against the decode floor.
    decode_cpu_s: float = 0.0
    gate_cpu_s: float = 0.0
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def document(self) -> dict[str, Any]:
        with self._lock:
            # Not dataclasses.asdict: it deep-copies, and the lock cannot be copied.
            doc = {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
        for key in ("last_frame_at", "last_read_at"):
            if doc[key] is not None:
                doc[key] = doc[key].isoformat()
        doc["updated_at"] = datetime.now(UTC).isoformat()
        return doc
