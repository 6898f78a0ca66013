"""The hand-off of people events (issue 23) from the monitor to the indexer.

The monitor appends each event as one record to a journal (`anpr_core.journal`, the plate reads'
format: fsync'd, checksummed, segment files) under `<paths.people>/events`, after its snapshot
(the frame with the zone drawn) is on disk under `<paths.people>/snapshots`; the indexer ships
the journal into the alerts index, the live board and the alert outbox. The event id is made
from what the event is, so it is the alert's document id and a replay is a no-op.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EVENTS_DIR, SNAPSHOTS_DIR, STATUS_FILE = "events", "snapshots", "status.json"
# The alert document's snapshot (JPEG, base64): personal data, so every reader of the alerts
# index but the audited snapshot endpoint leaves this field out; one name for all of them.
SNAPSHOT_FIELD = "snapshot_jpeg"
EventKind = Literal["intrusion", "loitering", "density"]
# Crowd-density levels, lowest first, as the control centres name them.
DensityLevel = Literal["관심", "주의", "경계", "심각"]
# Alert priority (the watchlist's low/medium/high) by kind and density level: what the outbox
# filters on and the MQTT topic carries (anpr/alerts/<priority>/<camera>).
PRIORITY: dict[str, str] = {"intrusion": "high", "loitering": "medium"}
DENSITY_PRIORITY: dict[DensityLevel, str] = {"관심": "low", "주의": "medium", "경계": "high", "심각": "high"}


class PeopleEventRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(pattern=r"^pe-[0-9a-f]{20}$")
    camera_id: str = Field(pattern=r"^[\w-]{1,32}$")
    zone: str = Field(pattern=r"^[\w.-]{1,64}$")
    kind: EventKind
    at: float = Field(gt=0)  # epoch seconds of the frame that raised it
    since: float = Field(gt=0)  # when the condition began
    track_id: int | None = None
    foot: tuple[float, float] | None = None
    level: DensityLevel | None = None
    count: int | None = Field(default=None, ge=0)
    density: float | None = Field(default=None, ge=0)
    # File name under <paths.people>/snapshots (written and fsync'd before the record).
    snapshot: str | None = Field(default=None, pattern=r"^[\w.-]{1,200}\.jpg$")

    @property
    def priority(self) -> str:
        if self.kind == "density":
            return DENSITY_PRIORITY[self.level] if self.level else "low"
        return PRIORITY[self.kind]


def people_event_id(
    camera_id: str, zone: str, kind: str, at: float, track_id: int | None, level: str | None
) -> str:
    key = f"{camera_id}|{zone}|{kind}|{round(at * 1000)}|{track_id}|{level}"
    return "pe-" + hashlib.blake2b(key.encode(), digest_size=10).hexdigest()


def events_dir(people_dir: Path) -> Path:
    return people_dir / EVENTS_DIR


def snapshots_dir(people_dir: Path) -> Path:
    return people_dir / SNAPSHOTS_DIR
