"""What an operator must see to confirm an alert: the plate crop of the hit and a small frame
of that pass (the vehicle in its lane).

Role rule (docs/api.md): the crop and the frame of a watchlist hit are part of the alert shown to
control staff (operators), so they get them through the alert — `GET /alerts/<id>/crop` and
`GET /alerts/<id>/frame` — without the search purpose and case number that `GET /reads/<id>/crop`
asks of investigators; they still cannot fetch the images of any read that raised no alert.
Every view is audited like any other request, with the alert's case number and the purpose
"alert confirmation".
"""

from __future__ import annotations

from pathlib import Path

from elasticsearch import NotFoundError
from flask import Blueprint, Response, send_file

from anpr_core.elastic.indices import alerts_index
from search_api.context import services, set_audit_purpose, set_result_count
from search_api.errors import ApiError
from search_api.registry import endpoint
from search_api.roles import ALERT_HANDLERS

bp = Blueprint("evidence", __name__, url_prefix="/api/v1")
ALERT_ID = {"alert_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,80}$"}}
PURPOSE = "alert confirmation"


def crop_path(crop_ref: object, what: str = "crop") -> Path:
    root = services().settings.paths.crops.resolve()
    path = (root / str(crop_ref)).resolve()
    # crop_ref comes from the index; still refuse anything that escapes the crop directory.
    if not crop_ref or not path.is_relative_to(root) or not path.is_file():
        raise ApiError(404, "not_found", f"{what} file is gone (retention) or was never stored")
    return path


@endpoint(
    bp, "/alerts/<alert_id>/crop", roles=ALERT_HANDLERS, path_params=ALERT_ID,
    produces=("image/jpeg", "image/png"), summary="the plate crop of the read that raised this alert",
)  # fmt: skip
def alert_crop(alert_id: str) -> Response:
    return _alert_image(alert_id, "crop_ref", "crop")


@endpoint(
    bp, "/alerts/<alert_id>/frame", roles=ALERT_HANDLERS, path_params=ALERT_ID, produces=("image/jpeg",),
    summary="a small JPEG (at most 320 px wide) of the whole frame the alert's plate crop came from",
)  # fmt: skip
def alert_frame(alert_id: str) -> Response:
    return _alert_image(alert_id, "frame_ref", "frame")


def _alert_image(alert_id: str, field: str, what: str) -> Response:
    ctx = services()
    try:
        alert = ctx.es.get(index=alerts_index(ctx.prefix), id=alert_id, source=[field, "case_number"])
    except NotFoundError:
        raise ApiError(404, "not_found", "no such alert") from None
    source = alert["_source"]
    set_audit_purpose(PURPOSE, source.get("case_number"))
    path = crop_path(source.get(field), what)
    set_result_count(1)
    response = send_file(path, max_age=0)
    response.headers["Cache-Control"] = "no-store, private"
    return response
