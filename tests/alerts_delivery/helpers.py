"""Reads through the real journal and indexer, so alerts are raised the way production raises them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from anpr_core.elastic.indices import deliveries_index, webhooks_index
from anpr_core.journal import JournalReader, ReadJournal
from anpr_core.reads import PlateRead, make_read_id
from indexer.consumer import ReadIndexer
from indexer.outbox import DeliveryOutbox
from search_api.watchlist_store import WatchlistBody, WatchlistStore

_serial = itertools.count(1)


def a_read(plate: str, camera: str = "cam-01", **extra: Any) -> PlateRead:
    seen = datetime.now(UTC) - timedelta(seconds=1)
    return PlateRead(
        read_id=make_read_id(camera, seen, f"t{next(_serial)}"), plate=plate, confidence=0.97,
        camera_id=camera, first_seen=seen, last_seen=seen, best_seen=seen,
        location={"lat": 36.78, "lon": 127.0}, **extra,
    )  # fmt: skip


def watch(es: Elasticsearch, prefix: str, plate: str, priority: str = "high") -> dict[str, Any]:
    body = WatchlistBody.model_validate({"plate": plate, "reason": "stolen", "priority": priority,
                                         "case_number": "2026-아산-0042"})  # fmt: skip
    entry = WatchlistStore(es, prefix).create(body, "admin")
    es.indices.refresh(index=f"{prefix}-watchlist")
    return entry


def subscribe(es: Elasticsearch, prefix: str, url: str, secret: str, **filters: Any) -> str:
    sub_id = f"{next(_serial):032x}"
    doc = {"id": sub_id, "url": url, "secret": secret, "active": True, "priorities": [], "cameras": [],
           "created_at": datetime.now(UTC).isoformat(), **filters}  # fmt: skip
    es.index(index=webhooks_index(prefix), id=sub_id, document=doc, refresh="wait_for")
    return sub_id


def clear_subscriptions(es: Elasticsearch, prefix: str) -> None:
    # No _delete_by_query on the local integ-test node (it lacks the reindex module).
    for hit in es.search(index=webhooks_index(prefix), size=1000, source=False)["hits"]["hits"]:
        es.delete(index=webhooks_index(prefix), id=hit["_id"], refresh="wait_for")


def index_reads(
    es: Elasticsearch, prefix: str, journal: Path, reads: list[PlateRead], outbox: DeliveryOutbox
) -> int:
    """Journal → indexer → alerts → outbox, as `anpr indexer` does it; returns alerts raised."""
    ReadJournal(journal).append_many(reads)
    indexer = ReadIndexer(es, JournalReader(journal), prefix, max_wait_s=0, watchlist_refresh_s=0,
                          on_alerts=outbox.enqueue)  # fmt: skip
    indexer.refresh_watchlist(force=True)
    for _ in range(20):
        if indexer.step() == 0 and indexer.reader.lag_bytes() == 0:
            break
    indexer.close()
    return indexer.stats.alerts


def delivery(es: Elasticsearch, prefix: str, delivery_id: str) -> dict[str, Any]:
    return dict(es.get(index=deliveries_index(prefix), id=delivery_id)["_source"])


def deliveries_of(es: Elasticsearch, prefix: str, alert_id: str) -> list[dict[str, Any]]:
    es.indices.refresh(index=deliveries_index(prefix))
    hits = es.search(index=deliveries_index(prefix), query={"term": {"alert_id": alert_id}}, size=50)
    return [hit["_source"] for hit in hits["hits"]["hits"]]
