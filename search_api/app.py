"""Flask application factory for the search API."""

from __future__ import annotations

import logging
import time
from typing import Any

from elasticsearch import ApiError as EsApiError
from elasticsearch import BadRequestError as EsBadRequestError
from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import Elasticsearch
from flask import Flask, Response, g, jsonify, request
from prometheus_client import Counter, Histogram
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from anpr_core.elastic.client import make_client
from anpr_core.elastic.mappings import ensure_indices as install_indices
from anpr_core.plates import ConfusionModel
from anpr_core.settings import Settings, load_settings
from search_api.audit import AuditLog
from search_api.blueprints import (
    alerts,
    audit,
    auth,
    corrections,
    evidence,
    exports,
    ops,
    people,
    plates,
    reads,
    watchlist,
    webhooks,
)
from search_api.blueprints import cameras as cameras_bp
from search_api.camera_registry import load_cameras
from search_api.context import Services
from search_api.csrf import check_csrf
from search_api.errors import ApiError
from search_api.json_provider import OrjsonProvider
from search_api.ratelimit import LoginRateLimiter
from search_api.sessions import SessionGate
from search_api.stream_slots import StreamSlots
from search_api.tokens import TokenSigner, secret_key
from search_api.users import UserStore

log = logging.getLogger(__name__)

REQUESTS = Counter("anpr_api_requests_total", "API requests", ["endpoint", "status"])
LATENCY = Histogram(
    "anpr_api_request_seconds", "API request latency", ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5),
)  # fmt: skip
UNAUDITED = (
    "ops.health",
    "ops.ready",
    "ops.metrics",
    "ops.openapi",
    "ops.docs",
    "ops.docs_init",
    "ops.docs_assets",
    "web.page",  # the page shell and its static files hold no personal data
    "web.static",
)
# Never written to the audit log, even as query text.
SECRET_KEYS = {"password", "token"}


class _ApiFlask(Flask):
    json_provider_class = OrjsonProvider


def create_app(
    settings: Settings | None = None,
    *,
    es: Elasticsearch | None = None,
    cameras: dict[str, dict[str, Any]] | None = None,
    ensure_indices: bool = True,
) -> Flask:
    settings = settings or load_settings()
    app = _ApiFlask(__name__)
    app.config["ANPR_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = 6 * 1024 * 1024
    if settings.api.trusted_proxies:
        # Behind the reverse proxy of docs/deploy.md every peer is the proxy: believe the last
        # `trusted_proxies` X-Forwarded-For hops (and -Proto, for Secure cookies), no more, so
        # request.remote_addr is the client for the login limits, /metrics and the audit.
        n = settings.api.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    client = es or make_client(settings)
    prefix = settings.index_prefix
    if ensure_indices:
        try:
            install_indices(client, prefix)
        except (EsConnectionError, EsApiError) as exc:
            # Start anyway: /ready reports the problem and requests answer 503 until ES is back.
            log.error("could not prepare indices: %s", exc)
    users = UserStore(
        client,
        prefix,
        password_min_length=settings.api.password_min_length,
        password_min_score=settings.api.password_min_score,
    )
    app.extensions["anpr"] = Services(
        settings=settings,
        es=client,
        prefix=prefix,
        users=users,
        signer=TokenSigner(secret_key(settings), settings.api.session_minutes * 60),
        sessions=SessionGate(users, recheck_s=settings.api.session_recheck_s),
        audit=AuditLog(client, prefix, settings.paths.audit_journal),
        login_limiter=LoginRateLimiter(
            max_failures=settings.api.login_max_failures,
            window_s=settings.api.login_window_s,
            max_failures_per_address=settings.api.login_max_failures_per_address,
        ),
        confusion=ConfusionModel.load(),
        streams=StreamSlots(settings.api.max_streams_per_worker, settings.api.max_streams_per_user),
        cameras=cameras if cameras is not None else load_cameras(settings),
    )
    for blueprint in (
        ops.bp,
        auth.bp,
        reads.bp,
        plates.bp,
        cameras_bp.bp,
        watchlist.bp,
        alerts.bp,
        exports.bp,
        audit.bp,
        webhooks.bp,
        corrections.bp,
        evidence.bp,
        people.bp,
    ):
        app.register_blueprint(blueprint)
    from search_api.web import web_blueprint  # the control-room page (issue 10)

    app.register_blueprint(web_blueprint)
    _install_hooks(app)
    return app


def _install_hooks(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.before_request
    def csrf_guard() -> None:
        check_csrf()

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return exc.response()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        response = jsonify(error=(exc.name or "error").lower().replace(" ", "_"), message=exc.description)
        response.status_code = exc.code or 500
        return response

    @app.errorhandler(EsBadRequestError)
    def es_rejected(exc: EsBadRequestError) -> Response:
        # Parameters are validated before they reach Elasticsearch; should one still be refused
        # there, it is the request's fault: 400, not a 500 with a traceback a user can repeat.
        log.warning("elasticsearch refused the request on %s: %s", request.path, exc.message)
        fields = [{"field": "query", "reason": "these parameters cannot be searched"}]
        return ApiError(400, "validation", fields=fields).response()

    @app.errorhandler(EsConnectionError)
    def es_down(exc: EsConnectionError) -> Response:
        log.error("elasticsearch unavailable: %s", exc)
        response = jsonify(error="unavailable", message="the search backend is unavailable; try again")
        response.status_code = 503
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.path)
        response = jsonify(error="internal", message="unexpected error; it has been logged")
        response.status_code = 500
        return response

    @app.after_request
    def finish(response: Response) -> Response:
        endpoint = request.endpoint or "unknown"
        REQUESTS.labels(endpoint, str(response.status_code)).inc()
        LATENCY.labels(endpoint).observe(time.perf_counter() - g.get("started", time.perf_counter()))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
        )
        # CORS is closed: no Access-Control-Allow-* header is ever sent, so browsers on other
        # origins cannot read responses.
        if endpoint not in UNAUDITED:
            # Every audited answer is about people or grants access (reads, routes, alerts, the
            # login's bearer token): no browser or proxy cache may keep a copy.
            response.headers.setdefault("Cache-Control", "no-store")
            written = _audit(app, endpoint, response.status_code)
            if not written and response.status_code < 400 and g.get("result_count") is not None:
                # PIPA: personal data leaves only with its access record written.
                response = jsonify(error="unavailable", message="the access log is unavailable; try again")
                response.status_code = 503
        return response


def _audit(app: Flask, endpoint: str, status: int) -> bool:
    services: Services = app.extensions["anpr"]
    user = g.get("user")
    args = {
        k: v if len(v) > 1 else v[0]
        for k, v in request.args.to_dict(flat=False).items()
        if k not in SECRET_KEYS
    }
    access = g.get("access")
    return services.audit.record(
        user=user.username if user else g.get("login_username"),
        role=user.role.value if user else None,
        endpoint=endpoint,
        method=request.method,
        path=request.path,
        query=args,
        purpose=getattr(access, "purpose", None) or request.args.get("purpose"),
        case_number=getattr(access, "case_number", None) or request.args.get("case_number"),
        result_count=g.get("result_count"),
        status=status,
        client_address=request.remote_addr,
        change=g.get("audit_change"),
    )
