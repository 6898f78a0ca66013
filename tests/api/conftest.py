"""A small crafted city: 5 cameras in Seoul and reads whose routes, speeds, clones and convoys
are known, written to the real Elasticsearch under the session's test prefix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch, helpers
from flask import Flask
from flask.testing import FlaskClient

from anpr.bench.seeding import sample_document
from anpr_core.elastic.indices import reads_alias
from anpr_core.elastic.mappings import ensure_read_index
from anpr_core.settings import Settings
from search_api.app import create_app
from search_api.context import Services
from search_api.users import seed_demo_users
from tests.logins import demo_tokens

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
CAMERAS: dict[str, dict[str, Any]] = {
    "cam-01": {"id": "cam-01", "name": "세종대로 북", "lat": 37.5700, "lon": 126.9769},
    "cam-02": {"id": "cam-02", "name": "세종대로 남", "lat": 37.5610, "lon": 126.9769},  # 1.0 km south
    "cam-03": {"id": "cam-03", "name": "한강대로", "lat": 37.5300, "lon": 126.9700},
    "cam-04": {"id": "cam-04", "name": "강남대로", "lat": 37.4979, "lon": 127.0276},
    "cam-05": {"id": "cam-05", "name": "부산 해운대", "lat": 35.1631, "lon": 129.1635},  # 325 km away
}
PURPOSE = {"purpose": "stolen vehicle investigation", "case_number": "2026-서울-00123"}


def _read(plate: str, camera: str, minutes: float, **extra: Any) -> dict[str, Any]:
    cam = CAMERAS[camera]
    return sample_document(plate, camera, T0 + timedelta(minutes=minutes), cam["lat"], cam["lon"], **extra)


def crafted_reads() -> list[dict[str, Any]]:
    reads = [
        # The target: north to south at 60 km/h (1 km in 1 minute), then on to Gangnam.
        _read("12가3456", "cam-01", 0, crop_ref="cam-01/12가3456.png"),
        _read("12가3456", "cam-02", 1),
        _read("12가3456", "cam-03", 5),
        _read("12가3456", "cam-04", 15),
        # Its companion follows 20 s behind at every camera: a convoy.
        _read("34다5678", "cam-01", 0.33),
        _read("34다5678", "cam-02", 1.33),
        _read("34다5678", "cam-03", 5.33),
        # A passer-by shares one camera only.
        _read("55라1234", "cam-02", 1.2),
        # A cloned plate: Seoul then Busan 10 minutes later.
        _read("77마7777", "cam-01", 30),
        _read("77마7777", "cam-05", 40),
        # Near-misses for fuzzy search (OCR confusions of 12가3456) and pattern search.
        _read("12가3458", "cam-04", 60, confidence=0.6),
        _read("72가3456", "cam-03", 61, confidence=0.7),
        _read("123가4567", "cam-02", 62),
        _read("99하3456", "cam-01", 63),
        # Another day, for the time-range filter.
        _read("12가3456", "cam-01", 60 * 24 + 5),
    ]
    return reads


@pytest.fixture(scope="session")
def api_app(es_settings: Settings, es_client: Elasticsearch) -> Iterator[Flask]:
    app = create_app(es_settings, es=es_client, cameras=CAMERAS)
    prefix = es_settings.index_prefix
    seed_demo_users(app.extensions["anpr"].users)
    docs = crafted_reads()
    actions = []
    for doc in docs:
        index = ensure_read_index(es_client, prefix, datetime.fromisoformat(doc["best_seen"]))
        actions.append({"_index": index, "_id": doc["read_id"], "_source": doc})
    helpers.bulk(es_client, actions, refresh="wait_for")
    es_client.indices.refresh(index=reads_alias(prefix))
    crops = es_settings.paths.crops / "cam-01"
    crops.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    Image.new("RGB", (120, 40), "white").save(crops / "12가3456.png")
    yield app
    # Write the last buffered audit records while the session's client is still open.
    app.extensions["anpr"].audit.flush()


@pytest.fixture()
def client(api_app: Flask) -> Iterator[FlaskClient]:
    with api_app.test_client() as test_client:
        yield test_client


@pytest.fixture(scope="session")
def tokens(api_app: Flask) -> dict[str, str]:
    return demo_tokens(api_app)


def auth(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def audit_records(api_app: Flask, **filters: str) -> list[dict[str, Any]]:
    services: Services = api_app.extensions["anpr"]
    services.audit.flush(refresh=True)
    es = services.es
    query = {"bool": {"filter": [{"term": {k: v}} for k, v in filters.items()]}}
    result = es.search(index=f"{services.prefix}-audit-*", query=query, size=100, sort=[{"at": "desc"}])
    return [hit["_source"] for hit in result["hits"]["hits"]]
