"""People events follow the alerts' retention: `retention.alert_days` deletes them, their snapshot
(inside the alert) and their outbox entries with the plate alerts; younger ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from anpr_core.elastic.indices import alerts_index, deliveries_index
from anpr_core.elastic.mappings import ensure_indices
from anpr_core.settings import Settings
from indexer.outbox import DeliveryOutbox
from indexer.people_events import PeopleEventShipper
from indexer.retention import Cutoffs, RetentionReport, expire_alerts
from tests.alerts_delivery.conftest import SECRET
from tests.alerts_delivery.helpers import subscribe
from tests.people_events.conftest import an_event, write_events


def test_expired_people_events_go_with_their_snapshot_and_deliveries(
    es_client: Elasticsearch, pe_settings: Settings, test_index_prefix: str, tmp_path: Path
) -> None:
    prefix = f"{test_index_prefix}-pr"  # its own indices: this deletes every alert before the cut-off
    ensure_indices(es_client, prefix)
    subscribe(es_client, prefix, "http://127.0.0.1:9/never", SECRET)
    people = tmp_path / "people"
    old = write_events(people, [an_event("intrusion", 1), an_event("density")])
    outbox = DeliveryOutbox(es_client, prefix, pe_settings.webhooks)
    assert PeopleEventShipper(es_client, people, prefix, on_alerts=outbox.enqueue).step() == 2
    cutoff = datetime.now(UTC) + timedelta(milliseconds=1)  # those two are "older than alert_days"
    es_client.indices.refresh(index=alerts_index(prefix))
    young = write_events(people, [an_event("loitering", 2)])
    while datetime.now(UTC) <= cutoff:  # the young one is stored (created_at) after the cut-off
        pass
    assert PeopleEventShipper(es_client, people, prefix, on_alerts=outbox.enqueue).step() == 1
    es_client.indices.refresh(index=f"{prefix}-*")
    report = RetentionReport(datetime.now(UTC), Cutoffs(cutoff, cutoff, cutoff))
    expire_alerts(es_client, prefix, cutoff, report)
    es_client.indices.refresh(index=f"{prefix}-*")
    assert report.alerts == 2 and report.deliveries == 2
    left = {hit["_id"] for hit in es_client.search(index=alerts_index(prefix), size=10)["hits"]["hits"]}
    assert left == set(young) and not left & set(old)
    remaining = es_client.search(index=deliveries_index(prefix), size=10)["hits"]["hits"]
    assert {hit["_source"]["alert_id"] for hit in remaining} == set(young)
