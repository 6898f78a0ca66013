"""People analytics (issue 23) for the control room: live counts, the events, their snapshots.

- `GET /people/status`: per analytics camera the live people count, each density zone's level
  (관심/주의/경계/심각 or none) and the zone outlines (image polygons). Aggregated counts are not
  personal data; still only operators and administrators have a use for them.
- `GET /people/events`: the people events (intrusion, loitering, density), newest first. They are
  alerts (the same index, live stream, acknowledgement `POST /alerts/<id>/ack`, retention and
  delivery as the plate alerts); this lists only them, without their snapshots.
- `GET /people/events/<id>/snapshot`: the frame of the event with the zone drawn. It shows people,
  so it is personal data: operators only, each view audited with the purpose "people event
  confirmation", never cached.
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import datetime
from typing import Any, get_args

from elasticsearch import NotFoundError
from flask import Blueprint, Response, jsonify
from pydantic import Field

from anpr_core.elastic.indices import alerts_index, people_status_index
from anpr_core.people_events import SNAPSHOT_FIELD, EventKind
from search_api.context import services, set_audit_purpose, set_result_count
from search_api.errors import ApiError
from search_api.registry import endpoint
from search_api.roles import ALERT_HANDLERS, PEOPLE_STATUS_READERS
from search_api.schemas import CameraId, Strict

bp = Blueprint("people", __name__, url_prefix="/api/v1")
EVENT_ID = {"event_id": {"type": "string", "pattern": "^pe-[0-9a-f]{20}$"}}
PURPOSE = "people event confirmation"
KINDS: tuple[str, ...] = get_args(EventKind)
# The monitor writes its status every round (≤ 1 s at 1 fps): older than this, the camera's
# analytics have stopped and the page says so instead of showing an old count as live.
STALE_S = 15.0


class PeopleEventsQuery(Strict):
    camera_id: list[CameraId] = Field(default=[], max_length=100)
    kind: list[EventKind] = Field(default=[], max_length=len(KINDS))
    acknowledged: bool | None = None
    size: int = Field(default=50, ge=1, le=500)


@endpoint(
    bp, "/people/status", roles=PEOPLE_STATUS_READERS,
    summary="live people count, density level per zone and zone outlines of every analytics camera",
)  # fmt: skip
def status() -> Response:
    ctx = services()
    index = people_status_index(ctx.prefix)
    cameras: list[dict[str, Any]] = []
    if ctx.es.indices.exists(index=index):
        hits = ctx.es.search(index=index, size=1000, query={"match_all": {}}, sort=[{"camera_id": "asc"}])
        now = time.time()
        for hit in hits["hits"]["hits"]:
            source = dict(hit["_source"])
            try:
                updated = datetime.fromisoformat(str(source.get("updated_at"))).timestamp()
            except ValueError:
                updated = 0.0  # no time: nothing says it is live
            source["stale"] = now - updated > STALE_S
            cameras.append(source)
    set_result_count(len(cameras))
    return jsonify(cameras=cameras, stale_after_s=STALE_S)


@endpoint(
    bp, "/people/events", roles=ALERT_HANDLERS, query=PeopleEventsQuery,
    summary="people events (intrusion, loitering, crowd density), newest first, without snapshots",
)  # fmt: skip
def list_events(q: PeopleEventsQuery) -> Response:
    ctx = services()
    filters: list[dict[str, Any]] = [{"terms": {"kind": list(q.kind or KINDS)}}]
    if q.camera_id:
        filters.append({"terms": {"camera_id": q.camera_id}})
    if q.acknowledged is not None:
        term = {"term": {"acknowledged": True}}
        filters.append(term if q.acknowledged else {"bool": {"must_not": [term]}})
    result = ctx.es.search(
        index=alerts_index(ctx.prefix), query={"bool": {"filter": filters}}, size=q.size,
        sort=[{"sequence": "desc"}], source_excludes=[SNAPSHOT_FIELD],
        ignore_unavailable=True, allow_no_indices=True,
    )  # fmt: skip
    events = [{"alert_id": hit["_id"], **hit["_source"]} for hit in result["hits"]["hits"]]
    set_result_count(len(events))
    return jsonify(events=events)


@endpoint(
    bp, "/people/events/<event_id>/snapshot", roles=ALERT_HANDLERS, path_params=EVENT_ID,
    produces=("image/jpeg",), summary="the frame of a people event with its zone drawn (audited)",
)  # fmt: skip
def snapshot(event_id: str) -> Response:
    ctx = services()
    set_audit_purpose(PURPOSE)
    try:
        hit = ctx.es.get(index=alerts_index(ctx.prefix), id=event_id, source=[SNAPSHOT_FIELD, "kind"])
    except NotFoundError:
        raise ApiError(404, "not_found", "no such people event") from None
    source = hit["_source"]
    if source.get("kind") not in KINDS:
        raise ApiError(404, "not_found", "no such people event")
    try:
        jpeg = base64.b64decode(source.get(SNAPSHOT_FIELD) or "", validate=True)
    except (binascii.Error, ValueError):
        jpeg = b""
    if not jpeg:
        raise ApiError(404, "not_found", "this event has no snapshot")
    set_result_count(1)
    response = Response(jpeg, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "no-store, private"
    return response
