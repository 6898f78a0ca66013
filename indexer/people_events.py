"""People events (issue 23) → the alerts the plates use: Elasticsearch, the live board, the outbox.

The monitor's journal (`anpr_core.people_events`) is consumed like the plate journal: a batch is
read after the committed position; its alerts go to the outbox (webhooks, MQTT) and are created in
the alerts index under the event id (a replay is a 409 no-op); only then is the position committed
and are the batch's snapshot files, now inside the alert documents, deleted. A kill at any point
replays at most the uncommitted batch and duplicates nothing.

The alert is the plate alert's shape plus `kind`, `zone`, `level`, `count`, `density`, `event_at`,
`since` and the snapshot (`snapshot_jpeg`, the frame with the zone drawn, base64). So the board's
stream, acknowledgement, audit, retention (`retention.alert_days`) and delivery need nothing new;
the snapshot never leaves Elasticsearch except through the audited snapshot endpoint.

The board streams alerts by `sequence`; this module's alerts take theirs on the indexer's main
thread and are written on its send thread (`ReadIndexer.submit_in_order`), in the same order as
the plate alerts, so the stream's cursor never passes an alert that is not yet written.

The monitor's live status (`status.json`: counts, density levels, zone outlines, no images) is
copied into `<prefix>-people-status` each second, for the API and any other host to read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch
from prometheus_client import Counter, Gauge
from pydantic import ValidationError

from anpr_core.elastic.indices import people_status_index
from anpr_core.journal import JournalReader
from anpr_core.people_events import SNAPSHOT_FIELD, STATUS_FILE, PeopleEventRecord, events_dir, snapshots_dir
from indexer.alerts import next_sequence, write_alerts
from indexer.bulk import BulkBackpressure

log = logging.getLogger(__name__)

PEOPLE_EVENTS = Counter("anpr_indexer_people_events_total", "people events written as alerts", ["kind"])
PEOPLE_LAG = Gauge("anpr_indexer_people_journal_lag_bytes", "bytes of people events not yet shipped")

Submit = Callable[[Callable[[], None]], "Future[None]"]


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat()


def people_alert(record: PeopleEventRecord, snapshot: bytes | None) -> dict[str, Any]:
    """The alert document of one people event (with the snapshot, when there is one)."""
    document: dict[str, Any] = {
        "alert_id": record.event_id,
        "sequence": next_sequence(),
        "kind": record.kind,
        "camera_id": record.camera_id,
        "zone": record.zone,
        "priority": record.priority,
        "reason": record.kind,
        "event_at": _iso(record.at),
        "since": _iso(record.since),
        "created_at": datetime.now(UTC).isoformat(),
        "acknowledged": False,
    }
    for key in ("level", "count", "density", "track_id"):
        value = getattr(record, key)
        if value is not None:
            document[key] = value
    if snapshot is not None:
        document[SNAPSHOT_FIELD] = base64.b64encode(snapshot).decode("ascii")
    return document


def without_snapshot(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != SNAPSHOT_FIELD}


def _now_future(fn: Callable[[], None]) -> Future[None]:
    future: Future[None] = Future()
    try:
        fn()
        future.set_result(None)
    except BaseException as exc:  # handed to the caller through the future, as a pool would
        future.set_exception(exc)
    return future


@dataclass
class PeopleStats:
    shipped: int = 0
    quarantined: int = 0
    failed_attempts: int = 0
    last_error: str | None = None


class PeopleEventShipper:
    """One step per indexer loop: ship the next batch of people events, never blocking on an
    Elasticsearch outage (a failed batch is retried after a back-off, the plates go on)."""

    def __init__(
        self,
        client: Elasticsearch,
        people_dir: Path,
        prefix: str,
        *,
        on_alerts: Callable[[list[dict[str, Any]]], object] | None = None,
        submit: Submit | None = None,
        batch_size: int = 100,
        status_every_s: float = 1.0,
    ) -> None:
        self.client, self.prefix, self.people_dir = client, prefix, people_dir
        self.reader = JournalReader(events_dir(people_dir), consumer="indexer")
        self.snapshots = snapshots_dir(people_dir)
        self.on_alerts, self.submit = on_alerts, submit or _now_future
        self.batch_size, self.status_every_s = batch_size, status_every_s
        self.stats = PeopleStats()
        self._retry_at, self._backoff = 0.0, 0.5
        # A failed batch is read again: what it already set aside or announced, until committed.
        self._quarantined: set[bytes] = set()
        self._announced: set[str] = set()
        self._status_at, self._status_mtime = 0.0, 0

    def step(self) -> int:
        """Ship one batch; returns how many events were committed (0: idle, or retrying later)."""
        if time.monotonic() < self._retry_at:
            return 0
        batch = self.reader.read_batch(self.batch_size, max_wait_s=0)
        records: list[PeopleEventRecord] = []
        for raw in batch.records:
            try:
                records.append(PeopleEventRecord.model_validate(raw))
            except ValidationError as exc:
                batch.quarantined += self._quarantine(raw, f"not a people event: {exc.errors()[0]['msg']}")
        # Counted when set aside (journal lines and records alike, each once): a retry sets none again.
        self.stats.quarantined += batch.quarantined
        if not batch.records and not batch.quarantined:
            PEOPLE_LAG.set(0)
            return 0
        documents = [people_alert(r, self._snapshot(r)) for r in records]
        try:
            self.submit(lambda: self._send(documents)).result()
        except (ApiError, TransportError, BulkBackpressure) as exc:
            self.stats.failed_attempts += 1
            self.stats.last_error = str(exc)
            log.warning("people events not stored, retry in %.1f s: %s", self._backoff, exc)
            self._announce_locally(records)
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, 30.0)
            return 0
        self._backoff = 0.5
        self.reader.commit(batch)
        # Nothing before the committed position is read again: what a retry needed is let go.
        self._quarantined.clear()
        self._announced.clear()
        self.stats.shipped += len(records)
        for record in records:
            PEOPLE_EVENTS.labels(record.kind).inc()
            where = {"camera_id": record.camera_id, "zone": record.zone, "kind": record.kind}
            log.info("people event %s stored", record.event_id, extra=where)
            if record.snapshot:
                # In Elasticsearch now; retention deletes it there with the alert.
                (self.snapshots / record.snapshot).unlink(missing_ok=True)
        self.reader.prune()
        PEOPLE_LAG.set(self.reader.lag_bytes())
        return len(records)

    def _announce_locally(self, records: list[PeopleEventRecord]) -> None:
        """While Elasticsearch is down the board cannot show them: say so in the log (an
        operator's terminal, journald) once each, as the plate hits are; stored when it is back."""
        for record in records:
            if record.event_id in self._announced:
                continue
            self._announced.add(record.event_id)
            log.error("people event while Elasticsearch is down: %s at %s zone %s%s, event %s",
                      record.kind, record.camera_id, record.zone,
                      f" ({record.level})" if record.level else "", record.event_id)  # fmt: skip

    def _send(self, documents: list[dict[str, Any]]) -> None:
        # Outbox first (webhooks and MQTT need not wait), all before the journal commit.
        if self.on_alerts is not None and documents:
            self.on_alerts([without_snapshot(d) for d in documents])
        write_alerts(self.client, self.prefix, documents)

    def _snapshot(self, record: PeopleEventRecord) -> bytes | None:
        if not record.snapshot:
            return None
        try:
            return (self.snapshots / record.snapshot).read_bytes()
        except OSError as exc:
            log.warning("people event %s: snapshot not readable: %s", record.event_id, exc)
            return None

    def _quarantine(self, raw: dict[str, Any], reason: str) -> int:
        line = orjson.dumps(raw)
        key = hashlib.blake2b(line, digest_size=16).digest()
        if key in self._quarantined:  # a batch read again after a failure
            return 0
        self._quarantined.add(key)
        self.reader.quarantine(line, reason)
        return 1

    # ---- live status -----------------------------------------------------------------------
    def ship_status(self) -> int:
        """Copy the monitor's status.json into Elasticsearch when it changed (at most once per
        `status_every_s`); returns the cameras written."""
        if time.monotonic() - self._status_at < self.status_every_s:
            return 0
        self._status_at = time.monotonic()
        path = self.people_dir / STATUS_FILE
        try:
            mtime = path.stat().st_mtime_ns
            if mtime == self._status_mtime:
                return 0
            status = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0  # no monitor yet, or caught mid-replace: the next round reads it
        written = 0
        try:
            for camera_id, camera in status.items():
                document = {
                    "camera_id": camera_id,
                    "updated_at": _iso(float(camera.get("at") or time.time())),
                    "count": int(camera.get("count", 0)),
                    "levels": camera.get("levels") or {},
                    "zones": camera.get("zones") or [],
                    "frame": camera.get("frame"),
                }
                self.client.index(index=people_status_index(self.prefix), id=camera_id, document=document)
                written += 1
        except (ApiError, TransportError, AttributeError, TypeError, ValueError) as exc:
            log.warning("people status not written: %s", exc)
            return written
        self._status_mtime = mtime
        return written
