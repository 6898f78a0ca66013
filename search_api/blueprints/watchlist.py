"""Watchlist administration: create, read, update, delete, CSV import."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from pydantic import Field

from search_api.context import services, set_audit_change, set_result_count
from search_api.errors import ApiError, field_error
from search_api.registry import endpoint
from search_api.roles import ADMINS
from search_api.schemas import PlatePatternText, Strict
from search_api.watchlist_store import WatchlistBody, WatchlistStore

bp = Blueprint("watchlist", __name__, url_prefix="/api/v1")
ENTRY_ID = {"entry_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}
MAX_CSV_BYTES = 5 * 1024 * 1024
# What the audit record of a watchlist write keeps of the entry before and after.
AUDITED_FIELDS = ("plate", "reason", "priority", "case_number", "expires_at", "note")


class WatchlistListQuery(Strict):
    plate: PlatePatternText | None = None
    size: int = Field(default=100, ge=1, le=1000)


def _audited(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: entry.get(key) for key in AUDITED_FIELDS}


def store() -> WatchlistStore:
    ctx = services()
    return WatchlistStore(ctx.es, ctx.prefix)


@endpoint(bp, "/watchlist", roles=ADMINS, query=WatchlistListQuery, summary="list watchlist entries")
def list_entries(q: WatchlistListQuery) -> Response:
    entries = store().list(q.size, q.plate)
    set_result_count(len(entries))
    return jsonify(entries=entries)


@endpoint(
    bp,
    "/watchlist",
    method="POST",
    roles=ADMINS,
    body=WatchlistBody,
    summary="add a watchlist entry",
    success=201,
)
def create_entry(body: WatchlistBody) -> tuple[Response, int]:
    entry = store().create(body, g.user.username)
    set_audit_change(action="create", entry_id=entry["id"], after=_audited(entry))
    return jsonify(entry), 201


@endpoint(bp, "/watchlist/<entry_id>", roles=ADMINS, path_params=ENTRY_ID, summary="one watchlist entry")
def get_entry(entry_id: str) -> Response:
    return jsonify(store().get(entry_id))


@endpoint(
    bp, "/watchlist/<entry_id>", method="PUT", roles=ADMINS, body=WatchlistBody, path_params=ENTRY_ID,
    summary="replace a watchlist entry",
)  # fmt: skip
def update_entry(entry_id: str, body: WatchlistBody) -> Response:
    before = store().get(entry_id)
    entry = store().update(entry_id, body, g.user.username)
    set_audit_change(action="update", entry_id=entry_id, before=_audited(before), after=_audited(entry))
    return jsonify(entry)


@endpoint(bp, "/watchlist/<entry_id>", method="DELETE", roles=ADMINS, path_params=ENTRY_ID, summary="delete")
def delete_entry(entry_id: str) -> tuple[str, int]:
    before = store().get(entry_id)
    store().delete(entry_id)
    set_audit_change(action="delete", entry_id=entry_id, before=_audited(before))
    return "", 204


@endpoint(
    bp, "/watchlist/import", method="POST", roles=ADMINS, body_content_type="text/csv",
    summary="bulk CSV import (columns: plate, reason, priority, case_number, expires_at, note)",
)  # fmt: skip
def import_csv() -> tuple[Response, int]:
    # Only a CSV body or a multipart upload: a `<form enctype="text/plain">` on another page of
    # the site must not be able to create entries (issue 22).
    if request.mimetype not in ("text/csv", "multipart/form-data"):
        raise ApiError(
            415, "unsupported_media_type", "send the CSV as text/csv or as multipart/form-data field 'file'"
        )
    if request.content_length is not None and request.content_length > MAX_CSV_BYTES:
        raise field_error("file", "larger than 5 MiB")
    upload = request.files.get("file")
    raw = upload.read(MAX_CSV_BYTES + 1) if upload is not None else request.get_data(cache=False)
    if not raw:
        raise field_error("file", "send the CSV as the body (text/csv) or as multipart field 'file'")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise field_error("file", "not UTF-8 text") from None
    plates, errors = store().import_csv(text, g.user.username)
    set_result_count(len(plates))
    set_audit_change(action="import", imported=len(plates), rejected=len(errors), plates=plates)
    return jsonify(imported=len(plates), rejected=len(errors), errors=errors), 200
