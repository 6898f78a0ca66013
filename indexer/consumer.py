"""Journal → Elasticsearch: batches, retries, and a position committed only after the ack."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, helpers
from pydantic import ValidationError

from anpr_core.elastic.indices import watchlist_index
from anpr_core.journal import JournalReader
from anpr_core.reads import PlateRead
from indexer.alerts import alert_document, write_alerts
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


class ReadIndexer:
    def __init__(
        self,
        client: Elasticsearch,
        reader: JournalReader,
        prefix: str,
        batch_size: int = 5000,
        max_wait_s: float = 0.2,
        watchlist_refresh_s: float = 2.0,
    ) -> None:
        self.client, self.reader, self.prefix = client, reader, prefix
        self.batch_size, self.max_wait_s = batch_size, max_wait_s
        self.watchlist_refresh_s = watchlist_refresh_s
        self.watchlist = WatchlistIndex([])
        self._watchlist_loaded_at = 0.0
        self.stats = ConsumerStats()
        self._backoff = 0.5

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
        """Handle one batch; returns the number of reads indexed (0 when idle or retrying)."""
        self.refresh_watchlist()
        batch = self.reader.read_batch(self.batch_size, self.max_wait_s)
        if not batch.records:
            if batch.quarantined:
                self.reader.commit(batch)
                self.stats.quarantined += batch.quarantined
            return 0
        reads: list[PlateRead] = []
        for record in batch.records:
            try:
                reads.append(PlateRead.model_validate(record))
            except ValidationError as exc:
                self.reader.quarantine(str(record).encode(), f"not a valid read: {exc.errors()[0]['msg']}")
                self.stats.quarantined += 1
        alerts = [alert_document(read, match) for read in reads for match in self.watchlist.match(read)]
        try:
            self._bulk([read_action(read, self.prefix) for read in reads])
            write_alerts(self.client, self.prefix, alerts)
        except (TransportConnectionError, TransportError, ApiError) as exc:
            self.stats.failed_attempts += 1
            self.stats.last_error = str(exc)
            log.warning("Elasticsearch unavailable, will retry in %.1f s: %s", self._backoff, exc)
            if alerts:
                log.warning("matched while Elasticsearch is down: %s", [a["plate"] for a in alerts])
            time.sleep(self._backoff)
            self._backoff = min(self._backoff * 2, 30.0)
            return 0  # position not committed: the batch is read again
        self._backoff = 0.5
        self.reader.commit(batch)
        self.stats.indexed += len(reads)
        self.stats.alerts += len(alerts)
        self.stats.quarantined += batch.quarantined
        return len(reads)

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        failures = []
        for ok, item in helpers.streaming_bulk(
            self.client, actions, chunk_size=2000, max_retries=5, initial_backoff=0.5,
            raise_on_error=False, raise_on_exception=True,
        ):  # fmt: skip
            if not ok:
                failures.append(item)
        if failures:
            # Per-document rejections (mapping errors) would repeat forever: quarantine them.
            for item in failures:
                self.reader.quarantine(str(item).encode(), "rejected by Elasticsearch")
                self.stats.quarantined += 1
