"""Alerts: list, acknowledge, and a live Server-Sent Events stream.

The stream cursor is the alert's `sequence` (monotonically increasing, written by the alerter
with immediate refresh), so a reconnecting client resumes with `Last-Event-ID` and misses none.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError as EsApiError
from elasticsearch import Elasticsearch, NotFoundError
from flask import Blueprint, Response, g, jsonify, request, stream_with_context
from pydantic import Field

from anpr_core.elastic.indices import alerts_index
from anpr_core.people_events import SNAPSHOT_FIELD
from search_api.client_gone import hang_up_check
from search_api.context import services, set_audit_change, set_result_count
from search_api.errors import ApiError, field_error
from search_api.registry import endpoint
from search_api.roles import ALERT_HANDLERS
from search_api.schemas import Strict, TimeRange

bp = Blueprint("alerts", __name__, url_prefix="/api/v1")
POLL_INTERVAL_S = 0.25
# Keeps proxies from timing the stream out; a closed tab is noticed sooner (client_gone).
HEARTBEAT_S = 5.0
STREAM_RETRY_S = 5  # a console refused for want of a stream slot tries again after this
# Alert sequences are Elasticsearch longs: anything larger is no sequence (and would fail there).
MAX_SEQUENCE = 2**63 - 1
ALERT_ID = {"alert_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,80}$"}}


class AlertListQuery(TimeRange):
    acknowledged: bool | None = None
    size: int = Field(default=100, ge=1, le=1000)
    before_sequence: int | None = Field(
        default=None, ge=0, le=MAX_SEQUENCE, description="paging: alerts older than this"
    )


class AckBody(Strict):
    note: str = Field(default="", max_length=1000)


class StreamQuery(Strict):
    since: int | None = Field(default=None, ge=0, le=MAX_SEQUENCE, description="sequence to resume after")
    max_seconds: float = Field(default=3600, gt=0, le=3600, description="close the stream after this")


def _alerts(
    es: Elasticsearch, prefix: str, query: dict[str, Any], size: int, order: str
) -> list[dict[str, Any]]:
    result = es.search(
        index=alerts_index(prefix), query=query, size=size, sort=[{"sequence": order}],
        ignore_unavailable=True, allow_no_indices=True,
        source_excludes=[SNAPSHOT_FIELD],  # a people event's image: only GET /people/events/<id>/snapshot
    )  # fmt: skip
    return [{"alert_id": hit["_id"], **hit["_source"]} for hit in result["hits"]["hits"]]


@endpoint(bp, "/alerts", roles=ALERT_HANDLERS, query=AlertListQuery, summary="alerts, newest first")
def list_alerts(q: AlertListQuery) -> Response:
    ctx = services()
    filters: list[dict[str, Any]] = []
    if q.start or q.end:
        bounds = {k: v.isoformat() for k, v in (("gte", q.start), ("lte", q.end)) if v is not None}
        filters.append({"range": {"created_at": bounds}})
    if q.acknowledged is not None:
        # Alerts written before anyone acknowledged have no field at all.
        term = {"term": {"acknowledged": True}}
        filters.append(term if q.acknowledged else {"bool": {"must_not": [term]}})
    if q.before_sequence is not None:
        filters.append({"range": {"sequence": {"lt": q.before_sequence}}})
    alerts = _alerts(ctx.es, ctx.prefix, {"bool": {"filter": filters}}, q.size, "desc")
    set_result_count(len(alerts))
    return jsonify(alerts=alerts)


@endpoint(
    bp, "/alerts/<alert_id>/ack", method="POST", roles=ALERT_HANDLERS, body=AckBody, path_params=ALERT_ID,
    summary="acknowledge an alert (who, when, note)",
)  # fmt: skip
def acknowledge(alert_id: str, body: AckBody) -> Response:
    ctx = services()
    now = datetime.now(UTC).isoformat()
    ack = {
        "acknowledged": True,
        "acknowledged_by": g.user.username,
        "acknowledged_at": now,
        "ack_note": body.note,
    }
    try:
        ctx.es.update(index=alerts_index(ctx.prefix), id=alert_id, doc=ack, refresh="wait_for")
    except NotFoundError:
        raise ApiError(404, "not_found", "no such alert") from None
    set_result_count(1)
    set_audit_change(action="acknowledge", alert_id=alert_id, note=body.note)
    return jsonify(alert_id=alert_id, **ack)


@endpoint(
    bp, "/alerts/stream", roles=ALERT_HANDLERS, query=StreamQuery, produces=("text/event-stream",),
    summary="live alerts as Server-Sent Events (`event: alert`, id = sequence); heartbeats every 5 s",
)  # fmt: skip
def stream(q: StreamQuery) -> Response:
    ctx = services()
    es, prefix = ctx.es, ctx.prefix
    cursor = q.since
    last_event = request.headers.get("Last-Event-ID")
    if last_event is not None:
        # ASCII digits only (str.isdigit also takes '²'), and within a long: a 30-digit id used
        # to fail in Elasticsearch on every poll, so the console reconnected forever.
        if not re.fullmatch(r"[0-9]{1,19}", last_event) or int(last_event) > MAX_SEQUENCE:
            raise field_error("Last-Event-ID", f"must be an alert sequence number (0 to {MAX_SEQUENCE})")
        cursor = int(last_event)
    release = ctx.streams.take(g.user.username)
    if release is None and ctx.streams.user_is_full(g.user.username):
        mine = ApiError(
            429, "too_many_streams_for_user",
            f"you already hold {ctx.streams.per_user} live alert streams on this server; close one",
            retry_after_s=STREAM_RETRY_S,
        )  # fmt: skip
        response = mine.response()
        response.headers["Retry-After"] = str(STREAM_RETRY_S)
        return response
    if release is None:
        busy = ApiError(
            503, "too_many_streams",
            f"this server already holds {ctx.streams.limit} live alert streams per worker; retry shortly",
            retry_after_s=STREAM_RETRY_S,
        )  # fmt: skip
        response = busy.response()
        response.headers["Retry-After"] = str(STREAM_RETRY_S)
        return response
    try:
        if cursor is None:
            # New subscribers get alerts from now on, not the whole history.
            latest = _alerts(es, prefix, {"match_all": {}}, 1, "desc")
            cursor = int(latest[0]["sequence"]) if latest else -1
    except BaseException:
        release()
        raise

    client_gone = hang_up_check(request.environ)

    def events(after: int) -> Iterator[str]:
        deadline = time.monotonic() + q.max_seconds
        last_sent = time.monotonic()
        yield "retry: 2000\n\n"
        while time.monotonic() < deadline:
            try:
                batch = _alerts(es, prefix, {"range": {"sequence": {"gt": after}}}, 100, "asc")
            except (EsApiError, TransportError):
                # End the stream cleanly: EventSource reconnects after `retry` with Last-Event-ID,
                # so no alert is skipped, and the reconnect reports the outage (503) if it lasts.
                yield ": elasticsearch unavailable, reconnect\n\n"
                return
            for alert in batch:
                after = int(alert["sequence"])
                yield f"id: {after}\nevent: alert\ndata: {json.dumps(alert, ensure_ascii=False)}\n\n"
                last_sent = time.monotonic()
            if time.monotonic() - last_sent >= HEARTBEAT_S:
                yield ": heartbeat\n\n"
                last_sent = time.monotonic()
            if not batch:
                time.sleep(POLL_INTERVAL_S)
                if client_gone():
                    return  # the slot and the thread come back now, not at the next failed write

    response = Response(stream_with_context(events(cursor)), mimetype="text/event-stream")
    # The WSGI server closes the response however the stream ends (client gone, max_seconds,
    # Elasticsearch down), even if it never started: the slot is always given back.
    response.call_on_close(release)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response
