"""Reads search: turns a validated `ReadSearchQuery` into one Elasticsearch request.

Pattern kinds map to cheap keyword queries (term, prefix on `plate`, prefix on
`plate_reversed` for suffixes, wildcard otherwise). Fuzzy search asks the confusion model for
the plates an OCR could have confused with the text and ranks hits by that cost through
constant scores, so ordering and `search_after` paging stay inside Elasticsearch.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from anpr_core.elastic.indices import reads_alias
from anpr_core.plates import ConfusionModel, PatternKind, PlatePattern
from search_api.errors import field_error
from search_api.schemas import ReadSearchQuery, SearchMode, SortOrder

READ_SOURCE = [
    "read_id", "plate", "confidence", "camera_id", "best_seen", "first_seen", "last_seen",
    "direction", "location", "crop_ref", "alternatives",
]  # fmt: skip
FUZZY_CANDIDATES = 200


@dataclass(frozen=True)
class SearchPage:
    hits: list[dict[str, Any]]
    total: int
    total_is_exact: bool
    next_token: str | None
    candidates: list[dict[str, Any]] | None


def encode_cursor(sort_values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(sort_values).encode()).decode().rstrip("=")


LONG = 2**63 - 1


def decode_cursor(token: str, scored: bool = False) -> list[Any]:
    """The sort values of a `next` token: [score,] best_seen (epoch ms), read_id.

    Checked value by value: a forged cursor (`["a", "b"]`, a number beyond a long) used to reach
    Elasticsearch and come back as a 500.
    """
    try:
        padded = token + "=" * (-len(token) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise field_error("search_after", "not a cursor returned by this API") from None
    if not isinstance(values, list) or len(values) != (3 if scored else 2):
        raise field_error("search_after", "not a cursor returned by this API, or for a different sort")
    *score, seen, read_id = values
    valid = (
        all(isinstance(v, int | float) and not isinstance(v, bool) and abs(v) < 1e30 for v in score)
        and isinstance(seen, int)
        and not isinstance(seen, bool)
        and -LONG <= seen <= LONG
        and isinstance(read_id, str)
        and len(read_id) <= 200
    )
    if not valid:
        raise field_error("search_after", "not a cursor returned by this API")
    return values


def plate_clause(q: ReadSearchQuery, confusion: ConfusionModel) -> tuple[dict[str, Any] | None, list[Any]]:
    """The plate part of the query, and the fuzzy candidates (empty for pattern search)."""
    if q.plate is None:
        return None, []
    if q.mode is SearchMode.FUZZY:
        candidates = confusion.candidates(q.plate, max_cost=q.max_cost, limit=FUZZY_CANDIDATES)
        if not candidates:
            raise field_error("plate", "not a valid plate, and no valid plate is within max_cost")
        should = [
            # Cheaper confusion -> higher constant score; ties broken by time in the sort.
            {"constant_score": {"filter": {"term": {"plate": plate}}, "boost": round(10.0 / (1.0 + cost), 4)}}
            for plate, cost in candidates
        ]
        return {"bool": {"should": should, "minimum_should_match": 1}}, candidates
    pattern = PlatePattern.compile(q.plate)
    kind = pattern.kind
    if kind is PatternKind.EXACT:
        # A corrected read is found by its corrected text and by what the recogniser had read.
        either = [{"term": {"plate": pattern.text}}, {"term": {"original_plate": pattern.text}}]
        return {"bool": {"should": either, "minimum_should_match": 1}}, []
    if kind is PatternKind.PREFIX:
        return {"prefix": {"plate": pattern.fixed_text}}, []
    if kind is PatternKind.SUFFIX:
        return {"prefix": {"plate_reversed": pattern.fixed_text[::-1]}}, []
    return {"wildcard": {"plate": {"value": pattern.to_es_wildcard()}}}, []


def filters(q: ReadSearchQuery) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if q.start is not None or q.end is not None:
        bounds: dict[str, str] = {}
        if q.start is not None:
            bounds["gte"] = q.start.isoformat()
        if q.end is not None:
            bounds["lte"] = q.end.isoformat()
        out.append({"range": {"best_seen": bounds}})
    if q.camera:
        out.append({"terms": {"camera_id": q.camera}})
    if q.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in q.bbox.split(","))
        out.append(
            {
                "geo_bounding_box": {
                    "location": {
                        "top_left": {"lat": max_lat, "lon": min_lon},
                        "bottom_right": {"lat": min_lat, "lon": max_lon},
                    }
                }
            }
        )
    if q.near is not None:
        lat, lon = (float(v) for v in q.near.split(","))
        out.append({"geo_distance": {"distance": f"{q.radius_m}m", "location": {"lat": lat, "lon": lon}}})
    if q.min_confidence > 0:
        out.append({"range": {"confidence": {"gte": q.min_confidence}}})
    return out


def search_reads(es: Elasticsearch, prefix: str, q: ReadSearchQuery, confusion: ConfusionModel) -> SearchPage:
    plate_query, candidates = plate_clause(q, confusion)
    bool_query: dict[str, Any] = {"filter": filters(q)}
    if plate_query is not None:
        if candidates:
            bool_query["must"] = [plate_query]
        else:
            bool_query["filter"].append(plate_query)
    order = "asc" if q.sort is SortOrder.TIME_ASC else "desc"
    sort: list[Any] = [{"best_seen": order}, {"read_id": order}]
    if candidates:
        sort.insert(0, {"_score": "desc"})
    body: dict[str, Any] = {
        "query": {"bool": bool_query},
        "sort": sort,
        "size": q.size,
        "_source": READ_SOURCE,
        "track_total_hits": 10_000,
    }
    if q.search_after is not None:
        body["search_after"] = decode_cursor(q.search_after, scored=bool(candidates))
    result = es.search(
        index=reads_alias(prefix),
        body=body,
        ignore_unavailable=True,
        allow_no_indices=True,
        # With a time range, skip monthly indices whose best_seen min/max cannot match.
        pre_filter_shard_size=1 if q.start or q.end else None,
    )
    raw_hits = result["hits"]["hits"]
    cost_of = dict(candidates)
    hits = []
    for hit in raw_hits:
        doc = dict(hit["_source"])
        if candidates:
            doc["confusion_cost"] = cost_of.get(doc["plate"])
        hits.append(doc)
    next_token = encode_cursor(raw_hits[-1]["sort"]) if len(raw_hits) == q.size else None
    total = result["hits"]["total"]
    candidate_list = (
        [{"plate": plate, "cost": cost} for plate, cost in candidates] if q.mode is SearchMode.FUZZY else None
    )
    return SearchPage(hits, int(total["value"]), total["relation"] == "eq", next_token, candidate_list)
