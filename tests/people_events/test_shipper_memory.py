"""The indexer runs for months: what the people-event shipper remembers across a retry (events
already announced in the log, bad records already set aside) is let go once the batch is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from anpr_core.journal import ReadJournal
from anpr_core.people_events import events_dir
from anpr_core.settings import Settings
from indexer.people_events import PeopleEventShipper
from tests.alerts_delivery.conftest import free_port
from tests.people_events.conftest import an_event, write_events


def test_retry_memory_is_released_once_the_batch_is_stored(
    es_client: Elasticsearch, pe_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    people = tmp_path / "people"
    ReadJournal(events_dir(people)).append({"event_id": "pe-1", "kind": "collapse"})
    write_events(people, [an_event("intrusion", 31), an_event("loitering", 32)])
    down = Elasticsearch(f"http://127.0.0.1:{free_port()}", request_timeout=1, max_retries=0)
    shipper = PeopleEventShipper(down, people, pe_settings.index_prefix)
    assert shipper.step() == 0 and shipper.stats.failed_attempts == 1
    assert len(shipper._announced) == 2 and len(shipper._quarantined) == 1  # kept for the retry
    shipper.client, shipper._retry_at = es_client, 0.0
    assert shipper.step() == 2 and shipper.stats.quarantined == 1
    assert shipper._announced == set() and shipper._quarantined == set()
    # A later outage announces its own events, once each, as before.
    write_events(people, [an_event("intrusion", 33)])
    shipper.client, shipper._retry_at = down, 0.0
    caplog.clear()
    assert shipper.step() == 0 and shipper.step() == 0
    said = [r for r in caplog.records if "while Elasticsearch is down" in r.getMessage()]
    assert len(said) == 1
