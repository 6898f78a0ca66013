"""Real receivers for alert delivery: an HTTP server in the test process (that can be down, slow or
answer 500), a Mosquitto broker started through the launcher, a paho subscriber, and the API on its
own index prefix (so the alerts written here never reach the alert-board tests)."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from elasticsearch import Elasticsearch
from flask import Flask

from anpr.broker import LocalBroker, start_broker
from anpr_core.elastic.mappings import ensure_indices
from anpr_core.settings import Settings, load_settings
from search_api.app import create_app
from search_api.users import seed_demo_users
from tests.logins import demo_tokens

SECRET = "s3cret-for-the-112-centre"
CAMERAS = {"cam-01": {"id": "cam-01", "name": "온양온천역", "lat": 36.78, "lon": 127.00},
           "cam-02": {"id": "cam-02", "name": "배방역", "lat": 36.77, "lon": 127.05}}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout_s} s: {what}")


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes
    wall: float = field(default_factory=time.time)

    @property
    def alert_id(self) -> str:
        return str(json.loads(self.body)["alert"]["alert_id"])


@dataclass
class Receiver:
    """A 112/119 centre's endpoint. `mode`: "ok", "fail" (500) or "slow" (answers after `delay_s`)."""

    port: int
    mode: str = "ok"
    delay_s: float = 0.0
    fail_times: int = 0  # with mode "ok": answer 500 this many times first
    received: list[Received] = field(default_factory=list)
    answered_ok: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/anpr"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                item = Received(time.monotonic(), dict(self.headers.items()), body)
                receiver.received.append(item)
                if receiver.mode == "slow":
                    time.sleep(receiver.delay_s)
                failing = receiver.mode == "fail" or receiver.fail_times > 0
                if receiver.fail_times > 0:
                    receiver.fail_times -= 1
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                if not failing:
                    receiver.answered_ok.append(item)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def alert_ids(self) -> set[str]:
        """What the receiver keeps after de-duplicating by alert id (its idempotency key)."""
        return {item.headers["Idempotency-Key"] for item in self.answered_ok}


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port()).start()
    yield r
    r.stop()


class Subscriber:
    """An MQTT client of the control centre: QoS 1, collects every message by topic."""

    def __init__(self, broker: LocalBroker, topic: str = "anpr/#") -> None:
        self.messages: list[tuple[float, str, bytes, bool]] = []
        self._ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-sub-{time.time_ns()}")
        self.client.username_pw_set(broker.username, broker.password)
        self.client.on_connect = lambda c, *_: (c.subscribe(topic, qos=1), None)[1]
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = lambda _c, _u, m: self.messages.append(
            (time.monotonic(), m.topic, m.payload, bool(m.retain))
        )
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self._ready.wait(10), "subscriber not subscribed"

    def alerts(self) -> list[dict[str, Any]]:
        return [json.loads(p) for _, t, p, _ in self.messages if "/alerts/" in t]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory, es_settings: Settings) -> Iterator[LocalBroker]:
    local = start_broker(es_settings, port=free_port(), root=tmp_path_factory.mktemp("mosquitto"))
    yield local
    local.stop()


def delivery_settings(
    es_settings: Settings, es_client: Elasticsearch, prefix: str, var_dir: Path, max_attempts: int
) -> Settings:
    """The test node's settings on an index prefix and var dir of their own (indices made), with
    webhook retries in fractions of a second (the defaults wait minutes)."""
    es = es_settings.elasticsearch
    settings = load_settings(
        elasticsearch={"url": es.url, "password": es.password.get_secret_value() if es.password else "",
                       "index_prefix": prefix},
        paths={"var_dir": var_dir},
        webhooks={"first_retry_s": 0.2, "max_retry_s": 1.0, "max_attempts": max_attempts, "timeout_s": 1.0,
                  "poll_s": 0.3},
    )  # fmt: skip
    ensure_indices(es_client, settings.index_prefix)
    return settings


@pytest.fixture(scope="session")
def dl_settings(
    es_settings: Settings,
    es_client: Elasticsearch,
    test_index_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    var_dir = tmp_path_factory.mktemp("dl-var")
    return delivery_settings(es_settings, es_client, f"{test_index_prefix}-dl", var_dir, max_attempts=4)


@pytest.fixture(scope="session")
def dl_app(dl_settings: Settings, es_client: Elasticsearch) -> Iterator[Flask]:
    ensure_indices(es_client, dl_settings.index_prefix)
    app = create_app(dl_settings, es=es_client, cameras=CAMERAS)
    seed_demo_users(app.extensions["anpr"].users)
    yield app
    app.extensions["anpr"].audit.flush()


@pytest.fixture(scope="session")
def dl_tokens(dl_app: Flask) -> dict[str, str]:
    return demo_tokens(dl_app)


def indexer_env(settings: Settings, var: Path, broker: LocalBroker) -> dict[str, str]:
    """The environment of an `anpr indexer` child on the test's prefix, var dir and broker, with
    webhook retries in fractions of a second (the defaults wait minutes)."""
    es = settings.elasticsearch
    return {**os.environ, "PYTHONUNBUFFERED": "1",
            "ANPR_ELASTICSEARCH__URL": str(es.url), "ANPR_ELASTICSEARCH__INDEX_PREFIX": settings.index_prefix,
            "ANPR_ELASTICSEARCH__PASSWORD": es.password.get_secret_value() if es.password else "",
            "ANPR_PATHS__VAR_DIR": str(var), "ANPR_WEBHOOKS__FIRST_RETRY_S": "0.3",
            "ANPR_WEBHOOKS__MAX_RETRY_S": "1", "ANPR_WEBHOOKS__TIMEOUT_S": "1",
            "ANPR_WEBHOOKS__POLL_S": "0.3", **broker.env()}  # fmt: skip


def bearer(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def crop_file(settings: Settings, ref: str) -> Path:
    from PIL import Image

    path = settings.paths.crops / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (120, 40), "white").save(path)
    return path
