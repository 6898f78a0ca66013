"""Issue 21, done when: the indexer is killed (-9) after it raised an alert and before anything
could deliver it (the 112 endpoint and the broker are both down); after the restart the webhook
and the MQTT message still arrive, once per alert id after the receiver's de-duplication."""

from __future__ import annotations

from pathlib import Path

from elasticsearch import Elasticsearch

from anpr.broker import start_broker
from anpr.launcher import Process, anpr_command
from anpr_core.journal import ReadJournal
from anpr_core.settings import Settings
from indexer.alerts import alert_id
from tests.alerts_delivery.conftest import SECRET, Receiver, Subscriber, free_port, indexer_env, wait_for
from tests.alerts_delivery.helpers import a_read, clear_subscriptions, deliveries_of, subscribe, watch


def test_kill_9_between_alert_and_delivery_still_delivers_once_per_alert(
    es_client: Elasticsearch, dl_settings: Settings, tmp_path: Path
) -> None:
    prefix = dl_settings.index_prefix
    clear_subscriptions(es_client, prefix)
    entry = watch(es_client, prefix, "88사8888")
    receiver = Receiver(free_port())  # the 112 centre's endpoint: down for now
    subscribe(es_client, prefix, receiver.url, SECRET)
    broker_root, broker_port = tmp_path / "mosquitto", free_port()
    broker = start_broker(dl_settings, port=broker_port, root=broker_root)
    broker.stop()  # the broker is down too; its generated password stays for the restart
    var = tmp_path / "var"
    read = a_read("88사8888", "cam-01")
    ReadJournal(var / "journal").append(read)
    expected = alert_id(read.read_id, entry["id"])

    env = indexer_env(dl_settings, var, broker)
    indexer = Process("indexer", anpr_command("indexer", "--metrics-port", "0"), env=env, log_dir=tmp_path)
    indexer.start()
    subscriber = None
    try:
        # The alert is raised and in the outbox, and each destination has failed at least once.
        def tried_both() -> bool:
            tried = {d["target"] for d in deliveries_of(es_client, prefix, expected) if d["attempts"] >= 1}
            return tried == {"webhook", "mqtt"}

        indexer.wait_ready(tried_both, timeout_s=60, what="alert raised and delivery attempted")
        assert all(d["state"] == "pending" for d in deliveries_of(es_client, prefix, expected))
        indexer.kill9()

        receiver.start()
        broker = start_broker(dl_settings, port=broker_port, root=broker_root)
        subscriber = Subscriber(broker, "anpr/alerts/#")
        indexer.start()
        wait_for(lambda: receiver.answered_ok, 30, f"webhook after the restart\n{indexer.log_tail()}")
        wait_for(subscriber.alerts, 30, f"MQTT alert after the restart\n{indexer.log_tail()}")
        wait_for(
            lambda: all(d["state"] == "delivered" for d in deliveries_of(es_client, prefix, expected)), 10,
            "both deliveries marked delivered",
        )  # fmt: skip
        assert receiver.alert_ids() == {expected}
        assert {alert["alert_id"] for alert in subscriber.alerts()} == {expected}
        assert indexer.stop() == 0
    finally:
        indexer.stop(grace_s=5)
        if subscriber is not None:
            subscriber.close()
        receiver.stop()
        broker.stop()
