"""Health, readiness, Prometheus metrics, the OpenAPI document and the interactive docs."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, jsonify, request, send_from_directory
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

from search_api.context import services
from search_api.errors import ApiError
from search_api.openapi import build_openapi
from search_api.registry import authenticate
from search_api.roles import Role

bp = Blueprint("ops", __name__)

try:
    from swagger_ui_bundle import swagger_ui_path

    SWAGGER_DIR: Path | None = Path(swagger_ui_path)
except ImportError:  # pragma: no cover - the docs page says how to install it
    SWAGGER_DIR = None

DOCS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>ANPR API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>"""
DOCS_INIT = (
    "window.ui = SwaggerUIBundle({url: '/api/v1/openapi.json', dom_id: '#ui', withCredentials: true});"
)


@bp.get("/health")
def health() -> tuple[Response, int]:
    return jsonify(status="ok"), 200


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    try:
        # cluster health rather than ping: the local test distribution has no `GET /`.
        health = services().es.cluster.health(timeout="2s")
        ok = health["status"] in ("green", "yellow")
    except Exception:
        ok = False
    return (jsonify(status="ready"), 200) if ok else (jsonify(status="elasticsearch unavailable"), 503)


@bp.get("/metrics")
def metrics() -> Response:
    # Scrapers on the host itself need no token; from elsewhere only an admin may read them.
    if request.remote_addr not in ("127.0.0.1", "::1"):
        authenticate()
        from flask import g

        if g.user.role is not Role.ADMIN:
            raise ApiError(403, "forbidden", "metrics are for admins")
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = DEFAULT_REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    # Public: it describes the interface, not any personal data, and the docs page needs it to log in.
    return jsonify(_openapi_document())


@cache
def _openapi_document() -> dict[str, object]:
    # Endpoints are declared at import time, so the document never changes while running.
    return build_openapi()


@bp.get("/api/docs")
def docs() -> Response:
    return Response(DOCS_PAGE, mimetype="text/html")


@bp.get("/api/docs/init.js")
def docs_init() -> Response:
    return Response(DOCS_INIT, mimetype="text/javascript")


@bp.get("/api/docs/assets/<path:name>")
def docs_assets(name: str) -> Response:
    if SWAGGER_DIR is None:
        raise ApiError(404, "not_found", "pip install swagger-ui-bundle to serve the docs")
    return send_from_directory(SWAGGER_DIR, name, max_age=3600)
