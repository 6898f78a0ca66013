"""Watchlist entries in `{prefix}-watchlist`: validation, CRUD and CSV import."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, helpers
from pydantic import Field, ValidationError

from anpr_core.elastic.indices import watchlist_index
from anpr_core.plates import PlatePattern
from search_api.errors import ApiError, FieldError
from search_api.schemas import PlatePatternText, Strict, UtcDatetime

CSV_COLUMNS = ("plate", "reason", "priority", "case_number", "expires_at", "note")
MAX_IMPORT_ROWS = 10_000


class WatchReason(StrEnum):
    STOLEN = "stolen"
    WANTED = "wanted"
    MISSING_PERSON = "missing_person"
    CLONED = "cloned"
    OTHER = "other"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class WatchlistBody(Strict):
    plate: PlatePatternText
    reason: WatchReason
    priority: Priority = Priority.MEDIUM
    case_number: str | None = Field(default=None, max_length=40)
    expires_at: UtcDatetime | None = None
    note: str = Field(default="", max_length=1000)
    active: bool = True


class WatchlistStore:
    def __init__(self, es: Elasticsearch, prefix: str) -> None:
        self.es = es
        self.index = watchlist_index(prefix)

    def _document(self, body: WatchlistBody, user: str, entry_id: str) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        doc = body.model_dump(mode="json")
        doc.update(
            id=entry_id, pattern_kind=PlatePattern.compile(body.plate).kind.value,
            created_at=now, created_by=user, updated_at=now, updated_by=user,
        )  # fmt: skip
        return doc

    def create(self, body: WatchlistBody, user: str) -> dict[str, Any]:
        entry_id = uuid.uuid4().hex
        doc = self._document(body, user, entry_id)
        self.es.index(index=self.index, id=entry_id, document=doc, refresh="wait_for")
        return doc

    def get(self, entry_id: str) -> dict[str, Any]:
        try:
            return dict(self.es.get(index=self.index, id=entry_id)["_source"])
        except NotFoundError:
            raise ApiError(404, "not_found", "no such watchlist entry") from None

    def update(self, entry_id: str, body: WatchlistBody, user: str) -> dict[str, Any]:
        existing = self.get(entry_id)
        doc = self._document(body, user, entry_id)
        doc["created_at"], doc["created_by"] = existing["created_at"], existing["created_by"]
        self.es.index(index=self.index, id=entry_id, document=doc, refresh="wait_for")
        return doc

    def delete(self, entry_id: str) -> None:
        try:
            self.es.delete(index=self.index, id=entry_id, refresh="wait_for")
        except NotFoundError:
            raise ApiError(404, "not_found", "no such watchlist entry") from None

    def list(self, size: int, plate: str | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"term": {"plate": plate}} if plate else {"match_all": {}}
        result = self.es.search(index=self.index, query=query, size=size, sort=[{"created_at": "desc"}])
        return [dict(hit["_source"]) for hit in result["hits"]["hits"]]

    def import_csv(self, text: str, user: str) -> tuple[list[str], list[dict[str, Any]]]:
        """Import every valid row (their plates are returned); report each bad row by line, field
        and reason."""
        try:
            return self._import(text, user)
        except csv.Error as exc:
            raise FieldError([{"field": "file", "reason": f"not CSV: {exc}"}]) from None

    def _import(self, text: str, user: str) -> tuple[list[str], list[dict[str, Any]]]:
        reader = csv.DictReader(io.StringIO(text, newline=""), restkey="(extra values)")
        missing = [c for c in ("plate", "reason") if c not in (reader.fieldnames or [])]
        if missing:
            raise ApiError(
                400, "validation", fields=[{"field": "file", "reason": f"missing columns: {missing}"}]
            )
        actions, errors = [], []
        for number, row in enumerate(reader, start=2):  # line 1 is the header
            if number - 1 > MAX_IMPORT_ROWS:
                errors.append(
                    {"line": number, "field": "file", "reason": f"more than {MAX_IMPORT_ROWS} rows"}
                )
                break
            data = {k: v for k, v in row.items() if k in CSV_COLUMNS and v not in (None, "")}
            unknown = [k for k in row if k not in CSV_COLUMNS]
            if unknown:
                errors.append({"line": number, "field": str(unknown[0]), "reason": "unknown column"})
                continue
            try:
                body = WatchlistBody.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    field = ".".join(str(p) for p in err["loc"]) or "row"
                    errors.append({"line": number, "field": field, "reason": err["msg"]})
                continue
            entry_id = uuid.uuid4().hex
            actions.append(
                {"_index": self.index, "_id": entry_id, "_source": self._document(body, user, entry_id)}
            )
        if actions:
            helpers.bulk(self.es, actions, refresh="wait_for")
        return [str(action["_source"]["plate"]) for action in actions], errors
