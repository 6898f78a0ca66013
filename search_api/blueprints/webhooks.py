"""Webhook subscriptions (admin) and the alert outbox: deliveries, dead letters, redelivery.

The indexer delivers (indexer/outbox.py); the API only manages what it reads: subscriptions in
``<prefix>-webhooks`` and delivery states in ``<prefix>-deliveries``. A secret is write-only:
it is never returned, only whether one is set.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from elasticsearch import NotFoundError
from flask import Blueprint, Response, g, jsonify
from pydantic import Field, field_validator

from anpr_core.elastic.indices import deliveries_index, webhooks_index
from search_api.context import services, set_audit_change, set_result_count
from search_api.errors import ApiError
from search_api.registry import endpoint
from search_api.roles import ADMINS
from search_api.schemas import CameraId, Strict
from search_api.watchlist_store import Priority

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1")
WEBHOOK_ID = {"webhook_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}
DELIVERY_ID = {"delivery_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,120}$"}}
# What a delivery listing shows: the state, not the alert's personal data (plate) itself.
DELIVERY_FIELDS = [
    "delivery_id", "alert_id", "target", "subscription_id", "state", "attempts", "next_attempt_at",
    "created_at", "updated_at", "delivered_at", "last_status", "last_error", "camera_id", "priority",
]  # fmt: skip


def _url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


class WebhookBody(Strict):
    url: str = Field(min_length=8, max_length=500, description="where alerts are POSTed")
    secret: str = Field(min_length=16, max_length=200, description="HMAC-SHA256 key (write-only)")
    # Bounded: every alert is checked against every subscription's filters.
    priorities: list[Priority] = Field(
        default_factory=list, max_length=len(Priority), description="only these priorities (empty: all)"
    )
    cameras: list[CameraId] = Field(
        default_factory=list, max_length=500, description="only these (empty: all)"
    )
    description: str = Field(default="", max_length=300)
    active: bool = True

    _check_url = field_validator("url")(_url)


class WebhookPatch(Strict):
    url: str | None = Field(default=None, min_length=8, max_length=500)
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    priorities: list[Priority] | None = Field(default=None, max_length=len(Priority))
    cameras: list[CameraId] | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=300)
    active: bool | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return None if value is None else _url(value)


class DeliveryQuery(Strict):
    state: str | None = Field(default=None, pattern="^(pending|delivered|dead)$")
    target: str | None = Field(default=None, pattern="^(webhook|mqtt)$")
    alert_id: str | None = Field(default=None, pattern="^[A-Za-z0-9_.:-]{1,80}$")
    size: int = Field(default=100, ge=1, le=1000)


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k != "secret"}
    out["secret_set"] = bool(doc.get("secret"))
    return out


def _get(webhook_id: str) -> dict[str, Any]:
    ctx = services()
    try:
        return dict(ctx.es.get(index=webhooks_index(ctx.prefix), id=webhook_id)["_source"])
    except NotFoundError:
        raise ApiError(404, "not_found", "no such webhook") from None


@endpoint(bp, "/webhooks", roles=ADMINS, summary="webhook subscriptions (secrets are never shown)")
def list_webhooks() -> Response:
    ctx = services()
    result = ctx.es.search(index=webhooks_index(ctx.prefix), size=1000, sort=[{"created_at": "asc"}],
                           ignore_unavailable=True)  # fmt: skip
    hooks = [_public(hit["_source"]) for hit in result["hits"]["hits"]]
    set_result_count(len(hooks))
    return jsonify(webhooks=hooks)


@endpoint(
    bp, "/webhooks", method="POST", roles=ADMINS, body=WebhookBody, success=201,
    summary="subscribe a URL to alerts (filters: priorities, cameras); signed with the secret",
)  # fmt: skip
def create_webhook(body: WebhookBody) -> tuple[Response, int]:
    ctx = services()
    now = datetime.now(UTC).isoformat()
    doc = body.model_dump(mode="json")
    doc.update(id=uuid.uuid4().hex, created_at=now, created_by=g.user.username, updated_at=now)
    ctx.es.index(index=webhooks_index(ctx.prefix), id=doc["id"], document=doc, refresh="wait_for")
    set_audit_change(action="create_webhook", webhook_id=doc["id"], after=_public(doc))
    return jsonify(_public(doc)), 201


@endpoint(
    bp, "/webhooks/<webhook_id>", method="PATCH", roles=ADMINS, body=WebhookPatch, path_params=WEBHOOK_ID,
    summary="change a subscription (URL, secret, filters, active)",
)  # fmt: skip
def update_webhook(webhook_id: str, body: WebhookPatch) -> Response:
    ctx = services()
    before = _get(webhook_id)
    change = body.model_dump(mode="json", exclude_none=True)
    after = {**before, **change, "updated_at": datetime.now(UTC).isoformat()}
    ctx.es.index(index=webhooks_index(ctx.prefix), id=webhook_id, document=after, refresh="wait_for")
    set_audit_change(
        action="update_webhook", webhook_id=webhook_id, before=_public(before), after=_public(after)
    )
    return jsonify(_public(after))


@endpoint(
    bp, "/webhooks/<webhook_id>", method="DELETE", roles=ADMINS, path_params=WEBHOOK_ID,
    summary="remove a subscription (its pending deliveries are dead-lettered)",
)  # fmt: skip
def delete_webhook(webhook_id: str) -> tuple[str, int]:
    ctx = services()
    before = _get(webhook_id)
    ctx.es.delete(index=webhooks_index(ctx.prefix), id=webhook_id, refresh="wait_for")
    set_audit_change(action="delete_webhook", webhook_id=webhook_id, before=_public(before))
    return "", 204


@endpoint(
    bp, "/deliveries", roles=ADMINS, query=DeliveryQuery,
    summary="the alert outbox: delivery state per alert and destination (state=dead: dead letters)",
)  # fmt: skip
def list_deliveries(q: DeliveryQuery) -> Response:
    ctx = services()
    filters = [{"term": {field: value}} for field, value in
               (("state", q.state), ("target", q.target), ("alert_id", q.alert_id)) if value]  # fmt: skip
    result = ctx.es.search(
        index=deliveries_index(ctx.prefix), query={"bool": {"filter": filters}}, size=q.size,
        sort=[{"created_at": "desc"}], source=DELIVERY_FIELDS, ignore_unavailable=True, track_total_hits=True,
    )  # fmt: skip
    deliveries = [hit["_source"] for hit in result["hits"]["hits"]]
    set_result_count(len(deliveries))
    return jsonify(deliveries=deliveries, total=result["hits"]["total"]["value"])


@endpoint(
    bp, "/deliveries/<delivery_id>/retry", method="POST", roles=ADMINS, path_params=DELIVERY_ID,
    summary="send a dead (or pending) delivery again now, with a fresh count of attempts",
)  # fmt: skip
def retry_delivery(delivery_id: str) -> Response:
    ctx = services()
    now = datetime.now(UTC).isoformat()
    update = {"state": "pending", "attempts": 0, "next_attempt_at": now, "updated_at": now}
    try:
        ctx.es.update(index=deliveries_index(ctx.prefix), id=delivery_id, doc=update, refresh="wait_for")
    except NotFoundError:
        raise ApiError(404, "not_found", "no such delivery") from None
    set_result_count(1)
    set_audit_change(action="retry_delivery", delivery_id=delivery_id)
    return jsonify(delivery_id=delivery_id, **update)
