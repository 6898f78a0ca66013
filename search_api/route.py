"""A plate's route: its sightings in time order, with gaps, distances and speeds between them.

Also the two analyses built on sightings: cloned plates (consecutive sightings too far apart
for the time between them) and convoys (other plates passing the same cameras within N s).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from anpr_core.elastic.indices import reads_alias
from search_api.geo import haversine_m
from search_api.schemas import TimeRange

ROUTE_SOURCE = [
    "read_id",
    "plate",
    "camera_id",
    "best_seen",
    "location",
    "confidence",
    "direction",
    "crop_ref",
]


@dataclass(frozen=True, slots=True)
class Sighting:
    read_id: str
    plate: str
    camera_id: str
    seen: datetime
    lat: float | None
    lon: float | None
    confidence: float | None
    direction: str | None
    crop_ref: str | None


def _time_filter(window: TimeRange) -> list[dict[str, Any]]:
    bounds: dict[str, str] = {}
    if window.start is not None:
        bounds["gte"] = window.start.isoformat()
    if window.end is not None:
        bounds["lte"] = window.end.isoformat()
    return [{"range": {"best_seen": bounds}}] if bounds else []


def to_sighting(source: dict[str, Any], cameras: dict[str, dict[str, Any]]) -> Sighting:
    location = source.get("location") or {}
    camera = cameras.get(source["camera_id"], {})
    lat = location.get("lat", camera.get("lat"))
    lon = location.get("lon", camera.get("lon"))
    return Sighting(
        read_id=source["read_id"],
        plate=source["plate"],
        camera_id=source["camera_id"],
        seen=datetime.fromisoformat(source["best_seen"].replace("Z", "+00:00")),
        lat=lat,
        lon=lon,
        confidence=source.get("confidence"),
        direction=source.get("direction"),
        crop_ref=source.get("crop_ref"),
    )


def route_search(plate: str, window: TimeRange, limit: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The search behind a route: (request body, URL parameters).

    One definition for the API and for scripts/bench/api_bench, which sends the very same
    request to Elasticsearch directly to show what the API adds on top of it.
    """
    body = {
        "query": {"bool": {"filter": [{"term": {"plate": plate}}, *_time_filter(window)]}},
        "sort": [{"best_seen": "asc"}],
        "size": limit,
        "_source": ROUTE_SOURCE,
        "track_total_hits": False,
    }
    params: dict[str, Any] = {
        "request_cache": True,
        "ignore_unavailable": True,
        "allow_no_indices": True,
        # Less JSON to parse per request: only the documents (no hits at all drops the key).
        "filter_path": "hits.hits._source",
    }
    if window.start or window.end:
        # With a time range, skip monthly indices whose best_seen min/max cannot match.
        params["pre_filter_shard_size"] = 1
    return body, params


def fetch_sightings(
    es: Elasticsearch,
    prefix: str,
    plate: str,
    window: TimeRange,
    cameras: dict[str, dict[str, Any]],
    limit: int,
) -> list[Sighting]:
    body, params = route_search(plate, window, limit)
    result = es.search(index=reads_alias(prefix), body=body, **params)
    return [to_sighting(hit["_source"], cameras) for hit in result.get("hits", {}).get("hits", [])]


def _step(previous: Sighting | None, current: Sighting) -> dict[str, float | None]:
    if previous is None:
        return {"gap_s": None, "distance_m": None, "speed_kmh": None}
    gap = (current.seen - previous.seen).total_seconds()
    distance = None
    if None not in (previous.lat, previous.lon, current.lat, current.lon):
        distance = haversine_m(previous.lat, previous.lon, current.lat, current.lon)  # type: ignore[arg-type]
    speed = None
    if distance is not None and gap > 0:
        speed = distance / gap * 3.6
    return {
        "gap_s": round(gap, 3),
        "distance_m": None if distance is None else round(distance, 1),
        "speed_kmh": None if speed is None else round(speed, 1),
    }


def route_json(plate: str, sightings: list[Sighting], cameras: dict[str, dict[str, Any]]) -> dict[str, Any]:
    rows = []
    previous: Sighting | None = None
    for sighting in sightings:
        camera = cameras.get(sighting.camera_id, {})
        rows.append(
            {
                "read_id": sighting.read_id,
                "camera_id": sighting.camera_id,
                "camera_name": camera.get("name"),
                "seen": sighting.seen.isoformat(),
                "lat": sighting.lat,
                "lon": sighting.lon,
                "confidence": sighting.confidence,
                "direction": sighting.direction,
                "has_crop": sighting.crop_ref is not None,
                **_step(previous, sighting),
            }
        )
        previous = sighting
    return {
        "plate": plate,
        "count": len(rows),
        "first_seen": rows[0]["seen"] if rows else None,
        "last_seen": rows[-1]["seen"] if rows else None,
        "cameras": sorted({row["camera_id"] for row in rows}),
        "sightings": rows,
    }


def route_geojson(route: dict[str, Any]) -> dict[str, Any]:
    located = [row for row in route["sightings"] if row["lat"] is not None and row["lon"] is not None]
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[r["lon"], r["lat"]] for r in located]},
            "properties": {
                "plate": route["plate"],
                "first_seen": route["first_seen"],
                "last_seen": route["last_seen"],
                "count": route["count"],
            },
        }
    ]
    for row in located:
        properties = {k: v for k, v in row.items() if k not in ("lat", "lon")}
        features.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
             "properties": properties}
        )  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def clone_suspicions(
    sightings: list[Sighting], max_speed_kmh: float, min_distance_m: float
) -> list[dict[str, Any]]:
    """Consecutive sightings whose implied speed no car reaches: two vehicles share the plate."""
    out = []
    for previous, current in itertools.pairwise(sightings):
        step = _step(previous, current)
        distance, gap = step["distance_m"], step["gap_s"]
        if distance is None or gap is None or distance < min_distance_m:
            continue
        speed = float("inf") if gap <= 0 else distance / gap * 3.6
        if speed > max_speed_kmh:
            out.append(
                {
                    "from": {"read_id": previous.read_id, "camera_id": previous.camera_id,
                             "seen": previous.seen.isoformat()},
                    "to": {"read_id": current.read_id, "camera_id": current.camera_id,
                           "seen": current.seen.isoformat()},
                    "distance_m": distance,
                    "gap_s": gap,
                    "implied_speed_kmh": None if speed == float("inf") else round(speed, 1),
                }
            )  # fmt: skip
    return out


def convoy_candidates(
    es: Elasticsearch,
    prefix: str,
    target: list[Sighting],
    window_s: int,
    min_passes: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Plates seen within ±window_s at the same camera as the target, on ≥ min_passes passes."""
    if not target:
        return []
    plate = target[0].plate
    passes = target[-500:]  # the most recent 500 passes bound the query size
    should = [
        {
            "bool": {
                "filter": [
                    {"term": {"camera_id": s.camera_id}},
                    {"range": {"best_seen": {"gte": f"{s.seen.isoformat()}||-{window_s}s",
                                             "lte": f"{s.seen.isoformat()}||+{window_s}s"}}},
                ]
            }
        }
        for s in passes
    ]  # fmt: skip
    result = es.search(
        index=reads_alias(prefix),
        query={
            "bool": {"should": should, "minimum_should_match": 1, "must_not": [{"term": {"plate": plate}}]}
        },
        size=10_000,
        source=["plate", "camera_id", "best_seen"],
        track_total_hits=False,
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    by_camera: dict[str, list[Sighting]] = defaultdict(list)
    for s in passes:
        by_camera[s.camera_id].append(s)
    shared: dict[str, set[str]] = defaultdict(set)  # plate -> target read ids it accompanied
    cameras_of: dict[str, set[str]] = defaultdict(set)
    gaps: dict[str, list[float]] = defaultdict(list)
    for hit in result["hits"]["hits"]:
        source = hit["_source"]
        seen = datetime.fromisoformat(source["best_seen"].replace("Z", "+00:00"))
        for s in by_camera.get(source["camera_id"], ()):
            gap = (seen - s.seen).total_seconds()
            if abs(gap) <= window_s and s.read_id not in shared[source["plate"]]:
                shared[source["plate"]].add(s.read_id)
                cameras_of[source["plate"]].add(s.camera_id)
                gaps[source["plate"]].append(gap)
                break
    rows = [
        {
            "plate": other,
            "shared_passes": len(read_ids),
            "cameras": sorted(cameras_of[other]),
            "mean_gap_s": round(sum(gaps[other]) / len(gaps[other]), 1),
        }
        for other, read_ids in shared.items()
        if len(read_ids) >= min_passes
    ]
    rows.sort(key=lambda row: (-row["shared_passes"], abs(row["mean_gap_s"]), row["plate"]))
    return rows[:limit]
