"""The PIPA access log: one record per API access, written to the monthly audit index.

A record is in Elasticsearch before the response it describes leaves the worker: `record`
waits until its bulk write is acknowledged (Elasticsearch fsyncs its translog before it
answers), so killing a worker (kill -9) mid-burst loses no access that a client saw answered.
Writes are group-committed: one writer thread per worker sends whatever records are waiting in
one bulk request, so concurrent requests share a round trip instead of paying one each. A
record that cannot be written is logged as an error with the record, and `record` says so: the
app then refuses to hand out the data (503) rather than answer unaudited.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from elasticsearch import Elasticsearch

from anpr_core.elastic.indices import audit_index, audit_pattern

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    index: str
    doc: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False


def audit_document(
    *,
    user: str | None,
    role: str | None,
    endpoint: str,
    method: str,
    path: str,
    query: dict[str, Any],
    purpose: str | None,
    case_number: str | None,
    result_count: int | None,
    status: int,
    client_address: str | None,
    change: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    now = at or datetime.now(UTC)
    return {
        "at": now.isoformat(),
        "user": user,
        "role": role,
        "endpoint": endpoint,
        "method": method,
        "path": path,
        # Stored as JSON text: query shapes differ per endpoint and must not grow the mapping.
        "query": orjson.dumps(query, default=str, option=orjson.OPT_SORT_KEYS).decode(),
        "purpose": purpose,
        "case_number": case_number,
        "result_count": result_count,
        "status": status,
        "outcome": "allowed" if status < 400 else "denied" if status in (401, 403) else "error",
        "client_address": client_address,
        # What an administrative write changed (a user's name and role, a watchlist plate), as
        # JSON text for the same reason as `query`.
        "change": orjson.dumps(change, default=str, option=orjson.OPT_SORT_KEYS).decode() if change else None,
    }


class AuditLog:
    def __init__(self, client: Elasticsearch, prefix: str, write_timeout_s: float = 10.0) -> None:
        self.client = client
        self.prefix = prefix
        self.write_timeout_s = write_timeout_s
        self._queue: list[_Pending] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def record(self, **fields: Any) -> bool:
        """Write one record (fields of `audit_document`); True once Elasticsearch holds it."""
        doc = audit_document(**fields)
        pending = _Pending(audit_index(self.prefix, datetime.fromisoformat(doc["at"]).date()), doc)
        with self._wake:
            self._ensure_writer()
            self._queue.append(pending)
            self._wake.notify()
        if not pending.done.wait(self.write_timeout_s):
            log.error("audit write timed out; record follows")
            log.error("audit-record %s", json.dumps(doc, ensure_ascii=False))
            return False
        return pending.ok

    def flush(self, refresh: bool = False) -> int:
        """Records are written before `record` returns; this only makes them searchable now."""
        if refresh:
            self.client.indices.refresh(index=audit_pattern(self.prefix), ignore_unavailable=True)
        return 0

    def _ensure_writer(self) -> None:
        # Called with the lock held. A gunicorn worker is a fork: its writer is its own.
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue:
                    self._wake.wait()
                batch, self._queue = self._queue, []
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        operations: list[dict[str, Any]] = []
        for item in batch:
            operations += [{"index": {"_index": item.index}}, item.doc]
        try:
            result = self.client.bulk(operations=operations)
            outcomes = [next(iter(entry.values())) for entry in result["items"]]
        except Exception:
            log.exception("audit write failed; records follow")
            outcomes = [{"status": 0} for _ in batch]
        for item, outcome in zip(batch, outcomes, strict=True):
            item.ok = int(outcome.get("status", 0)) < 300
            if not item.ok:
                log.error(
                    "audit-record not written (%s) %s",
                    outcome.get("error"),
                    json.dumps(item.doc, ensure_ascii=False),
                )
            item.done.set()
