"""Cameras and their live health."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from anpr_core.elastic.indices import camera_health_index
from anpr_core.redact import redact_value
from search_api.context import services, set_result_count
from search_api.registry import endpoint
from search_api.roles import ALL_ROLES

bp = Blueprint("cameras", __name__, url_prefix="/api/v1")


@endpoint(bp, "/cameras", roles=ALL_ROLES, summary="cameras with their live health")
def list_cameras() -> Response:
    ctx = services()
    health: dict[str, dict[str, object]] = {}
    if ctx.es.indices.exists(index=camera_health_index(ctx.prefix)):
        result = ctx.es.search(index=camera_health_index(ctx.prefix), size=1000, query={"match_all": {}})
        for hit in result["hits"]["hits"]:
            # Redacted again here: documents written before the workers masked stream URLs
            # (or by another writer) must not hand a camera's password to every role.
            source = redact_value(dict(hit["_source"]))
            health[str(source.get("camera_id", hit["_id"]))] = source
    ids = sorted(set(ctx.cameras) | set(health))
    cameras = [
        {**ctx.cameras.get(cid, {"id": cid}), "health": health.get(cid, {"state": "unknown"})} for cid in ids
    ]
    set_result_count(len(cameras))
    return jsonify(cameras=cameras)
