"""`PlateRead`: the one record a camera worker emits per vehicle pass.

It is the contract between the workers (lpr/), the journal, the indexer and the API: workers
create it, the journal stores it as one JSON line, the indexer enriches and indexes it with
``read_id`` as the document id so a replayed read never becomes a duplicate.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a timezone (UTC)")
    if value.tzinfo is UTC:
        return value  # the common case (journal records are written in UTC): skip the conversion
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class PlateAlternative(BaseModel):
    model_config = ConfigDict(frozen=True)

    plate: str
    confidence: float = Field(ge=0, le=1)


class GeoPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class PlateRead(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    read_id: str = Field(min_length=8, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    plate: str = Field(min_length=4, max_length=16)
    confidence: float = Field(ge=0, le=1)
    alternatives: tuple[PlateAlternative, ...] = ()
    camera_id: str = Field(min_length=1, max_length=40)
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    best_seen: UtcDatetime
    direction: str | None = None
    box: tuple[float, float, float, float] | None = None
    crop_ref: str | None = None
    # A small JPEG of the whole frame the best crop came from (the scene on the alert card).
    frame_ref: str | None = None
    location: GeoPoint | None = None
    frames: int = Field(default=1, ge=1)
    worker: str | None = None

    @field_validator("plate")
    @classmethod
    def _plate_is_canonical(cls, value: str) -> str:
        from anpr_core.plates import parse_plate  # local import: plates must not import reads

        return parse_plate(value).text

    @field_validator("last_seen")
    @classmethod
    def _ordered(cls, value: datetime, info: object) -> datetime:
        first = getattr(info, "data", {}).get("first_seen")
        if first is not None and value < first:
            raise ValueError("last_seen is before first_seen")
        return value


def make_read_id(camera_id: str, first_seen: datetime, track_key: str) -> str:
    """A stable id for one pass: the same track replayed after a crash gets the same id."""
    stamp = first_seen.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
    digest = hashlib.blake2b(f"{camera_id}|{stamp}|{track_key}".encode(), digest_size=6).hexdigest()
    return f"{camera_id}-{stamp}-{digest}"
