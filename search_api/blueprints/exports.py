"""Exports of a search or a route: CSV, GeoJSON, KML or a PDF case report."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g

from search_api.blueprints.plates import PLATE_PARAM, canonical_plate
from search_api.context import services, set_result_count
from search_api.exports import to_csv, to_geojson, to_kml
from search_api.mapimage import draw_map
from search_api.pdf_report import build_pdf
from search_api.registry import endpoint
from search_api.roles import EXPORTERS
from search_api.route import fetch_sightings, route_json
from search_api.schemas import ExportFormat, RouteExportQuery, SearchExportQuery
from search_api.search import search_reads

bp = Blueprint("exports", __name__, url_prefix="/api/v1")
PRODUCES = ("text/csv", "application/geo+json", "application/vnd.google-earth.kml+xml", "application/pdf")
MIMETYPES = dict(zip(ExportFormat, PRODUCES, strict=True))


def _rows_from_hits(hits: list[dict[str, Any]], cameras: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for hit in hits:
        location = hit.get("location") or {}
        rows.append(
            {**hit, "seen": hit.get("best_seen"), "lat": location.get("lat"), "lon": location.get("lon"),
             "camera_name": cameras.get(hit["camera_id"], {}).get("name")}
        )  # fmt: skip
    return rows


def _respond(fmt: ExportFormat, rows: list[dict[str, Any]], title: str, line: bool, case: str, purpose: str,
             summary: dict[str, Any]) -> Response:  # fmt: skip
    ctx = services()
    if fmt is ExportFormat.CSV:
        payload: bytes | str = to_csv(rows)
    elif fmt is ExportFormat.GEOJSON:
        payload = to_geojson(rows, line=line)
    elif fmt is ExportFormat.KML:
        payload = to_kml(rows, title, line=line)
    else:
        located = rows if line else []
        payload = build_pdf(
            title=title, case_number=case, requester=g.user.username, role=g.user.role.value, purpose=purpose,
            summary=summary, rows=rows, map_png=draw_map(located or rows, ctx.cameras),
            crops_dir=ctx.settings.paths.crops,
        )  # fmt: skip
    response = Response(payload, mimetype=MIMETYPES[fmt])
    extension = {"geojson": "geojson"}.get(fmt.value, fmt.value)
    safe_case = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in case)
    response.headers["Content-Disposition"] = f'attachment; filename="anpr-{safe_case}.{extension}"'
    response.headers["Cache-Control"] = "no-store, private"
    return response


@endpoint(
    bp, "/exports/reads", roles=EXPORTERS, query=SearchExportQuery, produces=PRODUCES,
    summary="export a reads search (same parameters as /reads) as CSV, GeoJSON, KML or PDF",
)  # fmt: skip
def export_search(q: SearchExportQuery) -> Response:
    ctx = services()
    page = search_reads(ctx.es, ctx.prefix, q, ctx.confusion)
    rows = _rows_from_hits(page.hits, ctx.cameras)
    set_result_count(len(rows))
    summary = {"검색 Search": q.plate or "(all plates)", "건수 Reads": len(rows), "총 Total": page.total}
    return _respond(
        q.format, rows, f"ANPR search {q.plate or ''}".strip(), False, q.case_number, q.purpose, summary
    )


@endpoint(bp, "/exports/plates/<plate>/route", roles=EXPORTERS, query=RouteExportQuery, produces=PRODUCES,
          path_params=PLATE_PARAM, summary="export a plate's route as CSV, GeoJSON, KML or PDF")  # fmt: skip
def export_route(plate: str, q: RouteExportQuery) -> Response:
    ctx = services()
    text = canonical_plate(plate)
    sightings = fetch_sightings(ctx.es, ctx.prefix, text, q, ctx.cameras, q.limit)
    route = route_json(text, sightings, ctx.cameras)
    rows = [
        {**row, "plate": text, "crop_ref": s.crop_ref}
        for row, s in zip(route["sightings"], sightings, strict=True)
    ]
    set_result_count(len(rows))
    summary = {"번호판 Plate": text, "건수 Sightings": route["count"], "최초 First": route["first_seen"],
               "최종 Last": route["last_seen"], "카메라 Cameras": ", ".join(route["cameras"])}  # fmt: skip
    return _respond(q.format, rows, f"차량 경로 Route {text}", True, q.case_number, q.purpose, summary)
