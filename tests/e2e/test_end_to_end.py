"""Issue #11, end to end: a wanted car drives past three simulated cameras.

Everything is real: the simulator serves MJPEG over HTTP, `anpr workers` reads the feeds with the
ONNX detector and recogniser and writes the journal, `anpr indexer` bulk-indexes the reads into
the real Elasticsearch and raises watchlist alerts, and `anpr api` (gunicorn) serves them. The
test only talks HTTP to the API: the admin puts the plate on the watchlist, an operator's SSE
stream gets one alert per camera, and an investigator's route query returns the cameras in the
order the car drove them, at the times the simulator's ground truth says it passed.

Select with `-m e2e`; it takes about a minute on two busy cores.
"""

from __future__ import annotations

import argparse
import json
import queue
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from anpr.harness import AlertStream, Api, Services, camera_health, free_port, service_env
from anpr.simulator.cli import add_arguments, build_server
from anpr.simulator.journeys import parse_journey, travel_times
from anpr.simulator.scene import CameraScene
from anpr.simulator.server import SimulatorServer
from anpr_core.cameras import load_camera_registry
from anpr_core.elastic.mappings import ensure_indices
from anpr_core.settings import PROJECT_ROOT
from search_api.users import UserStore, seed_demo_users

pytestmark = [pytest.mark.e2e, pytest.mark.es, pytest.mark.slow]

# A standard new 8-character private-car plate, on a route that is not in camera-id order.
PLATE = "123가4567"
ROUTE = ("C03", "C01", "C02")
JOURNEY = f"{PLATE}:{','.join(ROUTE)}@3"  # 3 s out of view between cameras
FPS = 5  # low, so the workers keep up on two shared cores: still 10–17 frames per pass
# Random traffic every hour at most, and with this seed none on C01–C03 in the first 39 minutes:
# the only vehicle in the test is the journey's.
SEED, GAP = 26, (3600.0, 3600.0)
PURPOSE = {"purpose": "issue 11 end-to-end test", "case_number": "E2E-2026-011"}
STARTUP_S = 60  # workers (models), indexer and gunicorn starting together on loaded cores
ALERT_WAIT_S = 25  # after the car has left the last camera: end of track + journal + index


def _write_registry(path: Path, server: SimulatorServer) -> None:
    """The real registry entries of the simulated cameras, their streams on the simulator's port."""
    shipped = load_camera_registry(PROJECT_ROOT / "config" / "cameras.toml")
    rows = []
    for camera_id in sorted(server.hub.scenes):
        c = shipped[camera_id]
        rows.append(
            f'[[cameras]]\nid = "{c.id}"\nname = "{c.name}"\nroad = "{c.road}"\ndirection = "{c.direction}"\n'
            f'lat = {c.lat}\nlon = {c.lon}\nstream_url = "{server.url(c.id)}"\n'
        )
    path.write_text("\n".join(rows), encoding="utf-8")


def _journal_reads(journal: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line.split(" ", 1)[1])
        for segment in sorted(journal.glob("seg-*.jsonl"))
        for line in segment.read_text(encoding="utf-8").splitlines()
    ]


def _truth(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture()
def simulator(tmp_path: Path) -> Iterator[SimulatorServer]:
    # No random vehicle on these cameras during the test (checked, not hoped for).
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for camera_id in ROUTE:
        assert not CameraScene(camera_id, SEED, t0, GAP).passes_until(t0 + timedelta(minutes=10))
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--cameras", "3", "--fps", str(FPS), "--port", "0", "--seed", str(SEED),
         "--gap", str(GAP[0]), str(GAP[1]), "--truth", str(tmp_path / "truth.jsonl")]
    )  # fmt: skip
    server = build_server(args).start()
    yield server
    server.close()


@pytest.fixture()
def prefix(es_client: Elasticsearch, test_index_prefix: str) -> Iterator[str]:
    """This test's own index prefix; its indices go with the session's (tests/conftest.py)."""
    prefix = f"{test_index_prefix}-e2e"
    ensure_indices(es_client, prefix)
    yield prefix
    es_client.indices.delete_index_template(name=f"{prefix}-*")


@pytest.fixture()
def services(tmp_path: Path, prefix: str) -> Iterator[Services]:  # stopped before `prefix` is cleaned
    running = Services(tmp_path / "logs", service_env())
    yield running
    running.stop()


@pytest.mark.timeout(240)
def test_a_watchlisted_car_driving_past_three_cameras_alerts_and_shows_its_route(
    tmp_path: Path,
    simulator: SimulatorServer,
    services: Services,
    es_connection: dict[str, str],
    es_client: Elasticsearch,
    prefix: str,
) -> None:
    started = time.monotonic()
    var, registry = tmp_path / "var", tmp_path / "cameras.toml"
    _write_registry(registry, simulator)
    api_port, health_port = free_port(), free_port()
    services.env.update(
        ANPR_ELASTICSEARCH__URL=es_connection["url"],
        ANPR_ELASTICSEARCH__PASSWORD=es_connection["password"],
        ANPR_ELASTICSEARCH__INDEX_PREFIX=prefix,
        ANPR_PATHS__VAR_DIR=str(var),  # journal, crops and the API's token secret
        ANPR_CAMERAS__REGISTRY_PATH=str(registry),
        ANPR_API__PORT=str(api_port),
        ANPR_API__THREADS="4",
        ANPR_API__ACCESS_LOG="0",
    )
    seed_demo_users(UserStore(es_client, prefix))  # one user per role, as `anpr users seed-demo`

    services.start("workers", "workers", "--health-port", str(health_port))
    services.start("indexer", "indexer", "--metrics-port", "0")
    # gunicorn's metrics directory under the test's tmp dir (only the API uses multiprocess mode).
    (tmp_path / "metrics").mkdir()  # the `anpr api` process itself registers metrics there first
    metrics = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    services.start("api", "api", "--workers", "1", env=metrics, grace_s=3.0)

    api = Api(api_port)
    services.wait_ready("the API", lambda: api.call("GET", "/ready")[0] == 200, STARTUP_S)

    def feeds_up() -> bool:
        cameras = camera_health(health_port)
        return len(cameras) == 3 and all(c["state"] == "up" and c["processed_frames"] > 0 for c in cameras)

    services.wait_ready("the workers' three feeds", feeds_up, STARTUP_S)

    admin = api.login("admin")
    status, entry = api.call(
        "POST", "/api/v1/watchlist", admin,
        {"plate": PLATE, "reason": "stolen", "priority": "high", "case_number": PURPOSE["case_number"]},
    )  # fmt: skip
    assert status == 201, entry
    stream = AlertStream(api_port, api.login("operator"), max_seconds=120)
    stream.start()
    investigator = api.login("investigator")

    # Now the car: through C03, C01 and C02, 3 s out of view in between.
    spec = parse_journey(JOURNEY)
    start = datetime.now(UTC) + timedelta(seconds=2)
    passes = simulator.hub.add_journey(spec, start, travel_times(spec, {}))
    journey_end = passes[-1].leave
    startup_s = time.monotonic() - started

    def diagnosis() -> str:
        reads = [(r["camera_id"], r["plate"], r["confidence"]) for r in _journal_reads(var / "journal")]
        truth = [(p.camera_id, p.plate, p.enter.isoformat(), p.leave.isoformat()) for p in passes]
        keys = ("camera_id", "state", "frames", "processed_frames", "dropped_frames", "reads", "errors")
        try:
            health: Any = [{k: c[k] for k in keys} for c in camera_health(health_port)]
        except OSError as exc:
            health = repr(exc)
        return (
            f"\njournal reads (camera, plate, confidence): {reads}\ntruth: {truth}"
            f"\nworkers' camera health: {health}\n{services.logs()}"
        )

    alerts: list[dict[str, Any]] = []
    deadline = time.monotonic() + (journey_end - datetime.now(UTC)).total_seconds() + ALERT_WAIT_S
    while len(alerts) < len(ROUTE):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            item = stream.alerts.get(timeout=min(remaining, 1.0))
        except queue.Empty:
            services.check_alive()
            continue
        if item is None or isinstance(item, BaseException):
            pytest.fail(f"the alert stream ended: {item!r}{diagnosis()}")
        alerts.append(item)
    stream.close()
    assert alerts, f"no alert on the SSE stream for {PLATE}{diagnosis()}"
    first = alerts[0]
    assert (first["plate"], first["camera_id"]) == (PLATE, ROUTE[0]), (
        f"first alert: {first['plate']} at {first['camera_id']}, expected {PLATE} at {ROUTE[0]}{diagnosis()}"
    )
    assert first["watchlist_id"] == entry["id"] and first["reason"] == "stolen"
    got = [(a["camera_id"], a["plate"]) for a in alerts]
    assert got == [(c, PLATE) for c in ROUTE], f"alerts {got}, expected one per camera{diagnosis()}"

    # The investigator's route: the cameras in driving order, each at the time the car passed.
    path = f"/api/v1/plates/{urllib.parse.quote(PLATE)}/route?{urllib.parse.urlencode(PURPOSE)}"
    route: dict[str, Any] = {}
    route_deadline = time.monotonic() + 10  # reads are searchable within a refresh interval
    while time.monotonic() < route_deadline:
        status, route = api.call("GET", path, investigator)
        assert status == 200, route
        if route["count"] >= len(ROUTE):
            break
        time.sleep(0.5)
    cameras = [s["camera_id"] for s in route["sightings"]]
    assert cameras == list(ROUTE), f"route {cameras}, expected {list(ROUTE)}{diagnosis()}"
    for sighting, p in zip(route["sightings"], passes, strict=True):
        seen = datetime.fromisoformat(sighting["seen"])
        assert p.enter - timedelta(seconds=0.5) <= seen <= p.leave + timedelta(seconds=0.5), (
            sighting,
            p.truth(),
        )
        assert sighting["camera_name"] and sighting["has_crop"]
    assert route["sightings"][1]["distance_m"] > 0

    # The simulator's ground truth records the journey, leg by leg, for benchmarks.
    deadline = time.monotonic() + 5
    while len([r for r in _truth(tmp_path / "truth.jsonl") if r.get("journey_id")]) < len(ROUTE):
        assert time.monotonic() < deadline, _truth(tmp_path / "truth.jsonl")
        time.sleep(0.2)
    legs = [r for r in _truth(tmp_path / "truth.jsonl") if r.get("journey_id")]
    assert [(r["camera_id"], r["plate"], r["leg"]) for r in legs] == [
        (c, PLATE, i) for i, c in enumerate(ROUTE, 1)
    ]
    print(f"\ne2e: services ready in {startup_s:.1f} s, whole test {time.monotonic() - started:.1f} s")
