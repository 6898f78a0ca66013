"""A control-room operator lists, acknowledges and watches alerts live."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch
from flask import Flask
from flask.testing import FlaskClient

from anpr_core.elastic.indices import alerts_index
from tests.api.conftest import auth


def write_alert(es: Elasticsearch, prefix: str, sequence: int, plate: str) -> str:
    alert_id = f"alert-{sequence}"
    doc: dict[str, Any] = {
        "alert_id": alert_id,
        "sequence": sequence,
        "plate": plate,
        "camera_id": "cam-01",
        "priority": "high",
        "reason": "stolen",
        "created_at": datetime.now(UTC).isoformat(),
    }
    es.index(index=alerts_index(prefix), id=alert_id, document=doc, refresh=True)
    return alert_id


def test_list_and_acknowledge(api_app: Flask, client: FlaskClient, tokens: dict[str, str]) -> None:
    services = api_app.extensions["anpr"]
    first = write_alert(services.es, services.prefix, 1, "12가3456")
    write_alert(services.es, services.prefix, 2, "34다5678")
    operator = auth(tokens, "operator")
    listed = client.get("/api/v1/alerts", query_string={"acknowledged": "false"}, headers=operator).get_json()
    assert [a["sequence"] for a in listed["alerts"]][:2] == [2, 1]
    ack = client.post(f"/api/v1/alerts/{first}/ack", json={"note": "순찰차 출동"}, headers=operator)
    assert ack.status_code == 200
    assert ack.get_json()["acknowledged_by"] == "operator"
    open_alerts = client.get(
        "/api/v1/alerts", query_string={"acknowledged": "false"}, headers=operator
    ).get_json()
    assert first not in [a["alert_id"] for a in open_alerts["alerts"]]
    done = client.get("/api/v1/alerts", query_string={"acknowledged": "true"}, headers=operator).get_json()
    assert done["alerts"][0]["ack_note"] == "순찰차 출동"
    assert client.post("/api/v1/alerts/nope/ack", json={}, headers=operator).status_code == 404


def test_stream_delivers_a_new_alert_within_two_seconds(
    api_app: Flask, client: FlaskClient, tokens: dict[str, str]
) -> None:
    services = api_app.extensions["anpr"]
    write_alert(services.es, services.prefix, 10, "12가3456")
    response = client.get(
        "/api/v1/alerts/stream",
        query_string={"max_seconds": 5},
        headers=auth(tokens, "operator"),
        buffered=False,
    )
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    written_at: list[float] = []

    def write_later() -> None:
        time.sleep(0.5)
        written_at.append(time.monotonic())
        write_alert(services.es, services.prefix, 11, "77마7777")

    threading.Thread(target=write_later).start()
    buffer = ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        if "event: alert" in buffer:
            break
    received_at = time.monotonic()
    response.close()
    assert "id: 11\nevent: alert\n" in buffer  # only the new one: the old alert 10 was not replayed
    assert '"plate": "77마7777"' in buffer
    assert received_at - written_at[0] < 2.0
