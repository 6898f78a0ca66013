"""Request models. Field descriptions and limits appear in the OpenAPI document as written."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from anpr_core.plates import InvalidPattern, PlatePattern


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a timezone, e.g. 2026-05-01T09:00:00+09:00")
    return value.astimezone(UTC)


def _pattern(value: str) -> str:
    try:
        return PlatePattern.compile(value).text
    except InvalidPattern as exc:
        raise ValueError(str(exc)) from None


# Whitespace str.strip() misses: zero-width space and joiners, BOM, Hangul fillers.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u3164\uffa0\u115f\u1160"


def _purpose(value: str) -> str:
    text = value.strip().strip(_INVISIBLE).strip()
    if len(text) < MIN_PURPOSE:
        raise ValueError(f"state the purpose in at least {MIN_PURPOSE} characters (not counting spaces)")
    if not any(ch.isalnum() for ch in text):
        raise ValueError("state the purpose in words")
    return text


MIN_PURPOSE = 2  # `수배` (wanted vehicle), `수사` (investigation) are whole purposes in Korean
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
PlatePatternText = Annotated[
    str,
    Field(min_length=2, max_length=24, description="plate, or pattern: `?` one character, `*` any run"),
    AfterValidator(_pattern),
]
CameraId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]


class Strict(BaseModel):
    # Unknown parameters are errors: a misspelt filter must not silently widen a search.
    model_config = ConfigDict(extra="forbid")


class AccessReason(Strict):
    """PIPA: each access to plate reads states why, and for which case."""

    purpose: Annotated[str, AfterValidator(_purpose)] = Field(
        max_length=300, description="why the data is needed: at least 2 characters after trimming, e.g. 수배"
    )
    case_number: str = Field(
        min_length=3,
        max_length=40,
        pattern=r"^[A-Za-z0-9가-힣][A-Za-z0-9가-힣._/-]*$",
        description="case or incident number, e.g. 2026-서울-01234",
    )


class TimeRange(Strict):
    start: UtcDatetime | None = Field(default=None, alias="from", description="ISO 8601 with timezone")
    end: UtcDatetime | None = Field(default=None, alias="to", description="ISO 8601 with timezone")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("to: is before 'from'")
        return self


class SearchMode(StrEnum):
    PATTERN = "pattern"  # exact, prefix, suffix or wildcard, from the text itself
    FUZZY = "fuzzy"  # OCR-tolerant: plates within `max_cost` by the confusion model


class SortOrder(StrEnum):
    TIME_DESC = "time_desc"
    TIME_ASC = "time_asc"


class ReadSearchQuery(AccessReason, TimeRange):
    plate: PlatePatternText | None = None
    mode: SearchMode = SearchMode.PATTERN
    max_cost: float = Field(default=1.0, gt=0, le=2.0, description="fuzzy: largest confusion cost")
    camera: list[CameraId] = Field(default_factory=list, max_length=100, description="camera ids")
    bbox: str | None = Field(
        default=None,
        pattern=r"^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){3}$",
        description="min_lon,min_lat,max_lon,max_lat",
    )
    near: str | None = Field(default=None, pattern=r"^-?\d+(\.\d+)?,-?\d+(\.\d+)?$", description="lat,lon")
    radius_m: float = Field(default=500.0, gt=0, le=50_000)
    min_confidence: float = Field(default=0.0, ge=0, le=1)
    sort: SortOrder = SortOrder.TIME_DESC
    size: int = Field(default=50, ge=1, le=500)
    search_after: str | None = Field(default=None, max_length=500, description="`next` of the previous page")

    @model_validator(mode="after")
    def _checks(self) -> ReadSearchQuery:
        if self.mode is SearchMode.FUZZY:
            if self.plate is None:
                raise ValueError("plate: fuzzy search needs a plate")
            if "?" in self.plate or "*" in self.plate:
                raise ValueError("plate: fuzzy search takes a whole plate, not a pattern")
        if self.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = (float(v) for v in self.bbox.split(","))
            if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
                raise ValueError("bbox: need min_lon <= max_lon and min_lat <= max_lat, in range")
        if self.near is not None:
            lat, lon = (float(v) for v in self.near.split(","))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError("near: latitude/longitude out of range")
        return self


class RouteFormat(StrEnum):
    JSON = "json"
    GEOJSON = "geojson"


class RouteQuery(AccessReason, TimeRange):
    format: RouteFormat = RouteFormat.JSON
    limit: int = Field(default=2000, ge=1, le=5000)


class ClonesQuery(AccessReason, TimeRange):
    max_speed_kmh: float = Field(default=200.0, gt=10, le=1000, description="faster than this is impossible")
    min_distance_m: float = Field(default=1000.0, ge=0, le=1_000_000)


class ConvoyQuery(AccessReason, TimeRange):
    window_s: int = Field(default=60, ge=1, le=900, description="seconds either side of the target")
    min_passes: int = Field(default=3, ge=2, le=50, description="passes shared with the target to report")
    limit: int = Field(default=50, ge=1, le=500)


class ExportFormat(StrEnum):
    CSV = "csv"
    GEOJSON = "geojson"
    KML = "kml"
    PDF = "pdf"


class SearchExportQuery(ReadSearchQuery):
    format: ExportFormat = ExportFormat.CSV
    size: int = Field(default=1000, ge=1, le=10_000)


class RouteExportQuery(RouteQuery):
    format: ExportFormat = ExportFormat.CSV  # type: ignore[assignment]


class CropQuery(AccessReason):
    pass


class LoginBody(Strict):
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


class NewUserBody(Strict):
    username: str = Field(min_length=3, max_length=40)
    # Length here; the whole policy (username, strength) in search_api/users.py.
    password: str = Field(min_length=12, max_length=200)
    role: str = Field(pattern=r"^(operator|investigator|analyst|admin)$")
