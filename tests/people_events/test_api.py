"""The people API: live counts for the control room (operators, administrators), the events and
their snapshots for operators only, each snapshot view audited; acknowledgement on the alert."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from flask import Flask

from anpr_core.elastic.indices import alerts_index, audit_pattern
from anpr_core.settings import Settings
from indexer.people_events import PeopleEventShipper
from tests.alerts_delivery.conftest import bearer
from tests.people_events.conftest import an_event, write_events

SNAPSHOT = "people.snapshot"


def audit(app: Flask, es: Elasticsearch, prefix: str, endpoint: str) -> list[dict[str, Any]]:
    app.extensions["anpr"].audit.flush(refresh=True)
    hits = es.search(index=audit_pattern(prefix), query={"term": {"endpoint": endpoint}}, size=100,
                     sort=[{"at": "desc"}])["hits"]["hits"]  # fmt: skip
    return [hit["_source"] for hit in hits]


def ship(es: Elasticsearch, settings: Settings, people: Path) -> PeopleEventShipper:
    shipper = PeopleEventShipper(es, people, settings.index_prefix, status_every_s=0)
    while shipper.step():
        pass
    return shipper


def test_live_status_for_operators_and_administrators_only(
    pe_app: Flask, pe_tokens: dict[str, str], pe_settings: Settings, es_client: Elasticsearch, tmp_path: Path
) -> None:
    people = tmp_path / "people"
    people.mkdir()
    zones = [{"name": "floor", "polygon": [[0, 480], [640, 480], [500, 90], [140, 90]], "rules": ["density"]}]
    status = {
        "P01": {
            "count": 37,
            "levels": {"floor": "경계"},
            "at": time.time(),
            "frame": [640, 480],
            "zones": zones,
        },
        "P09": {"count": 2, "levels": {}, "at": time.time() - 3600, "frame": [640, 480], "zones": []},
    }
    (people / "status.json").write_text(json.dumps(status, ensure_ascii=False))
    assert ship(es_client, pe_settings, people).ship_status() == 2
    es_client.indices.refresh(index=f"{pe_settings.index_prefix}-people-status")
    with pe_app.test_client() as client:
        assert client.get("/api/v1/people/status").status_code == 401
        for role in ("investigator", "analyst"):
            denied = client.get("/api/v1/people/status", headers=bearer(pe_tokens, role))
            assert denied.status_code == 403, role
        for role in ("operator", "admin"):
            response = client.get("/api/v1/people/status", headers=bearer(pe_tokens, role))
            assert response.status_code == 200, response.get_json()
            cameras = {c["camera_id"]: c for c in response.get_json()["cameras"]}
            assert cameras["P01"]["count"] == 37 and cameras["P01"]["levels"] == {"floor": "경계"}
            assert cameras["P01"]["zones"][0]["polygon"][2] == [500, 90] and not cameras["P01"]["stale"]
            assert cameras["P09"]["stale"]  # its monitor stopped an hour ago: not shown as live


def test_events_and_snapshots_for_operators_each_view_audited(
    pe_app: Flask, pe_tokens: dict[str, str], pe_settings: Settings, es_client: Elasticsearch, tmp_path: Path
) -> None:
    prefix = pe_settings.index_prefix
    people = tmp_path / "people"
    intrusion, density = write_events(people, [an_event("intrusion", 3), an_event("density")])
    ship(es_client, pe_settings, people)
    es_client.indices.refresh(index=alerts_index(prefix))
    operator = bearer(pe_tokens, "operator")
    with pe_app.test_client() as client:
        listed = client.get("/api/v1/people/events", query_string={"kind": "density"}, headers=operator)
        assert listed.status_code == 200
        events = listed.get_json()["events"]
        assert density in {e["alert_id"] for e in events} and intrusion not in {e["alert_id"] for e in events}
        assert all(e["kind"] == "density" and "snapshot_jpeg" not in e for e in events)
        bad = client.get("/api/v1/people/events", query_string={"kind": "collapse"}, headers=operator)
        assert bad.status_code == 400 and "kind" in bad.get_data(as_text=True)
        # The board lists people events beside plate alerts, without the image.
        board = client.get("/api/v1/alerts", headers=operator).get_json()["alerts"]
        mine = [a for a in board if a["alert_id"] in {intrusion, density}]
        assert len(mine) == 2 and all("snapshot_jpeg" not in a for a in mine)

        url = f"/api/v1/people/events/{intrusion}/snapshot"
        for role in ("investigator", "analyst", "admin"):
            assert client.get(url, headers=bearer(pe_tokens, role)).status_code == 403, role
        image = client.get(url, headers=operator)
        assert image.status_code == 200 and image.mimetype == "image/jpeg"
        assert image.data[:2] == b"\xff\xd8" and len(image.data) > 10_000
        assert "no-store" in image.headers["Cache-Control"]
        assert (
            client.get("/api/v1/people/events/pe-00000000000000000000/snapshot", headers=operator).status_code
            == 404
        )
        assert client.get("/api/v1/people/events/..%2Fx/snapshot", headers=operator).status_code in (400, 404)

        acked = client.post(f"/api/v1/alerts/{intrusion}/ack", headers=operator,
                            json={"note": "경비원 확인: 매장 직원"})  # fmt: skip
        assert acked.status_code == 200
    doc = es_client.get(index=alerts_index(prefix), id=intrusion)["_source"]
    assert (
        doc["acknowledged"] and doc["acknowledged_by"] == "operator" and doc["ack_note"].startswith("경비원")
    )
    assert doc["snapshot_jpeg"]  # the update kept the image
    views = [
        v for v in audit(pe_app, es_client, prefix, SNAPSHOT) if v["path"].endswith(f"{intrusion}/snapshot")
    ]
    ok = [v for v in views if v["status"] == 200]
    assert len(ok) == 1 and ok[0]["user"] == "operator" and ok[0]["purpose"] == "people event confirmation"
    assert {v["user"] for v in views if v["status"] == 403} == {"investigator", "analyst", "admin"}
    acks = audit(pe_app, es_client, prefix, "alerts.acknowledge")
    assert any(intrusion in (a.get("change") or "") for a in acks)
