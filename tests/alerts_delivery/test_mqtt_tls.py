"""MQTT over TLS (issue 21: "username/password and TLS settings"): a real Mosquitto with a TLS
listener that wants a client certificate, certificates from a CA made here with Debian's openssl.
The indexer's publisher with `mqtt.tls`, `ca_file`, `cert_file`/`key_file` delivers an alert at
QoS 1; without its client certificate, or without TLS, it does not get in."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from anpr.broker import mosquitto_binary
from anpr.launcher import Process
from anpr_core.settings import MqttSettings
from indexer.mqtt import MqttPublisher
from tests.alerts_delivery.conftest import free_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
PASSWORD = "tls-test-password-0042"


@dataclass
class TlsBroker:
    port: int
    certs: Path

    def settings(self, **overrides: object) -> MqttSettings:
        values: dict[str, object] = {
            "host": "127.0.0.1", "port": self.port, "username": "anpr", "password": PASSWORD, "tls": True,
            "ca_file": self.certs / "ca.crt", "cert_file": self.certs / "client.crt",
            "key_file": self.certs / "client.key", "client_id": f"tls-test-{time.time_ns()}",
        }  # fmt: skip
        values.update(overrides)
        return MqttSettings.model_validate(values)


def _openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(root: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, valid for a day."""
    root.mkdir()
    _openssl(root, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "1", "-subj", "/CN=anpr test CA")  # fmt: skip
    for name, cn, extension in (("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1"),
                                ("client", "anpr-indexer", "extendedKeyUsage=clientAuth")):  # fmt: skip
        (root / f"{name}.ext").write_text(extension + "\n")
        key, csr, crt = f"{name}.key", f"{name}.csr", f"{name}.crt"
        _openssl(
            root, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={cn}"
        )
        _openssl(root, "x509", "-req", "-in", csr, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", crt, "-days", "1", "-extfile", f"{name}.ext")  # fmt: skip
    for key in root.glob("*.key"):
        key.chmod(0o600)
    return root


def _accepting(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    root = tmp_path_factory.mktemp("mosquitto-tls")
    certs = _certificates(root / "certs")
    passwd = root / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "anpr", PASSWORD], check=True,
                   capture_output=True)  # fmt: skip
    passwd.chmod(0o600)
    port = free_port()
    user = pwd.getpwuid(os.getuid()).pw_name
    (root / "mosquitto.conf").write_text(
        f"user {user}\nlistener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\n"
        f"cafile {certs / 'ca.crt'}\ncertfile {certs / 'server.crt'}\nkeyfile {certs / 'server.key'}\n"
        "require_certificate true\ntls_version tlsv1.2\nlog_dest stdout\n"
    )
    process = Process("mosquitto-tls", [mosquitto_binary(), "-c", str(root / "mosquitto.conf")],
                      log_dir=root / "logs", grace_s=5, die_with_parent=True)  # fmt: skip
    process.start()
    try:
        process.wait_ready(lambda: _accepting(port), timeout_s=15, what=f"mosquitto TLS on {port}")
        yield TlsBroker(port, certs)
    finally:
        process.stop(grace_s=5)


def _tls_subscriber(broker: TlsBroker) -> tuple[mqtt.Client, list[dict[str, object]]]:
    got: list[dict[str, object]] = []
    ready = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"tls-sub-{time.time_ns()}")
    client.username_pw_set("anpr", PASSWORD)
    client.tls_set(ca_certs=str(broker.certs / "ca.crt"), certfile=str(broker.certs / "client.crt"),
                   keyfile=str(broker.certs / "client.key"), cert_reqs=ssl.CERT_REQUIRED)  # fmt: skip
    client.on_connect = lambda c, *_: c.subscribe("anpr/alerts/#", qos=1)
    client.on_subscribe = lambda *_: ready.set()
    client.on_message = lambda _c, _u, m: got.append(json.loads(m.payload))
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert ready.wait(10), "TLS subscriber not subscribed"
    return client, got


def test_an_alert_goes_over_tls_with_the_client_certificate(tls_broker: TlsBroker) -> None:
    subscriber, got = _tls_subscriber(tls_broker)
    publisher = MqttPublisher(tls_broker.settings())
    publisher.start()
    try:
        alert = {"alert_id": "tls-0001", "plate": "12가3456", "priority": "high", "camera_id": "C03"}
        outcome = publisher.publish_alert(alert, timeout_s=10)
        assert outcome.ok, outcome
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [a["alert_id"] for a in got] == ["tls-0001"]
    finally:
        publisher.stop()
        subscriber.disconnect()
        subscriber.loop_stop()


@pytest.mark.parametrize(
    "overrides",
    [
        {"cert_file": None, "key_file": None},  # the broker wants a client certificate
        {"tls": False},  # plain MQTT on a TLS listener
    ],
    ids=["no-client-certificate", "no-tls"],
)
def test_without_the_tls_settings_nothing_is_delivered(
    tls_broker: TlsBroker, overrides: dict[str, object]
) -> None:
    publisher = MqttPublisher(tls_broker.settings(**overrides))
    publisher.start()
    try:
        outcome = publisher.publish_alert({"alert_id": "tls-0002", "priority": "high"}, timeout_s=3)
        assert not outcome.ok and not publisher.connected
    finally:
        publisher.client.disconnect()
        publisher.client.loop_stop()
