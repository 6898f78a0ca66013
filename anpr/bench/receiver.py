"""The alert benchmarks' receiving end: an HTTP endpoint standing in for the 112/119 centre's
webhook receiver, its MQTT subscriber, and the record of when each alert arrived on either."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import paho.mqtt.client as mqtt

from anpr.broker import LocalBroker

SECRET = "bench-secret-0123456789"


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.webhook: dict[str, list[float]] = {}
        self.queued: dict[str, float] = {}
        self.mqtt: dict[str, list[float]] = {}

    def add(self, kind: dict[str, list[float]], key: str, at: float) -> None:
        with self.lock:
            kind.setdefault(key, []).append(at)


def start_receiver(
    arrivals: Arrivals, port: int, on_alert: Callable[[dict[str, Any]], None] | None = None
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            now = time.time()
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            key = self.headers["Idempotency-Key"]
            arrivals.add(arrivals.webhook, key, now)
            if on_alert is not None:
                on_alert(body["alert"])
            if body.get("queued_at"):
                arrivals.queued.setdefault(key, datetime.fromisoformat(body["queued_at"]).timestamp())
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def subscribe_alerts(
    broker: LocalBroker,
    arrivals: Arrivals,
    client_id: str,
    on_alert: Callable[[dict[str, Any]], None] | None = None,
    timeout_s: float = 15.0,
) -> mqtt.Client:
    """The centre's MQTT client on `anpr/alerts/#` at QoS 1, noting each alert's arrival; returns
    once the broker confirmed the subscription (an alert published before it would be missed)."""
    ready = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.username_pw_set(broker.username, broker.password)
    client.on_connect = lambda c, *_: c.subscribe("anpr/alerts/#", qos=1)
    client.on_subscribe = lambda *_: ready.set()

    def on_message(_c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        now = time.time()
        alert = json.loads(message.payload)
        arrivals.add(arrivals.mqtt, str(alert["alert_id"]), now)
        if on_alert is not None:
            on_alert(alert)

    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    if not ready.wait(timeout_s):
        client.loop_stop()
        raise RuntimeError("MQTT subscriber not subscribed")
    return client
