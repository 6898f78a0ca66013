"""Query the PIPA access log (admin only)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import Field

from anpr_core.elastic.indices import audit_pattern
from search_api.context import services, set_result_count
from search_api.registry import endpoint
from search_api.roles import ADMINS
from search_api.schemas import TimeRange

bp = Blueprint("audit", __name__, url_prefix="/api/v1")


class AuditQuery(TimeRange):
    user: str | None = Field(default=None, max_length=40)
    case_number: str | None = Field(default=None, max_length=40)
    endpoint: str | None = Field(default=None, max_length=80, description="e.g. reads.search")
    outcome: str | None = Field(default=None, pattern="^(allowed|denied|error)$")
    size: int = Field(default=100, ge=1, le=1000)


@endpoint(bp, "/audit", roles=ADMINS, query=AuditQuery, summary="query the access log, newest first")
def query_audit(q: AuditQuery) -> Response:
    ctx = services()
    ctx.audit.flush(refresh=True)  # this worker's waiting records too (other workers: within 0.5 s)
    filters: list[dict[str, Any]] = []
    for field in ("user", "case_number", "endpoint", "outcome"):
        value = getattr(q, field)
        if value is not None:
            filters.append({"term": {field: value}})
    if q.start or q.end:
        filters.append(
            {"range": {"at": {k: v.isoformat() for k, v in (("gte", q.start), ("lte", q.end)) if v}}}
        )
    result = ctx.es.search(
        index=audit_pattern(ctx.prefix), query={"bool": {"filter": filters}}, size=q.size,
        sort=[{"at": "desc"}], ignore_unavailable=True, allow_no_indices=True,
    )  # fmt: skip
    records = []
    for hit in result["hits"]["hits"]:
        record = dict(hit["_source"])
        record["query"] = json.loads(record["query"]) if record.get("query") else {}
        records.append(record)
    set_result_count(len(records))
    return jsonify(records=records)
