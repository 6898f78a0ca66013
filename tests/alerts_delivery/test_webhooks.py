"""A wanted car is read; the 112 centre's system gets the alert as a signed POST, whatever its
endpoint does meanwhile (down, slow, 500), and an administrator sees what could not be delivered."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from flask import Flask
from prometheus_client import REGISTRY

from anpr_core.reads import PlateRead
from anpr_core.settings import Settings
from indexer.alerts import alert_id
from indexer.outbox import DeliveryOutbox
from indexer.webhooks import verify
from tests.alerts_delivery.conftest import SECRET, Receiver, bearer, free_port, wait_for
from tests.alerts_delivery.helpers import (
    a_read,
    clear_subscriptions,
    deliveries_of,
    delivery,
    index_reads,
    subscribe,
    watch,
)


@pytest.fixture()
def outbox(dl_settings: Settings, es_client: Elasticsearch, dl_app: Flask) -> Iterator[DeliveryOutbox]:
    clear_subscriptions(es_client, dl_settings.index_prefix)
    box = DeliveryOutbox(es_client, dl_settings.index_prefix, dl_settings.webhooks).start()
    yield box
    box.stop()


@dataclass
class Desk:
    """The centre's side of one test: the watchlist, a subscription to `receiver`, reads through the
    real journal and indexer into the running outbox."""

    es: Elasticsearch
    prefix: str
    outbox: DeliveryOutbox
    receiver: Receiver
    journal: Path

    def watch(self, plate: str, priority: str = "high") -> dict[str, Any]:
        return watch(self.es, self.prefix, plate, priority)

    def subscribe(self, url: str | None = None, **filters: Any) -> str:
        return subscribe(self.es, self.prefix, url or self.receiver.url, SECRET, **filters)

    def send(self, *reads: PlateRead) -> int:
        """Reads journalled and indexed; returns the alerts raised."""
        return index_reads(self.es, self.prefix, self.journal, list(reads), self.outbox)

    def delivery(self, delivery_id: str) -> dict[str, Any]:
        return delivery(self.es, self.prefix, delivery_id)


@pytest.fixture()
def desk(
    es_client: Elasticsearch,
    dl_settings: Settings,
    outbox: DeliveryOutbox,
    receiver: Receiver,
    tmp_path: Path,
) -> Desk:
    return Desk(es_client, dl_settings.index_prefix, outbox, receiver, tmp_path)


def test_an_alert_is_posted_signed_with_its_id_as_idempotency_key(desk: Desk) -> None:
    receiver = desk.receiver
    desk.watch("12가3456")
    sub = desk.subscribe()
    delivered = {"target": "webhook", "outcome": "delivered"}
    before = REGISTRY.get_sample_value("anpr_alert_deliveries_total", delivered) or 0
    assert desk.send(a_read("12가3456")) == 1
    wait_for(lambda: receiver.answered_ok, 5, "webhook received")
    got = receiver.answered_ok[0]
    assert verify(SECRET, got.headers, got.body)
    assert not verify("another-secret-of-16", got.headers, got.body)
    body = json.loads(got.body)
    assert body["event"] == "alert" and body["alert"]["plate"] == "12가3456"
    # Stored in the outbox → received: a new alert is handed over in memory, no polling.
    assert got.wall - datetime.fromisoformat(body["queued_at"]).timestamp() < 1.0
    assert got.headers["Idempotency-Key"] == body["alert"]["alert_id"]
    assert got.headers["X-ANPR-Delivery"] == f"{body['alert']['alert_id']}.wh-{sub}"
    done = wait_for(lambda: desk.delivery(got.headers["X-ANPR-Delivery"])["state"] == "delivered", 5, "state")
    assert done
    # The indexer's /metrics: deliveries by outcome, and alert → delivered latency.
    assert REGISTRY.get_sample_value("anpr_alert_deliveries_total", delivered) == before + 1
    assert (REGISTRY.get_sample_value("anpr_alert_delivery_seconds_count", {"target": "webhook"}) or 0) >= 1


def test_filters_by_priority_and_camera(desk: Desk) -> None:
    receiver = desk.receiver
    desk.watch("33나1111", priority="low")
    desk.watch("33나2222", priority="high")
    desk.subscribe(priorities=["high"], cameras=["cam-02"])
    assert (
        desk.send(a_read("33나1111", "cam-02"), a_read("33나2222", "cam-01"), a_read("33나2222", "cam-02"))
        == 3
    )
    wait_for(lambda: receiver.answered_ok, 5, "the matching alert")
    time.sleep(1.0)  # nothing else comes
    alerts = [json.loads(r.body)["alert"] for r in receiver.received]
    assert [(a["plate"], a["camera_id"]) for a in alerts] == [("33나2222", "cam-02")]


def test_a_receiver_answering_500_gets_the_alert_again_until_it_takes_it(desk: Desk) -> None:
    receiver = desk.receiver
    desk.watch("44다4444")
    desk.subscribe()
    receiver.fail_times = 2
    desk.send(a_read("44다4444"))
    wait_for(lambda: receiver.answered_ok, 10, "delivered after two 500s")
    assert len(receiver.received) == 3
    assert [r.headers["X-ANPR-Attempt"] for r in receiver.received] == ["1", "2", "3"]
    assert len({r.headers["Idempotency-Key"] for r in receiver.received}) == 1
    # Back-off: at least 0.2 s before the first retry, 0.4 s before the second (±10 % jitter).
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    assert gaps[0] >= 0.18 and gaps[1] >= 0.36
    state = wait_for(
        lambda: (d := desk.delivery(receiver.received[0].headers["X-ANPR-Delivery"]))["state"]
        == "delivered" and d, 5, "delivered state",
    )  # fmt: skip
    assert state["attempts"] == 3 and state["last_status"] == 200


def test_a_slow_receiver_times_out_and_is_retried(desk: Desk) -> None:
    receiver = desk.receiver
    desk.watch("55라5555")
    desk.subscribe()
    receiver.mode, receiver.delay_s = "slow", 1.5  # webhooks.timeout_s is 1 s here
    desk.send(a_read("55라5555"))
    wait_for(lambda: len(receiver.received) >= 1, 5, "first attempt")
    receiver.mode = "ok"
    wait_for(lambda: receiver.answered_ok and receiver.answered_ok[-1].headers["X-ANPR-Attempt"] != "1", 10,
             "a retry after the timeout")  # fmt: skip
    delivery_id = receiver.received[0].headers["X-ANPR-Delivery"]
    state = wait_for(lambda: (d := desk.delivery(delivery_id))["state"] == "delivered" and d, 5, "delivered")
    assert state["attempts"] >= 2


def test_receiver_down_dead_letters_visible_in_the_api_and_redelivered(
    desk: Desk, dl_app: Flask, dl_tokens: dict[str, str]
) -> None:
    entry = desk.watch("66마6666")
    down = Receiver(free_port())  # nothing listens on its port yet
    desk.subscribe(down.url)
    read = a_read("66마6666")
    desk.send(read)
    # Its own dead letter: earlier tests' dead letters (their subscriptions gone) are listed too.
    mine = alert_id(read.read_id, str(entry["id"]))
    admin = bearer(dl_tokens, "admin")
    with dl_app.test_client() as client:

        def dead() -> list[dict]:
            body = client.get("/api/v1/deliveries", query_string={"state": "dead"}, headers=admin).get_json()
            return [
                d
                for d in body["deliveries"]
                if d["alert_id"] == mine and "Connection" in (d["last_error"] or "")
            ]

        letters = wait_for(dead, 15, "dead letter after webhooks.max_attempts (4)")
        letter = letters[0]
        assert (
            REGISTRY.get_sample_value("anpr_alert_deliveries_dead_total", {"target": "webhook"}) or 0
        ) >= 1
        assert letter["attempts"] == 4 and "payload" not in letter
        assert client.get("/api/v1/deliveries", headers=bearer(dl_tokens, "operator")).status_code == 403
        down.start()  # the centre's endpoint is back; the administrator sends the alert again
        try:
            retry = client.post(f"/api/v1/deliveries/{letter['delivery_id']}/retry", headers=admin)
            assert retry.status_code == 200
            wait_for(lambda: down.answered_ok, 5, "redelivered")
            assert down.alert_ids() == {letter["alert_id"]}
            assert deliveries_of(desk.es, desk.prefix, letter["alert_id"])[0]["state"] in (
                "delivered",
                "pending",
            )
        finally:
            down.stop()


def test_admin_manages_subscriptions_and_secrets_are_write_only(
    dl_app: Flask, dl_tokens: dict[str, str], es_client: Elasticsearch, dl_settings: Settings
) -> None:
    clear_subscriptions(es_client, dl_settings.index_prefix)
    admin = bearer(dl_tokens, "admin")
    with dl_app.test_client() as client:
        body = {"url": "https://112.example.kr/anpr", "secret": SECRET, "priorities": ["high"],
                "cameras": ["cam-01"], "description": "충남경찰청 112"}  # fmt: skip
        created = client.post("/api/v1/webhooks", json=body, headers=admin)
        assert created.status_code == 201, created.get_json()
        hook = created.get_json()
        assert "secret" not in hook and hook["secret_set"] is True
        assert (
            client.post("/api/v1/webhooks", json={**body, "secret": "short"}, headers=admin).status_code
            == 400
        )
        assert (
            client.post("/api/v1/webhooks", json={**body, "url": "ftp://x.y/z"}, headers=admin).status_code
            == 400
        )
        assert (
            client.post("/api/v1/webhooks", json=body, headers=bearer(dl_tokens, "operator")).status_code
            == 403
        )
        patched = client.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False}, headers=admin)
        assert patched.status_code == 200 and patched.get_json()["active"] is False
        listed = client.get("/api/v1/webhooks", headers=admin).get_json()["webhooks"]
        assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
        assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=admin).status_code == 204
        assert client.get("/api/v1/webhooks", headers=admin).get_json()["webhooks"] == []


def test_a_subscription_lists_at_most_the_three_priorities(
    dl_app: Flask, dl_tokens: dict[str, str], es_client: Elasticsearch, dl_settings: Settings
) -> None:
    """Every alert is checked against every subscription's filters: a list of a million "high"
    (a 6 MB body) would cost each alert that much; three priorities is the most there is."""
    clear_subscriptions(es_client, dl_settings.index_prefix)
    admin = bearer(dl_tokens, "admin")
    body = {"url": "https://112.example.kr/anpr", "secret": SECRET, "priorities": ["high"] * 4}
    with dl_app.test_client() as client:
        created = client.post("/api/v1/webhooks", json=body, headers=admin)
        assert created.status_code == 400
        assert [f["field"] for f in created.get_json()["fields"]] == ["priorities"]
        ok = client.post(
            "/api/v1/webhooks", json={**body, "priorities": ["low", "medium", "high"]}, headers=admin
        )
        assert ok.status_code == 201
        hook = ok.get_json()["id"]
        patched = client.patch(f"/api/v1/webhooks/{hook}", json={"priorities": ["low"] * 4}, headers=admin)
        assert patched.status_code == 400 and patched.get_json()["fields"][0]["field"] == "priorities"
        assert client.delete(f"/api/v1/webhooks/{hook}", headers=admin).status_code == 204
