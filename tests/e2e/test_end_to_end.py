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
import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from anpr_core.cameras import load_camera_registry
from anpr_core.elastic.mappings import ensure_indices
from anpr_core.settings import PROJECT_ROOT
from lpr.simulator.cli import add_arguments, build_server
from lpr.simulator.journeys import parse_journey, travel_times
from lpr.simulator.scene import CameraScene
from lpr.simulator.server import SimulatorServer
from search_api.users import DEMO_PASSWORD, UserStore, seed_demo_users

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Services:
    """The service processes, each in its own process group (gunicorn has children), logs on disk."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir, self.env = log_dir, env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.grace_s: dict[str, float] = {}
        log_dir.mkdir()

    def start(self, name: str, *args: str, env: dict[str, str] | None = None, grace_s: float = 20.0) -> None:
        self.grace_s[name] = grace_s
        with open(self.log_dir / f"{name}.log", "wb") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "anpr_core.cli", *args],
                env={**self.env, **(env or {})},
                cwd=PROJECT_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}\n{self.logs()}")

    def logs(self, lines: int = 25) -> str:
        out = []
        for path in sorted(self.log_dir.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name} (last {len(tail)} lines)\n" + "\n".join(tail))
        return "\n".join(out)

    def stop(self) -> None:
        # SIGINT: the workers flush and the indexer commits. gunicorn would wait for an open SSE
        # stream to notice its client has gone (the next heartbeat), so it gets a short grace only.
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)  # the group we started: gunicorn's workers too
        stopped_at = time.monotonic()
        for name, process in self.processes.items():
            deadline = stopped_at + self.grace_s.get(name, 20.0)
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            while _group_alive(process.pid):
                if time.monotonic() > deadline:
                    os.killpg(process.pid, signal.SIGKILL)
                    break
                time.sleep(0.1)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class Api:
    def __init__(self, port: int) -> None:
        self.port = port

    def call(
        self, method: str, path: str, token: str | None = None, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        return response.status, json.loads(raw) if raw else None

    def login(self, role: str) -> str:
        status, body = self.call(
            "POST", "/api/v1/auth/login", body={"username": role, "password": DEMO_PASSWORD}
        )
        assert status == 200, body
        return str(body["token"])


class AlertStream(threading.Thread):
    """An operator's `/api/v1/alerts/stream`, read for real over HTTP; alerts land in a queue."""

    def __init__(self, port: int, token: str, max_seconds: float) -> None:
        super().__init__(name="sse-reader", daemon=True)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request(
            "GET",
            f"/api/v1/alerts/stream?max_seconds={max_seconds}",
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        )
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.read()
        assert self.response.getheader("Content-Type", "").startswith("text/event-stream")
        self.alerts: queue.Queue[dict[str, Any] | BaseException | None] = queue.Queue()

    def run(self) -> None:
        event: dict[str, str] = {}
        try:
            while line := self.response.readline():
                text = line.decode("utf-8").rstrip("\r\n")
                if text:
                    field, _, value = text.partition(":")
                    event[field] = value.removeprefix(" ")
                    continue
                if event.get("event") == "alert":
                    alert = json.loads(event["data"])
                    alert["_sse_id"] = event.get("id")
                    self.alerts.put(alert)
                event = {}
            self.alerts.put(None)  # the server closed the stream
        except BaseException as exc:  # handed to the test thread
            self.alerts.put(exc)

    def close(self) -> None:
        self.conn.close()


def _wait(what: str, ready: Any, timeout: float, services: Services) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        services.check_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not ready after {timeout:.0f} s\n{services.logs()}")
        time.sleep(0.3)


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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANPR_", "PROMETHEUS_"))}
    if "ANPR_CONFIG" in os.environ:
        env["ANPR_CONFIG"] = os.environ["ANPR_CONFIG"]
    running = Services(tmp_path / "logs", env)
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
    api_port, health_port = _free_port(), _free_port()
    services.env.update(
        ANPR_ELASTICSEARCH__URL=es_connection["url"],
        ANPR_ELASTICSEARCH__PASSWORD=es_connection["password"],
        ANPR_ELASTICSEARCH__INDEX_PREFIX=prefix,
        ANPR_PATHS__VAR_DIR=str(var),  # journal, crops and the API's token secret
        ANPR_CAMERAS__REGISTRY_PATH=str(registry),
        ANPR_API__PORT=str(api_port),
        ANPR_API_THREADS="4",
        ANPR_API_ACCESS_LOG="0",
    )
    seed_demo_users(UserStore(es_client, prefix))  # one user per role, as `anpr users seed-demo`

    services.start("workers", "workers", "--health-port", str(health_port))
    services.start("indexer", "indexer", "--metrics-port", "0")
    # gunicorn's metrics directory under the test's tmp dir (only the API uses multiprocess mode).
    (tmp_path / "metrics").mkdir()  # the `anpr api` process itself registers metrics there first
    metrics = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    services.start("api", "api", "--workers", "1", env=metrics, grace_s=3.0)

    api = Api(api_port)
    _wait("the API", lambda: api.call("GET", "/ready")[0] == 200, STARTUP_S, services)

    def camera_health() -> list[dict[str, Any]]:
        conn = http.client.HTTPConnection("127.0.0.1", health_port, timeout=5)
        try:
            conn.request("GET", "/health")
            return list(json.loads(conn.getresponse().read())["cameras"])
        finally:
            conn.close()

    def feeds_up() -> bool:
        cameras = camera_health()
        return len(cameras) == 3 and all(c["state"] == "up" and c["processed_frames"] > 0 for c in cameras)

    _wait("the workers' three feeds", feeds_up, STARTUP_S, services)

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
            health: Any = [{k: c[k] for k in keys} for c in camera_health()]
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
