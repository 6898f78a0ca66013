"""People events through the real pipeline: the monitor's event writer, the indexer (in process or
`anpr indexer` as a child to kill -9), Elasticsearch, the API with its live board, a webhook
receiver and a Mosquitto broker. Own index prefix, so nothing here reaches other tests' boards."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from elasticsearch import Elasticsearch
from flask import Flask

from anpr.broker import LocalBroker, start_broker
from anpr_core.settings import Settings
from monitor.analytics import CameraAnalytics, Zone
from monitor.rules import PeopleEvent
from monitor.service import EventLog
from search_api.app import create_app
from search_api.users import seed_demo_users
from tests.alerts_delivery.conftest import delivery_settings, free_port
from tests.browser import served
from tests.conftest import SHARED_DATA
from tests.logins import demo_tokens

MALL_FRAME = SHARED_DATA / "people" / "images" / "q0001.jpg"
CAMERA = CameraAnalytics(
    id="P01", fps=5, image_points=[(0, 480), (640, 480), (500, 90), (140, 90)],
    ground_points=[(0, 0), (20, 0), (20, 15), (0, 15)],
    zone=[Zone(name="shopfront", polygon=[(300, 200), (620, 200), (620, 470), (300, 470)], closed=["always"]),
          Zone(name="floor", polygon=[(0, 480), (640, 480), (500, 90), (140, 90)],
               density_levels=[0.05, 0.1, 0.2, 0.4])],
)  # fmt: skip
CAMERAS = {"P01": {"id": "P01", "name": "아산 몰 1층", "lat": 36.78, "lon": 127.0}}


def mall_frame() -> np.ndarray:
    frame = cv2.imread(str(MALL_FRAME))
    if frame is None:
        pytest.skip("shared crowd photos not present")
    return frame


_at = [time.time()]


def an_event(kind: str = "intrusion", track_id: int = 1, **extra: object) -> PeopleEvent:
    """A distinct event each call (its time differs), as the rules would raise it."""
    _at[0] += 0.2
    if kind == "density":
        extra = {"level": "주의", "count": 31, "density": 0.14, **extra}
        return PeopleEvent("P01", "floor", kind, _at[0], _at[0] - 1.0, **extra)  # type: ignore[arg-type]
    return PeopleEvent("P01", "shopfront", kind, _at[0], _at[0] - 0.4, track_id, (400.0, 300.0))


def write_events(people_dir: Path, events: list[PeopleEvent]) -> list[str]:
    """Through the monitor's own writer (snapshot, then the fsync'd journal record); the ids."""
    log = EventLog(people_dir)
    frame = mall_frame()
    ids = [log.append(event, frame, CAMERA).stem for event in events]
    log.close()
    return ids


@pytest.fixture(scope="session")
def pe_settings(es_settings: Settings, es_client: Elasticsearch, test_index_prefix: str,
                tmp_path_factory: pytest.TempPathFactory) -> Settings:  # fmt: skip
    var_dir = tmp_path_factory.mktemp("pe-var")
    return delivery_settings(es_settings, es_client, f"{test_index_prefix}-pe", var_dir, max_attempts=6)


@pytest.fixture(scope="session")
def pe_app(pe_settings: Settings, es_client: Elasticsearch) -> Iterator[Flask]:
    app = create_app(pe_settings, es=es_client, cameras=CAMERAS)
    seed_demo_users(app.extensions["anpr"].users)
    yield app
    app.extensions["anpr"].audit.flush()


@pytest.fixture(scope="session")
def pe_tokens(pe_app: Flask) -> dict[str, str]:
    return demo_tokens(pe_app)


@pytest.fixture(scope="session")
def pe_server(pe_app: Flask) -> Iterator[str]:
    with served(pe_app) as url:
        yield url


@pytest.fixture(scope="session")
def pe_broker(tmp_path_factory: pytest.TempPathFactory, pe_settings: Settings) -> Iterator[LocalBroker]:
    local = start_broker(pe_settings, port=free_port(), root=tmp_path_factory.mktemp("pe-mosquitto"))
    yield local
    local.stop()
