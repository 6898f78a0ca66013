"""The control centre's MQTT clients get every alert (QoS 1) and every camera's status (retained)
from a real Mosquitto broker, logged in with the broker's username and password."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from elasticsearch import Elasticsearch

from anpr.broker import LocalBroker
from anpr_core.elastic.indices import camera_health_index
from anpr_core.settings import MqttSettings, Settings
from indexer.mqtt import CameraStatusPublisher, MqttPublisher
from indexer.outbox import DeliveryOutbox
from tests.alerts_delivery.conftest import Subscriber, wait_for
from tests.alerts_delivery.helpers import a_read, clear_subscriptions, deliveries_of, index_reads, watch


def mqtt_settings(broker: LocalBroker, **extra: object) -> MqttSettings:
    return MqttSettings.model_validate(
        {"host": "127.0.0.1", "port": broker.port, "username": broker.username, "password": broker.password,
         "client_id": "anpr-indexer-test", **extra}
    )  # fmt: skip


@pytest.fixture()
def publisher(broker: LocalBroker) -> Iterator[MqttPublisher]:
    pub = MqttPublisher(mqtt_settings(broker))
    pub.start()
    wait_for(lambda: pub.connected, 10, "publisher connected")
    yield pub
    pub.stop()


def test_an_alert_reaches_a_subscriber_at_qos_1(
    broker: LocalBroker,
    publisher: MqttPublisher,
    es_client: Elasticsearch,
    dl_settings: Settings,
    tmp_path: Path,
) -> None:
    prefix = dl_settings.index_prefix
    clear_subscriptions(es_client, prefix)
    watch(es_client, prefix, "77바7777")
    subscriber = Subscriber(broker, "anpr/alerts/#")
    outbox = DeliveryOutbox(es_client, prefix, dl_settings.webhooks, publisher).start()
    try:
        assert index_reads(es_client, prefix, tmp_path, [a_read("77바7777", "cam-02")], outbox) == 1
        wait_for(subscriber.alerts, 5, "alert on MQTT")
        _, topic, payload, retained = subscriber.messages[0]
        alert = orjson.loads(payload)
        assert topic == "anpr/alerts/high/cam-02" and not retained
        assert alert["plate"] == "77바7777" and alert["alert_id"]

        def delivered() -> list[dict]:
            return [
                d for d in deliveries_of(es_client, prefix, alert["alert_id"]) if d["state"] == "delivered"
            ]

        states = wait_for(delivered, 5, "delivered after PUBACK")
        assert states[0]["target"] == "mqtt"
    finally:
        outbox.stop()
        subscriber.close()


def test_wrong_password_is_refused_and_nothing_counts_as_delivered(broker: LocalBroker) -> None:
    pub = MqttPublisher(mqtt_settings(broker, password="not-the-password", client_id="intruder"))
    pub.start()
    try:
        outcome = pub.publish_alert({"alert_id": "x", "priority": "high", "camera_id": "cam-01"}, timeout_s=2)
        assert not outcome.ok and "not connected" in (outcome.error or "")
    finally:
        pub.stop()


def test_camera_status_is_retained_for_subscribers_that_come_later(
    broker: LocalBroker, publisher: MqttPublisher, es_client: Elasticsearch, dl_settings: Settings
) -> None:
    prefix = dl_settings.index_prefix
    now = datetime.now(UTC).isoformat()
    for camera, state in (("cam-01", "up"), ("cam-02", "down")):
        health = {"camera_id": camera, "state": state, "fps": 8.0, "last_frame_at": now}
        es_client.index(index=camera_health_index(prefix), id=camera, document=health, refresh="wait_for")
    status = CameraStatusPublisher(publisher, es_client, prefix, every_s=0.01)
    assert status.maybe_publish() == 2
    assert (
        wait_for(lambda: status.maybe_publish() == 0 or None, 2, "unchanged status is not republished")
        is True
    )
    # The status messages are sent without waiting for their PUBACK (the ingest loop must not
    # wait); a later QoS 1 message that is waited for is acknowledged only after them, so the
    # broker holds both as retained before the late subscriber connects.
    publisher.publish(publisher.topic("indexer", "status"), b"online", retain=True, timeout_s=5)
    late = Subscriber(broker, "anpr/cameras/+/status")  # connects after the publication
    try:
        got = wait_for(lambda: len(late.messages) >= 2 and late.messages, 5, "retained status")
        by_topic = {topic: (orjson.loads(payload), retained) for _, topic, payload, retained in got}
        assert by_topic["anpr/cameras/cam-02/status"][0]["state"] == "down"
        assert all(retained for _, retained in by_topic.values())
    finally:
        late.close()
