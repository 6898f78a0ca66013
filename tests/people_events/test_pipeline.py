"""People events take the plates' alert path: the monitor's fsync'd journal → the indexer →
Elasticsearch (event id = document id, snapshot with the zone drawn inside), the live board (SSE),
the outbox (webhook + MQTT). A crash between writing and committing loses and duplicates nothing."""

from __future__ import annotations

import base64
import collections
import json
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from elasticsearch import Elasticsearch

from anpr.launcher import Process, anpr_command
from anpr_core.elastic.indices import alerts_index, deliveries_index
from anpr_core.journal import JournalReader, ReadJournal
from anpr_core.people_events import events_dir, snapshots_dir
from anpr_core.settings import Settings
from indexer.outbox import DeliveryOutbox
from indexer.people_events import PeopleEventShipper
from tests.alerts_delivery.conftest import SECRET, Receiver, Subscriber, free_port, indexer_env, wait_for
from tests.alerts_delivery.helpers import clear_subscriptions, subscribe
from tests.people_events.conftest import an_event, write_events


class Crash(Exception):
    """The indexer dies here (after the alerts are written, before the journal commit)."""


def stored(es: Elasticsearch, prefix: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    es.indices.refresh(index=alerts_index(prefix))
    hits = es.search(index=alerts_index(prefix), query={"ids": {"values": ids}}, size=len(ids) + 10)
    return {hit["_id"]: hit["_source"] for hit in hits["hits"]["hits"]}


def deliveries(es: Elasticsearch, prefix: str, ids: list[str]) -> list[dict[str, Any]]:
    es.indices.refresh(index=deliveries_index(prefix))
    hits = es.search(index=deliveries_index(prefix), query={"terms": {"alert_id": ids}}, size=1000)
    return [hit["_source"] for hit in hits["hits"]["hits"]]


class BoardClient:
    """An operator's console: the live alert stream (SSE) from the beginning, every event kept."""

    def __init__(self, server: str, token: str) -> None:
        self.ids: list[str] = []
        self.events: list[dict[str, Any]] = []
        self._response = requests.get(
            f"{server}/api/v1/alerts/stream", params={"since": 0, "max_seconds": 300}, stream=True,
            headers={"Authorization": f"Bearer {token}"}, timeout=30,
        )  # fmt: skip
        assert self._response.status_code == 200
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._response.iter_lines(decode_unicode=True):
                if line and line.startswith("data: "):
                    event = json.loads(line[6:])
                    self.events.append(event)
                    self.ids.append(event["alert_id"])
        except (requests.RequestException, AttributeError):
            return

    def close(self) -> None:
        self._response.close()


def test_crash_after_the_write_before_the_commit_replays_to_nothing_new(
    es_client: Elasticsearch, pe_settings: Settings, tmp_path: Path
) -> None:
    prefix = pe_settings.index_prefix
    people = tmp_path / "people"
    ids = write_events(people, [an_event("intrusion", 1), an_event("loitering", 2), an_event("density")])
    assert sorted(p.stem for p in snapshots_dir(people).iterdir()) == sorted(ids)
    outbox = DeliveryOutbox(es_client, prefix, pe_settings.webhooks, mqtt=None)
    created: list[int] = []

    def enqueue(alerts: list[dict[str, Any]]) -> int:
        assert all("snapshot_jpeg" not in a for a in alerts), "the image never goes to the outbox"
        created.append(outbox.enqueue(alerts))
        return created[-1]

    clear_subscriptions(es_client, prefix)
    subscribe(es_client, prefix, "http://127.0.0.1:9/never", SECRET)

    def crash_after(fn: Any) -> Any:
        fn()
        raise Crash

    first = PeopleEventShipper(es_client, people, prefix, on_alerts=enqueue, submit=crash_after)
    try:
        first.step()
        raise AssertionError("the crash did not happen")
    except Crash:
        pass
    assert created == [3]
    assert JournalReader(events_dir(people)).lag_bytes() > 0  # not committed
    before = stored(es_client, prefix, ids)
    assert set(before) == set(ids)

    again = PeopleEventShipper(es_client, people, prefix, on_alerts=enqueue)  # the restarted indexer
    assert again.step() == 3
    assert created == [3, 0]  # the replay's outbox entries already existed
    after = stored(es_client, prefix, ids)
    # Nothing new: the documents are the first ones (their sequence, i.e. their board position).
    assert {k: v["sequence"] for k, v in after.items()} == {k: v["sequence"] for k, v in before.items()}
    assert len(deliveries(es_client, prefix, ids)) == 3
    assert again.reader.lag_bytes() == 0 and again.step() == 0
    # The snapshots are in Elasticsearch now; the local files are gone.
    assert list(snapshots_dir(people).iterdir()) == []
    for event_id, doc in after.items():
        assert base64.b64decode(doc["snapshot_jpeg"])[:2] == b"\xff\xd8", event_id
        assert doc["camera_id"] == "P01" and doc["kind"] in {"intrusion", "loitering", "density"}
    density = next(d for d in after.values() if d["kind"] == "density")
    assert density["zone"] == "floor" and density["level"] == "주의" and density["priority"] == "medium"
    intrusion = next(d for d in after.values() if d["kind"] == "intrusion")
    assert intrusion["zone"] == "shopfront" and intrusion["priority"] == "high" and "level" not in intrusion


def test_a_bad_record_is_set_aside_and_does_not_block_the_rest(
    es_client: Elasticsearch, pe_settings: Settings, tmp_path: Path
) -> None:
    prefix = pe_settings.index_prefix
    people = tmp_path / "people"
    ReadJournal(events_dir(people)).append({"event_id": "pe-0", "kind": "collapse"})
    ids = write_events(people, [an_event("intrusion", 7)])
    shipper = PeopleEventShipper(es_client, people, prefix)
    assert shipper.step() == 1
    assert shipper.stats.quarantined == 1
    assert "not a people event" in (events_dir(people) / "quarantine.jsonl").read_text()
    assert set(stored(es_client, prefix, ids)) == set(ids)


def test_kill_9_of_the_indexer_while_events_arrive_loses_and_duplicates_nothing(
    es_client: Elasticsearch, pe_settings: Settings, pe_server: str, pe_tokens: dict[str, str],
    pe_broker: Any, tmp_path: Path,
) -> None:  # fmt: skip
    prefix = pe_settings.index_prefix
    clear_subscriptions(es_client, prefix)
    receiver = Receiver(free_port()).start()
    subscribe(es_client, prefix, receiver.url, SECRET)
    subscriber = Subscriber(pe_broker, "anpr/alerts/#")
    board = BoardClient(pe_server, pe_tokens["operator"])
    var = tmp_path / "var"
    people = var / "people"
    ids = write_events(people, [an_event("intrusion", t) for t in range(10)])
    env = indexer_env(pe_settings, var, pe_broker)
    indexer = Process("indexer", anpr_command("indexer", "--metrics-port", "0"), env=env, log_dir=tmp_path)
    indexer.start()
    try:
        # Events keep coming (one every 50 ms) while the indexer is killed mid-way.
        more = [an_event(kind, t) for t in range(10, 40) for kind in ("intrusion",)]
        writer = threading.Thread(target=lambda: ids.extend(write_events_slowly(people, more)))
        indexer.wait_ready(lambda: len(stored(es_client, prefix, ids)) >= 3, 60,
                           "the first events stored")  # fmt: skip
        writer.start()
        wait_for(lambda: len(stored(es_client, prefix, ids)) >= 15, 60, f"15 stored\n{indexer.log_tail()}")
        indexer.kill9()
        writer.join(30)
        ids += write_events(people, [an_event("loitering", 99), an_event("density")])  # while it is down
        assert len(ids) == 42
        indexer.start()
        wait_for(lambda: len(stored(es_client, prefix, ids)) == 42, 60, f"all stored\n{indexer.log_tail()}")
        wait_for(lambda: receiver.alert_ids() >= set(ids), 60, "every event delivered to the webhook")
        wait_for(lambda: {a["alert_id"] for a in subscriber.alerts()} >= set(ids), 60, "every event on MQTT")
        wait_for(lambda: set(board.ids) >= set(ids), 30, "every event on the live board")
        assert indexer.stop() == 0
    finally:
        indexer.stop(grace_s=5)
        board.close()
        subscriber.close()
        receiver.stop()
    docs = stored(es_client, prefix, ids)
    assert len(docs) == 42 and all(d.get("snapshot_jpeg") for d in docs.values())
    # The board shows each once, without the image (personal data, only the audited endpoint).
    seen = collections.Counter(i for i in board.ids if i in set(ids))
    assert set(seen.values()) == {1}
    assert all("snapshot_jpeg" not in e for e in board.events)
    # One outbox entry per event and destination: webhook + MQTT.
    outbox = collections.Counter((d["alert_id"], d["target"]) for d in deliveries(es_client, prefix, ids))
    assert len(outbox) == 84 and set(outbox.values()) == {1}
    assert JournalReader(events_dir(people)).lag_bytes() == 0
    assert list(snapshots_dir(people).iterdir()) == []


def write_events_slowly(people: Path, events: list[Any]) -> list[str]:
    import time

    out: list[str] = []
    for event in events:
        out += write_events(people, [event])
        time.sleep(0.05)
    return out


def test_the_monitor_removes_snapshots_no_event_names_at_start(tmp_path: Path) -> None:
    people = tmp_path / "people"
    (kept,) = write_events(people, [an_event("intrusion", 11)])
    orphan = snapshots_dir(people) / "pe-0123456789abcdef0123.jpg"  # died before its record
    orphan.write_bytes(b"\xff\xd8 not written to the journal")
    ids = write_events(people, [an_event("loitering", 12)])  # a new EventLog: the monitor restarted
    assert sorted(p.stem for p in snapshots_dir(people).iterdir()) == sorted([kept, *ids])


def test_elasticsearch_down_keeps_the_events_and_does_not_block(
    es_client: Elasticsearch, pe_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from elasticsearch import Elasticsearch as Client

    people = tmp_path / "people"
    ids = write_events(people, [an_event("intrusion", 21), an_event("density")])
    down = Client(f"http://127.0.0.1:{free_port()}", request_timeout=1, max_retries=0)
    shipper = PeopleEventShipper(down, people, pe_settings.index_prefix)
    assert shipper.step() == 0 and shipper.stats.failed_attempts == 1
    assert shipper.step() == 0 and shipper.stats.failed_attempts == 1  # backing off: returns at once
    said = [r.getMessage() for r in caplog.records if "while Elasticsearch is down" in r.getMessage()]
    assert len(said) == 2 and any("intrusion at P01 zone shopfront" in m for m in said)  # once each
    assert sorted(p.stem for p in snapshots_dir(people).iterdir()) == sorted(ids)  # nothing lost
    shipper.client, shipper._retry_at = es_client, 0.0  # Elasticsearch is back, the back-off is over
    assert shipper.step() == 2
    assert set(stored(es_client, pe_settings.index_prefix, ids)) == set(ids)
