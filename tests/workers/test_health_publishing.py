"""Operators see each camera's health in the API (via Elasticsearch) and in Prometheus; an
unreachable Elasticsearch is counted and never stops anything."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from anpr_core.elastic.client import make_client
from anpr_core.elastic.indices import camera_health_index
from anpr_core.settings import Settings
from lpr.workers.health import CameraHealth
from lpr.workers.publish import HealthPublisher, serve_health


def _healths() -> dict[str, CameraHealth]:
    up = CameraHealth("C01", state="up", fps=7.9, frames=120, reads=3, last_frame_at=datetime.now(UTC))
    down = CameraHealth("C02", state="down", errors=4, last_error="cannot open rtsp://10.0.0.2/s1")
    return {"C01": up, "C02": down}


def test_health_lands_in_the_camera_health_index_one_doc_per_camera(
    es_client: Elasticsearch, es_settings: Settings, test_index_prefix: str
) -> None:
    # Its own index: other suites (the worker end-to-end test) publish health under the session prefix.
    index = camera_health_index(f"{test_index_prefix}-healthpub")
    publisher = HealthPublisher(_healths(), lambda: make_client(es_settings), index)
    assert publisher.publish_once() and publisher.publish_once()
    es_client.indices.refresh(index=index)
    docs = {h["_id"]: h["_source"] for h in es_client.search(index=index, size=10)["hits"]["hits"]}
    assert set(docs) == {"C01", "C02"}
    assert docs["C01"]["state"] == "up" and docs["C01"]["fps"] == 7.9
    assert docs["C02"]["errors"] == 4 and "cannot open" in docs["C02"]["last_error"]


def test_an_unreachable_elasticsearch_is_counted_not_fatal() -> None:
    def unreachable() -> Elasticsearch:
        return Elasticsearch("http://127.0.0.1:1", request_timeout=1, max_retries=0)

    publisher = HealthPublisher(_healths(), unreachable, "anpr-test-camera-health")
    assert publisher.publish_once() is False and publisher.failures == 1


def test_health_and_metrics_endpoints() -> None:
    server = serve_health(_healths(), port=0)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        health = json.load(urllib.request.urlopen(f"{base}/health", timeout=5))
        metrics = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
    finally:
        server.shutdown()
    assert health["up"] == 1 and {c["camera_id"] for c in health["cameras"]} == {"C01", "C02"}
    assert 'anpr_camera_up{camera="C02"} 0.0' in metrics
    assert 'anpr_camera_errors_total{camera="C02"} 4.0' in metrics
