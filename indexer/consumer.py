"""Journal → Elasticsearch: batches, retries, and a position committed only after the ack."""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, helpers
from pydantic import ValidationError

from anpr_core.elastic.indices import watchlist_index
from anpr_core.journal import Batch, JournalReader
from anpr_core.reads import PlateRead
from indexer.alerts import alert_document, write_alerts
from indexer.bulk import BulkBackpressure, IndexAction, bulk_index
from indexer.documents import read_action
from indexer.watchlist_matcher import WatchlistIndex

log = logging.getLogger(__name__)


@dataclass
class ConsumerStats:
    indexed: int = 0
    alerts: int = 0
    quarantined: int = 0
    failed_attempts: int = 0
    last_error: str | None = None


def tune_garbage_collector() -> None:
    """Each batch allocates hundreds of thousands of short-lived objects; with the default
    thresholds the collector runs every 700 allocations and costs a quarter of the indexer's CPU.
    Objects alive after start-up are frozen out of the collector's scans."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


@dataclass
class _InFlight:
    """A batch handed to Elasticsearch whose journal position is not committed yet."""

    batch: Batch
    reads: int
    alerts: list[dict[str, Any]]
    future: Future[None]
    # Keys of the batch's records set aside (now or on an earlier attempt): let go at its commit.
    set_aside: set[bytes]


class ReadIndexer:
    """Consumes the journal in order; while one batch is being indexed the next is prepared.

    The position is committed strictly batch by batch after Elasticsearch acknowledged it, so a
    crash at any point replays at most the unacknowledged batches, and replaying is harmless:
    reads are indexed under their read id and alerts under an id made from read and entry.
    """

    def __init__(
        self,
        client: Elasticsearch,
        reader: JournalReader,
        prefix: str,
        batch_size: int = 5000,
        max_wait_s: float = 0.2,
        watchlist_refresh_s: float = 2.0,
        on_alerts: Callable[[list[dict[str, Any]]], object] | None = None,
    ) -> None:
        self.client, self.reader, self.prefix = client, reader, prefix
        self.batch_size, self.max_wait_s = batch_size, max_wait_s
        self.watchlist_refresh_s = watchlist_refresh_s
        # The alert outbox (indexer/outbox.py): called with a batch's alerts before its reads and
        # alerts are written and before its position is committed; if anything raises, the batch
        # is read again (outbox entries and alerts already written are 409 no-ops).
        self.on_alerts = on_alerts
        self.watchlist = WatchlistIndex([])
        self._watchlist_loaded_at = 0.0
        self.stats = ConsumerStats()
        self._backoff = 0.5
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer-send")
        self._in_flight: _InFlight | None = None
        # A failed batch is read again: remember what was already set aside or announced.
        self._quarantined_keys: set[bytes] = set()
        self._announced_alerts: set[str] = set()
        self._quarantine_lock = threading.Lock()

    def refresh_watchlist(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._watchlist_loaded_at < self.watchlist_refresh_s:
            return
        try:
            hits = helpers.scan(
                self.client, index=watchlist_index(self.prefix), query={"query": {"match_all": {}}}
            )
            entries = [dict(hit["_source"]) for hit in hits]
        except (ApiError, TransportError) as exc:
            # Elasticsearch down: keep matching against the watchlist we have.
            log.warning("watchlist refresh failed: %s", exc)
            return
        self.watchlist = WatchlistIndex(entries, self.watchlist.confusion)
        self._watchlist_loaded_at = time.monotonic()

    def step(self) -> int:
        """Prepare the next batch, settle the one in flight, send the next.

        Returns the number of reads whose position was committed in this step (0 when idle, when
        the first batch has just been sent, or when Elasticsearch failed and the batch is retried).
        """
        self.refresh_watchlist()
        start = self._in_flight.batch.end if self._in_flight else None
        batch = self.reader.read_batch(self.batch_size, self.max_wait_s, start=start)
        with self._quarantine_lock:
            self.stats.quarantined += batch.quarantined  # journal lines the reader set aside
        set_aside: set[bytes] = set()
        reads = self._valid_reads(batch, set_aside)
        alerts = [alert_document(read, match) for read in reads for match in self.watchlist.match(read)]
        actions = [read_action(read, self.prefix) for read in reads]
        committed = self._settle()
        if committed is None:
            return 0  # the batch in flight failed: `batch` was read past it, so drop it too
        if batch.records:
            future = self._pool.submit(self._send, actions, alerts, set_aside)
            self._in_flight = _InFlight(batch, len(reads), alerts, future, set_aside)
        elif batch.quarantined:
            self.reader.commit(batch)
        return committed

    def submit_in_order(self, fn: Callable[[], None]) -> Future[None]:
        """Run `fn` on the send thread after the batches handed to it so far. Other writers of
        alerts (people events, indexer/people_events.py) that take their sequence on this thread
        are then written in sequence order too: the live board's cursor never passes an alert
        that is not written yet."""
        return self._pool.submit(fn)

    def drain(self) -> int:
        """Wait for the batch in flight and commit it (on shutdown)."""
        return self._settle() or 0

    def close(self) -> None:
        self.drain()
        self._pool.shutdown(wait=True)

    def _valid_reads(self, batch: Batch, set_aside: set[bytes]) -> list[PlateRead]:
        reads: list[PlateRead] = []
        for record in batch.records:
            try:
                reads.append(PlateRead.model_validate(record))
            except ValidationError as exc:
                reason = f"not a valid read: {exc.errors()[0]['msg']}"
                batch.quarantined += self._quarantine(orjson.dumps(record), reason, set_aside)
        return reads

    def _quarantine(self, line: bytes, reason: str, set_aside: set[bytes]) -> int:
        """Set a record aside once, although a failed batch is read again; counted when written
        (a retry sets nothing aside again, so counting at the commit missed it)."""
        key = hashlib.blake2b(line, digest_size=16).digest()
        with self._quarantine_lock:
            set_aside.add(key)
            if key in self._quarantined_keys:
                return 0
            self._quarantined_keys.add(key)
            self.reader.quarantine(line, reason)
            self.stats.quarantined += 1
            return 1

    def _settle(self) -> int | None:
        """Wait for the batch in flight; commit it, or on failure back off and return None."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is None:
            return 0
        try:
            in_flight.future.result()
        except (TransportConnectionError, TransportError, ApiError, BulkBackpressure) as exc:
            self.stats.failed_attempts += 1
            self.stats.last_error = str(exc)
            log.warning("Elasticsearch unavailable, will retry in %.1f s: %s", self._backoff, exc)
            self._announce_locally(in_flight.alerts)
            time.sleep(self._backoff)
            self._backoff = min(self._backoff * 2, 30.0)
            return None  # position not committed: the batch is read again
        self._backoff = 0.5
        self.reader.commit(in_flight.batch)
        # Never read again: what a retry of this batch needed is let go (the indexer runs for months).
        with self._quarantine_lock:
            self._quarantined_keys -= in_flight.set_aside
        self._announced_alerts.difference_update(a["alert_id"] for a in in_flight.alerts)
        self.stats.indexed += in_flight.reads
        self.stats.alerts += len(in_flight.alerts)
        return in_flight.reads

    def _send(self, actions: list[IndexAction], alerts: list[dict[str, Any]], set_aside: set[bytes]) -> None:
        # The outbox first: webhooks and MQTT need not wait for the read bulk and the alert's
        # refresh. Everything here precedes the journal commit, so a failure anywhere replays all.
        if alerts and self.on_alerts is not None:
            self.on_alerts(alerts)
        # Per-document rejections (mapping errors) would repeat forever: quarantine them.
        for failure in bulk_index(self.client, actions):
            reason = f"rejected by Elasticsearch ({failure.status}): {failure.error}"
            self._quarantine(orjson.dumps(failure.action.source), reason, set_aside)
        write_alerts(self.client, self.prefix, alerts)

    def _announce_locally(self, alerts: list[dict[str, Any]]) -> None:
        """Watchlist hits are matched even while Elasticsearch is down: say so in the log (an
        operator's terminal, journald, a log shipper) once each; they are stored when it is back."""
        for alert in alerts:
            if alert["alert_id"] in self._announced_alerts:
                continue
            self._announced_alerts.add(alert["alert_id"])
            log.error(
                "watchlist hit while Elasticsearch is down: %s at %s (%s, %s match), read %s",
                alert["plate"], alert["camera_id"], alert["reason"], alert["match_kind"], alert["read_id"],
            )  # fmt: skip
