"""The PIPA access log: one record per API access, written to the monthly audit index.

A record is durable before the response it describes leaves the worker: `record` appends it to
the worker's own local journal file (one `write`, into the kernel's page cache, so a killed
worker — kill -9 — loses nothing), and a shipper thread bulk-writes the file to Elasticsearch
every `ship_interval_s` (0.5 s) and deletes it once every record is acknowledged. Records get
ids from their file and offset and are created, not indexed, so a file sent twice (a crash
between the bulk write and the delete) adds nothing. The file a process writes is held with
`flock`; a file nobody holds belongs to a worker that died, and any process of the API (its
replacement, another worker) sends it on. An Elasticsearch outage only makes the files wait.
Waiting for Elasticsearch in every request instead would cost a bulk round trip and translog
fsync per request (route p50 4.6 → 13 ms, throughput −45 % on the development machine).
A record that cannot even be written locally is logged at ERROR level with the record, and
`record` says so: the app then refuses to hand out the data (503) rather than answer unaudited.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import itertools
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from elasticsearch import Elasticsearch

from anpr_core.elastic.indices import audit_index, audit_pattern
from anpr_core.journal import PRIVATE_FILE, private_directory

log = logging.getLogger(__name__)


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


@dataclass
class _JournalFile:
    path: Path
    fd: int  # open, flock'ed by this process until every record is in Elasticsearch


SHIP_BATCH = 1000  # records per bulk request when a file is sent
ORPHAN_SCAN_S = 10.0  # how often files of dead workers are looked for


class AuditLog:
    def __init__(
        self, client: Elasticsearch, prefix: str, journal_dir: Path, ship_interval_s: float = 0.5
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.journal_dir = journal_dir
        self.ship_interval_s = ship_interval_s
        private_directory(journal_dir)
        self._lock = threading.Lock()  # the current file and its writes
        self._ship_lock = threading.Lock()  # one sender at a time per process
        self._current: _JournalFile | None = None
        self._unsent: list[_JournalFile] = []
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._names = itertools.count()
        atexit.register(self._at_exit)

    def record(self, **fields: Any) -> bool:
        """Write one record (fields of `audit_document`); True once it is durable."""
        doc = audit_document(**fields)
        index = audit_index(self.prefix, datetime.fromisoformat(doc["at"]).date())
        line = orjson.dumps({"_index": index, "doc": doc}) + b"\n"
        try:
            with self._lock:
                current = self._current_file()
                if os.write(current.fd, line) != len(line):
                    raise OSError("short write to the audit journal")
        except OSError:
            log.exception("audit record not written; record follows")
            log.error("audit-record %s", json.dumps(doc, ensure_ascii=False))
            return False
        self._ensure_shipper()
        return True

    def flush(self, refresh: bool = False) -> int:
        """Send every waiting record now (this process's and dead workers'); the count sent."""
        sent = self._ship(orphans=True)
        if refresh:
            self.client.indices.refresh(index=audit_pattern(self.prefix), ignore_unavailable=True)
        return sent

    # ---- the local journal ----------------------------------------------------------------
    def _current_file(self) -> _JournalFile:
        # Called with the lock held. A gunicorn worker is a fork: its files are its own.
        if self._pid != os.getpid():
            self._pid, self._current, self._unsent, self._thread = os.getpid(), None, [], None
        if self._current is None:
            name = f"{os.getpid()}-{time.time_ns()}-{next(self._names)}"
            temporary = self.journal_dir / f"{name}.tmp"
            fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, PRIVATE_FILE)
            fcntl.flock(fd, fcntl.LOCK_EX)
            # Locked before it has its final name: a scan for dead workers' files never sees it
            # unlocked.
            path = temporary.with_suffix(".jsonl")
            os.rename(temporary, path)
            self._current = _JournalFile(path, fd)
        return self._current

    def _ensure_shipper(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="audit-shipper", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        last_scan = 0.0
        while True:
            scan = time.monotonic() - last_scan >= ORPHAN_SCAN_S
            try:
                self._ship(orphans=scan)
            except Exception:  # never let the shipper die; the files wait for the next round
                log.exception("audit shipping failed; retrying")
            if scan:
                last_scan = time.monotonic()
            time.sleep(self.ship_interval_s)

    def _ship(self, orphans: bool) -> int:
        with self._ship_lock:
            with self._lock:
                if self._pid == os.getpid() and self._current is not None:
                    # The next record starts a new file; this one is sent whole.
                    self._unsent.append(self._current)
                    self._current = None
                files, self._unsent = self._unsent, []
            if orphans:
                files += self._orphans()
            sent, waiting = 0, []
            for journal_file in files:
                count = self._send(journal_file)
                if count is None:
                    waiting.append(journal_file)
                else:
                    sent += count
            with self._lock:
                self._unsent = waiting + self._unsent
            return sent

    def _orphans(self) -> list[_JournalFile]:
        """Files whose writer died (nobody holds their lock), locked now by this process."""
        found = []
        # A .tmp file is one being created (locked, then renamed): only an old one is left over.
        stale = time.time() - 60
        leftovers = [p for p in self.journal_dir.glob("*.tmp") if _mtime(p) < stale]
        for path in sorted(self.journal_dir.glob("*.jsonl")) + leftovers:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # a live process writes or sends it
                continue
            found.append(_JournalFile(path, fd))
        return found

    def _send(self, journal_file: _JournalFile) -> int | None:
        """Bulk-create the file's records; delete the file. None if it must wait (ES down)."""
        with open(journal_file.fd, "rb", closefd=False) as handle:
            handle.seek(0)
            data = handle.read()
        operations: list[dict[str, Any]] = []
        offset = 0
        for line in data.splitlines(keepends=True):
            record_id = f"{journal_file.path.stem}-{offset}"
            offset += len(line)
            try:
                item = orjson.loads(line)
                operations += [{"create": {"_index": item["_index"], "_id": record_id}}, item["doc"]]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                log.error(
                    "audit journal %s: unreadable line at %d: %r", journal_file.path, offset, line[:200]
                )
        for start in range(0, len(operations), 2 * SHIP_BATCH):
            chunk = operations[start : start + 2 * SHIP_BATCH]
            try:
                result = self.client.bulk(operations=chunk)
            except Exception as exc:
                log.warning("audit records wait for Elasticsearch: %s", exc)
                return None
            # 409: already there (the file was sent before and not yet deleted).
            failed = [i for i in result["items"] if next(iter(i.values()))["status"] not in (200, 201, 409)]
            if failed:
                log.error("audit records refused, kept in %s: %s", journal_file.path, failed[:3])
                return None
        with contextlib.suppress(FileNotFoundError):  # another process sent it first
            journal_file.path.unlink()
        os.close(journal_file.fd)
        return len(operations) // 2

    def _at_exit(self) -> None:
        try:
            self._ship(orphans=False)
        except Exception:  # at exit the files stay for the next process
            log.exception("audit records left in %s", self.journal_dir)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")
