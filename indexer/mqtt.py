"""Alerts (QoS 1) and camera status (retained) to the control centre's MQTT broker.

Topics, under ``mqtt.topic_prefix`` (default ``anpr``; docs/api.md, "MQTT"):

- ``anpr/alerts/<priority>/<camera_id>``: one message per alert, QoS 1, not retained; the payload
  is the alert JSON (``alert_id`` is the idempotency key: after a restart an alert may come twice);
- ``anpr/cameras/<camera_id>/status``: the camera's health (state, fps, last frame), QoS 1,
  retained, republished when it changes, so a new subscriber sees every camera at once;
- ``anpr/indexer/status``: ``online`` (retained) while the indexer is connected, ``offline`` as
  its last will when it goes away.

An alert counts as delivered only when the broker acknowledged it (PUBACK); until then its outbox
entry stays pending and is retried (indexer/outbox.py), across restarts of the indexer.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from anpr_core.elastic.indices import camera_health_index
from anpr_core.settings import MqttSettings
from indexer.webhooks import Outcome

log = logging.getLogger(__name__)
_TOPIC_UNSAFE = str.maketrans({"/": "_", "+": "_", "#": "_", " ": "_"})


def topic_part(value: Any) -> str:
    return str(value or "none").translate(_TOPIC_UNSAFE) or "none"


class MqttPublisher:
    """One paho client with its network loop in a background thread; reconnects by itself."""

    def __init__(self, settings: MqttSettings, client_id: str | None = None) -> None:
        assert settings.host, "mqtt.host is not set"
        self.settings = settings
        self.prefix = settings.topic_prefix.rstrip("/")
        self._connected = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or settings.client_id, clean_session=True
        )
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else None
            self.client.username_pw_set(settings.username, password)
        if settings.tls:
            self.client.tls_set(
                ca_certs=str(settings.ca_file) if settings.ca_file else None,
                certfile=str(settings.cert_file) if settings.cert_file else None,
                keyfile=str(settings.key_file) if settings.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        self.client.will_set(self.topic("indexer", "status"), b"offline", qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def topic(self, *parts: str) -> str:
        return "/".join([self.prefix, *parts])

    def start(self) -> None:
        self.client.connect_async(self.settings.host or "", self.settings.port, self.settings.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        if self._connected.is_set():
            self.client.publish(
                self.topic("indexer", "status"), b"offline", qos=1, retain=True
            ).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt broker refused the connection: %s", reason)
            return
        self._connected.set()
        log.info("mqtt connected to %s:%d", self.settings.host, self.settings.port)
        client.publish(self.topic("indexer", "status"), b"online", qos=1, retain=True)

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if self._connected.is_set():
            log.warning("mqtt disconnected: %s", reason)
        self._connected.clear()

    def publish(self, topic: str, payload: bytes, *, retain: bool, timeout_s: float) -> Outcome:
        """Publish at QoS 1 and wait for the broker's PUBACK."""
        if not self._connected.wait(min(timeout_s, 2.0)):
            return Outcome(False, None, f"not connected to {self.settings.host}:{self.settings.port}")
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return Outcome(False, None, f"publish failed: {mqtt.error_string(info.rc)}")
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError) as exc:
            return Outcome(False, None, f"publish failed: {exc}")
        if not info.is_published():
            return Outcome(False, None, f"no PUBACK within {timeout_s:.0f} s")
        return Outcome(True)

    def publish_alert(self, alert: dict[str, Any], timeout_s: float) -> Outcome:
        topic = self.topic("alerts", topic_part(alert.get("priority")), topic_part(alert.get("camera_id")))
        return self.publish(topic, orjson.dumps(alert), retain=False, timeout_s=timeout_s)


class CameraStatusPublisher:
    """Reads camera health from Elasticsearch and republishes each camera whose status changed."""

    FIELDS = ("camera_id", "state", "fps", "last_frame_at", "last_read_at", "errors")

    def __init__(self, publisher: MqttPublisher, client: Elasticsearch, prefix: str, every_s: float) -> None:
        self.publisher, self.client, self.prefix, self.every_s = publisher, client, prefix, every_s
        self._published: dict[str, bytes] = {}
        self._last = 0.0

    def maybe_publish(self) -> int:
        if time.monotonic() - self._last < self.every_s or not self.publisher.connected:
            return 0
        self._last = time.monotonic()
        try:
            hits = self.client.search(
                index=camera_health_index(self.prefix), size=1000, query={"match_all": {}},
                ignore_unavailable=True, allow_no_indices=True,
            )["hits"]["hits"]  # fmt: skip
        except (ApiError, TransportError) as exc:
            log.warning("camera status not read: %s", exc)
            return 0
        sent = 0
        for hit in hits:
            source = hit["_source"]
            camera = str(source.get("camera_id") or hit["_id"])
            status = {key: source.get(key) for key in self.FIELDS if key in source}
            status["camera_id"] = camera
            payload = orjson.dumps(status, option=orjson.OPT_SORT_KEYS)
            if self._published.get(camera) == payload:
                continue
            topic = self.publisher.topic("cameras", topic_part(camera), "status")
            # Not waiting for the PUBACK: this runs in the indexer's ingest loop, and the next
            # change republishes anyway (paho sends queued QoS 1 messages after a reconnect).
            info = self.publisher.client.publish(topic, payload, qos=1, retain=True)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                self._published[camera] = payload
                sent += 1
        return sent
