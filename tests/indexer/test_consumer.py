"""Journal → real Elasticsearch: every read indexed once, replays add nothing, outages lose nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from anpr_core.elastic.client import make_client
from anpr_core.elastic.indices import alerts_index, reads_alias, watchlist_index
from anpr_core.elastic.mappings import ensure_indices
from anpr_core.journal import JournalReader, ReadJournal
from anpr_core.reads import PlateRead, make_read_id
from anpr_core.settings import Settings, load_settings
from indexer.consumer import ReadIndexer

START = datetime(2026, 10, 31, 23, 59, 0, tzinfo=UTC)


def make_reads(n: int) -> list[PlateRead]:
    reads = []
    for i in range(n):
        seen = START + timedelta(seconds=i)  # crosses midnight at a month end: two monthly indices
        reads.append(
            PlateRead(
                read_id=make_read_id(f"C{i % 45:02d}", seen, str(i)),
                plate=f"{10 + i % 60}가{i:04d}",
                confidence=0.95,
                camera_id=f"C{i % 45:02d}",
                first_seen=seen,
                last_seen=seen,
                best_seen=seen,
                location={"lat": 36.79, "lon": 127.0},
            )
        )
    return reads


@pytest.fixture()
def prefix(es_client: Elasticsearch, test_index_prefix: str, request: pytest.FixtureRequest) -> str:
    name = f"{test_index_prefix}-ix{abs(hash(request.node.name)) % 10_000}"
    ensure_indices(es_client, name)
    return name


def run_until_idle(indexer: ReadIndexer) -> None:
    for _ in range(50):
        if indexer.step() == 0 and indexer.reader.lag_bytes() == 0:
            return


def count(client: Elasticsearch, prefix: str) -> int:
    client.indices.refresh(index=reads_alias(prefix))
    return int(client.count(index=reads_alias(prefix))["count"])


def test_every_read_is_indexed_once_even_when_the_journal_is_replayed(
    es_client: Elasticsearch, prefix: str, tmp_path: Path
) -> None:
    ReadJournal(tmp_path).append_many(make_reads(300))
    indexer = ReadIndexer(es_client, JournalReader(tmp_path), prefix, batch_size=120, max_wait_s=0)
    run_until_idle(indexer)
    assert count(es_client, prefix) == 300
    # The indexer crashed before committing: the whole journal is read again.
    (tmp_path / "indexer.position").unlink()
    run_until_idle(ReadIndexer(es_client, JournalReader(tmp_path), prefix, max_wait_s=0))
    assert count(es_client, prefix) == 300


def test_elasticsearch_down_keeps_the_position_and_nothing_is_lost(
    es_client: Elasticsearch, es_settings: Settings, prefix: str, tmp_path: Path
) -> None:
    ReadJournal(tmp_path).append_many(make_reads(50))
    down = make_client(load_settings(elasticsearch={"url": "http://127.0.0.1:9", "password": "x"}),
                       max_retries=0, request_timeout=1)  # fmt: skip
    failing = ReadIndexer(down, JournalReader(tmp_path), prefix, max_wait_s=0)
    failing._backoff = 0.01
    assert failing.step() == 0  # sent
    assert failing.step() == 0  # failed: nothing committed
    assert failing.stats.failed_attempts == 1
    assert not (tmp_path / "indexer.position").exists()
    run_until_idle(ReadIndexer(es_client, JournalReader(tmp_path), prefix, max_wait_s=0))
    assert count(es_client, prefix) == 50


def test_a_watchlisted_read_raises_one_alert_with_a_sequence(
    es_client: Elasticsearch, prefix: str, tmp_path: Path
) -> None:
    reads = make_reads(5)
    es_client.index(
        index=watchlist_index(prefix), id="w1", refresh=True,
        document={"id": "w1", "plate": reads[3].plate, "reason": "stolen", "priority": "high",
                  "active": True},
    )  # fmt: skip
    journal = ReadJournal(tmp_path)
    journal.append_many(reads)
    indexer = ReadIndexer(es_client, JournalReader(tmp_path), prefix, max_wait_s=0)
    run_until_idle(indexer)
    journal.append(reads[3])  # the same pass replayed: no second alert
    run_until_idle(indexer)
    hits = es_client.search(index=alerts_index(prefix), query={"match_all": {}})["hits"]["hits"]
    assert len(hits) == 1
    alert = hits[0]["_source"]
    assert (alert["plate"], alert["match_kind"], alert["watchlist_id"]) == (reads[3].plate, "exact", "w1")
    assert alert["sequence"] > 0


def test_a_malformed_record_is_quarantined_and_the_rest_indexed(
    es_client: Elasticsearch, prefix: str, tmp_path: Path
) -> None:
    journal = ReadJournal(tmp_path)
    journal.append({"read_id": "bad", "plate": "not a plate"})
    journal.append_many(make_reads(3))
    indexer = ReadIndexer(es_client, JournalReader(tmp_path), prefix, max_wait_s=0)
    run_until_idle(indexer)
    assert count(es_client, prefix) == 3
    assert indexer.stats.quarantined == 1
    assert "not a valid read" in (tmp_path / "quarantine.jsonl").read_text()


def test_a_retried_batch_quarantines_its_malformed_record_once(prefix: str, tmp_path: Path) -> None:
    journal = ReadJournal(tmp_path)
    journal.append({"read_id": "bad", "plate": "not a plate"})
    journal.append_many(make_reads(3))
    down = make_client(load_settings(elasticsearch={"url": "http://127.0.0.1:9", "password": "x"}),
                       max_retries=0, request_timeout=1)  # fmt: skip
    failing = ReadIndexer(down, JournalReader(tmp_path), prefix, max_wait_s=0)
    failing._backoff = 0.01
    for _ in range(4):  # send, fail, send again, fail again
        failing.step()
    assert failing.stats.failed_attempts == 2
    lines = (tmp_path / "quarantine.jsonl").read_text().splitlines()
    assert len(lines) == 1 and "not a valid read" in lines[0]


def test_after_an_outage_the_set_aside_record_is_counted_and_retry_memory_let_go(
    es_client: Elasticsearch, prefix: str, tmp_path: Path
) -> None:
    """The indexer runs for months: what it keeps for a retry (records set aside, alerts said in
    the log) goes once the batch is committed; a record set aside on a failed attempt counts."""
    es_client.index(index=watchlist_index(prefix), id="w-outage", refresh=True, document={
        "id": "w-outage", "plate": "77가0001", "reason": "stolen", "priority": "high"})  # fmt: skip
    journal = ReadJournal(tmp_path)
    journal.append({"read_id": "bad", "plate": "not a plate"})
    reads = make_reads(3)
    reads[2] = reads[2].model_copy(update={"plate": "77가0001"})
    journal.append_many(reads)
    indexer = ReadIndexer(es_client, JournalReader(tmp_path), prefix, max_wait_s=0)
    indexer.refresh_watchlist(force=True)  # the watchlist it keeps matching with while ES is down
    down = make_client(load_settings(elasticsearch={"url": "http://127.0.0.1:9", "password": "x"}),
                       max_retries=0, request_timeout=1)  # fmt: skip
    indexer.client, indexer._backoff = down, 0.01
    for _ in range(2):  # send, fail
        indexer.step()
    assert indexer.stats.failed_attempts == 1
    assert indexer._quarantined_keys and indexer._announced_alerts  # kept for the retry
    indexer.client = es_client
    for _ in range(3):  # send again, commit
        indexer.step()
    assert indexer.stats.indexed == 3 and indexer.stats.alerts == 1
    assert indexer.stats.quarantined == 1
    assert indexer._quarantined_keys == set() and indexer._announced_alerts == set()
