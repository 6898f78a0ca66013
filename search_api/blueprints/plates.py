"""A plate's route, and the cloned-plate and convoy analyses built on it."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from anpr_core.plates import InvalidPlate, parse_plate
from search_api.context import services, set_result_count
from search_api.errors import field_error
from search_api.registry import endpoint
from search_api.roles import ROUTE_READERS
from search_api.route import clone_suspicions, convoy_candidates, fetch_sightings, route_geojson, route_json
from search_api.schemas import ClonesQuery, ConvoyQuery, RouteFormat, RouteQuery

bp = Blueprint("plates", __name__, url_prefix="/api/v1")
PLATE_PARAM = {"plate": {"type": "string", "minLength": 4, "maxLength": 16, "example": "12가3456"}}


def canonical_plate(raw: str) -> str:
    try:
        return parse_plate(raw).text
    except InvalidPlate as exc:
        raise field_error("plate", str(exc)) from None


@endpoint(
    bp, "/plates/<plate>/route", roles=ROUTE_READERS, query=RouteQuery, path_params=PLATE_PARAM,
    produces=("application/json", "application/geo+json"),
    summary="chronological sightings with gaps and speeds; JSON or GeoJSON LineString",
)  # fmt: skip
def route(plate: str, q: RouteQuery) -> Response:
    ctx = services()
    text = canonical_plate(plate)
    sightings = fetch_sightings(ctx.es, ctx.prefix, text, q, ctx.cameras, q.limit)
    set_result_count(len(sightings))
    body = route_json(text, sightings, ctx.cameras)
    if q.format is RouteFormat.GEOJSON:
        response = jsonify(route_geojson(body))
        response.mimetype = "application/geo+json"
        return response
    return jsonify(body)


@endpoint(
    bp, "/plates/<plate>/clones", roles=ROUTE_READERS, query=ClonesQuery, path_params=PLATE_PARAM,
    summary="cloned-plate check: sightings further apart than a car can drive in the time between",
)  # fmt: skip
def clones(plate: str, q: ClonesQuery) -> Response:
    ctx = services()
    text = canonical_plate(plate)
    sightings = fetch_sightings(ctx.es, ctx.prefix, text, q, ctx.cameras, 5000)
    found = clone_suspicions(sightings, q.max_speed_kmh, q.min_distance_m)
    set_result_count(len(found))
    return jsonify(plate=text, sightings=len(sightings), suspected_clone=bool(found), impossible_moves=found)


@endpoint(
    bp, "/plates/<plate>/convoy", roles=ROUTE_READERS, query=ConvoyQuery, path_params=PLATE_PARAM,
    summary="convoy analysis: plates repeatedly passing the same cameras within window_s of the target",
)  # fmt: skip
def convoy(plate: str, q: ConvoyQuery) -> Response:
    ctx = services()
    text = canonical_plate(plate)
    sightings = fetch_sightings(ctx.es, ctx.prefix, text, q, ctx.cameras, 5000)
    rows = convoy_candidates(ctx.es, ctx.prefix, sightings, q.window_s, q.min_passes, q.limit)
    set_result_count(len(rows))
    return jsonify(plate=text, target_passes=len(sightings), window_s=q.window_s, companions=rows)
