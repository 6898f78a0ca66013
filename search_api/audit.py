"""The PIPA access log: one record per API access, written to the monthly audit index.

Records are buffered per worker process and bulk-written at most `flush_interval_s` later,
because a synchronous index call per request would halve route throughput; the buffer is
flushed at exit and by `flush()`. A record that cannot be written is logged as an error
(with the record) so the access is never silently lost.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

import orjson
from elasticsearch import Elasticsearch, helpers

from anpr_core.elastic.indices import audit_index

log = logging.getLogger(__name__)


class AuditLog:
    def __init__(self, client: Elasticsearch, prefix: str, flush_interval_s: float = 0.5) -> None:
        self.client = client
        self.prefix = prefix
        self.flush_interval_s = flush_interval_s
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        atexit.register(self.flush)

    def record(
        self,
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
    ) -> None:
        now = datetime.now(UTC)
        doc = {
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
        }
        with self._lock:
            self._buffer.append({"_index": audit_index(self.prefix, now.date()), "_source": doc})
        self._ensure_thread()

    def flush(self, refresh: bool = False) -> int:
        with self._lock:
            batch, self._buffer = self._buffer, []
        if not batch:
            return 0
        try:
            ok, errors = helpers.bulk(self.client, batch, raise_on_error=False, refresh=refresh)
        except Exception:
            log.exception("audit write failed; records follow")
            for item in batch:
                log.error("audit-record %s", json.dumps(item["_source"], ensure_ascii=False))
            return 0
        for error in errors if isinstance(errors, list) else []:
            log.error("audit record rejected: %s", error)
        return int(ok)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="audit-flush", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval_s)
            self.flush()
