"""Vehicles that drive a route through several cameras: the yardstick for route queries."""

from __future__ import annotations

import argparse
import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from anpr.simulator.cli import add_arguments, build_server
from anpr.simulator.journeys import (
    JourneyError,
    JourneySpec,
    RoadTraffic,
    distance_m,
    parse_journey,
    road_routes,
    schedule_journey,
    travel_times,
)
from anpr.simulator.scene import CameraScene
from anpr.simulator.server import FeedHub
from anpr_core.cameras import load_camera_registry
from anpr_core.settings import PROJECT_ROOT

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
REGISTRY = load_camera_registry(PROJECT_ROOT / "config" / "cameras.toml")


def test_a_journey_spec_names_the_plate_the_cameras_and_optionally_the_time_between() -> None:
    assert parse_journey("123가4567:C03,C01,C02@4") == JourneySpec("123가4567", ("C03", "C01", "C02"), 4.0)
    assert parse_journey(" 12 가 3456 :C01, C02") == JourneySpec("12가3456", ("C01", "C02"), None)
    for bad, why in [
        ("123가4567", "PLATE:CAM1"),
        ("123가4567:C01", "at least two cameras"),
        ("123가4567:C01,C01", "C01 twice in a row"),
        ("123가4567:C01,C02@-1", "0 or more"),
        ("123가4567:C01,C02@soon", "not a number"),
        ("ABC:C01,C02", "journey 'ABC:C01,C02'"),
    ]:
        with pytest.raises(JourneyError, match=why):
            parse_journey(bad)


def test_travel_time_is_distance_over_speed_compressed_by_the_time_scale() -> None:
    positions = {"A": (36.780, 127.0), "B": (36.789, 127.0)}  # 1.0 km apart, north–south
    assert distance_m(positions["A"], positions["B"]) == pytest.approx(1000.8, abs=1)
    spec = JourneySpec("123가4567", ("A", "B", "A"))
    assert travel_times(spec, positions, speed_kmh=50) == pytest.approx([72.06, 72.06], abs=0.1)
    assert travel_times(spec, positions, speed_kmh=50, time_scale=0.05) == pytest.approx([3.6, 3.6], abs=0.01)
    assert travel_times(JourneySpec("123가4567", ("A", "X"), 2.5), {}) == [2.5]
    with pytest.raises(JourneyError, match="no position for X"):
        travel_times(JourneySpec("123가4567", ("A", "X")), positions)


def _scenes(*ids: str, gap: tuple[float, float] = (3600.0, 3600.0)) -> dict[str, CameraScene]:
    return {cid: CameraScene(cid, 1, T0, gap_s=gap) for cid in ids}


def test_one_vehicle_passes_each_camera_in_order_with_the_travel_time_between() -> None:
    scenes = _scenes("C01", "C02", "C03")
    spec = parse_journey("123가4567:C03,C01,C02@4")
    passes = schedule_journey(scenes, spec, T0 + timedelta(seconds=5), [4.0, 4.0], "J1", random.Random(1))
    assert [(p.camera_id, p.leg) for p in passes] == [("C03", 1), ("C01", 2), ("C02", 3)]
    for a, b in itertools.pairwise(passes):
        assert (b.enter - a.leave).total_seconds() == pytest.approx(4.0)
    assert len({p.vehicle_colour for p in passes}) == 1  # the same car everywhere
    # Each camera shows the booked vehicle when its time comes, and writes it in its ground truth.
    for p in passes:
        scene = scenes[p.camera_id]
        assert scene.active(p.enter + (p.leave - p.enter) / 2) == [scene.passes[0]]
        row = scene.passes[0].truth()
        assert row["plate"] == "123가4567" and row["journey_id"] == "J1" and row["leg"] == p.leg
        assert row["pass_id"] == f"{p.camera_id}-00001" and row["enter"] == p.enter.isoformat()


def test_random_traffic_makes_way_and_a_camera_never_shows_two_vehicles_at_once() -> None:
    dense = {cid: CameraScene(cid, 1, T0, gap_s=(0.5, 1.0), crossing_s=(0.5, 0.8)) for cid in ("C01", "C02")}
    plain = CameraScene("C02", 1, T0, gap_s=(0.5, 1.0), crossing_s=(0.5, 0.8))
    spec = parse_journey("123가4567:C01,C02@3")
    schedule_journey(dense, spec, T0 + timedelta(seconds=10), [3.0], "J1", random.Random(1))
    passes = dense["C01"].passes_until(T0 + timedelta(minutes=2))
    journey = [p for p in passes if p.journey_id == "J1"]
    assert len(journey) == 1 and len(passes) > 60
    for a, b in itertools.pairwise(passes):
        assert (b.enter - a.leave).total_seconds() >= 0.5
    i = passes.index(journey[0])
    assert (journey[0].enter - passes[i - 1].leave).total_seconds() >= 1.0  # body lead-in + clear road
    # Traffic is still reproducible: the same seed gives the same random vehicles up to the journey.
    before = [p.plate for p in dense["C02"].passes_until(T0 + timedelta(seconds=10))]
    assert before == [p.plate for p in plain.passes_until(T0 + timedelta(seconds=10))]


def test_a_journey_that_would_overlap_another_vehicle_books_nothing() -> None:
    scenes = _scenes("C01", "C02", "C03")
    rng = random.Random(1)
    schedule_journey(
        scenes, parse_journey("123가4567:C02,C03@2"), T0 + timedelta(seconds=20), [2.0], "J1", rng
    )
    clash = parse_journey("45나6789:C01,C02@1")  # reaches C02 while the first car is in view there
    with pytest.raises(JourneyError, match="C02 has 123가4567 in view"):
        schedule_journey(scenes, clash, T0 + timedelta(seconds=16), [1.0], "J2", rng)
    assert scenes["C01"].passes_until(T0 + timedelta(minutes=1)) == []  # not half-booked
    with pytest.raises(JourneyError, match="no simulated camera C09"):
        schedule_journey(scenes, parse_journey("45나6789:C01,C09@1"), T0, [1.0], "J3", rng)


def test_road_routes_order_each_roads_cameras_along_it() -> None:
    routes = road_routes(REGISTRY.values())
    assert len(routes) >= 10 and all(len(r) >= 2 for r in routes)
    for route in routes:
        cameras = [REGISTRY[c] for c in route]
        assert len({c.road for c in cameras}) == 1
        lats, lons = [c.lat for c in cameras], [c.lon for c in cameras]
        assert lats == sorted(lats) or lons == sorted(lons)
    assert ("C14", "C05", "C03") in routes  # 온천대로, south to north


def test_generated_road_journeys_drive_consecutive_cameras_of_one_road() -> None:
    simulated = [c for c in REGISTRY.values() if c.id in {f"C{i:02d}" for i in range(1, 46)}]
    routes = road_routes(simulated)
    positions = {c.id: (c.lat, c.lon) for c in simulated}
    scenes = {c.id: CameraScene(c.id, 1, T0, gap_s=(20.0, 60.0)) for c in simulated}
    traffic = RoadTraffic(routes, positions, per_hour=600, seed=1, start=T0, time_scale=0.1)
    booked = []
    for second in range(0, 600, 2):
        booked += traffic.schedule_until(scenes, T0 + timedelta(seconds=second))
    assert len(traffic.scheduled) >= 60  # about 100 an hour is 600 / 10 minutes, a few found it busy
    by_road = {frozenset(r): r for r in routes}
    for journey_id, spec in traffic.scheduled:
        route = next(r for cams, r in by_road.items() if set(spec.cameras) <= cams)
        i = route.index(spec.cameras[0])
        forward, backward = route[i : i + len(spec.cameras)], route[i - len(spec.cameras) + 1 : i + 1][::-1]
        assert spec.cameras in (forward, backward), (journey_id, spec, route)
        legs = sorted((p for p in booked if p.journey_id == journey_id), key=lambda p: p.leg or 0)
        assert [p.camera_id for p in legs] == list(spec.cameras)
        assert all(a.leave < b.enter for a, b in itertools.pairwise(legs))


def test_the_cli_books_journeys_and_the_hub_writes_each_leg_to_the_ground_truth(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--cameras", "5", "--port", "0", "--gap", "3600", "3600", "--truth", str(tmp_path / "truth.jsonl"),
         "--journey", "123가4567:C04,C01", "--journey", "27나3958:C02,C03,C05@1.5",
         "--journey-start", "1", "--journey-interval", "2", "--time-scale", "0.02"]
    )  # fmt: skip
    server = build_server(args)  # not started: the test drives the clock
    try:
        hub = server.hub
        (_, first, legs_a), (_, second, legs_b) = hub.journeys
        assert first.travel_s is None and second.travel_s == 1.5
        # 시민로: C04 → C01 is 963 m, at 50 km/h 69 s, compressed 50×.
        gap = (legs_a[1].enter - legs_a[0].leave).total_seconds()
        assert gap == pytest.approx(distance_m((36.7812, 127.0065), (36.7898, 127.002)) / (50 / 3.6) * 0.02)
        assert legs_b[0].enter - legs_a[0].enter == timedelta(seconds=2)
        start = legs_a[0].enter - timedelta(seconds=1)
        frames = []
        for tick in range(20 * 4):
            hub.step(start + timedelta(seconds=tick / 4))
            frames.append(hub.frames["C01"])
    finally:
        server.httpd.server_close()
    rows = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    route = {
        plate: [(r["camera_id"], r["leg"]) for r in rows if r["plate"] == plate and r.get("journey_id")]
        for plate in ("123가4567", "27나3958")
    }
    assert route == {"123가4567": [("C04", 1), ("C01", 2)], "27나3958": [("C02", 1), ("C03", 2), ("C05", 3)]}
    assert len({r["journey_id"] for r in rows}) == 2 and len(rows) == 5  # no other traffic yet
    assert len(set(frames)) > 2  # C01 went from idle to a passing car and back
    assert np.frombuffer(frames[0], np.uint8).size > 1000


def test_the_cli_rejects_a_bad_journey_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--journey", "123가4567:C01"])
    assert "at least two cameras" in capsys.readouterr().err


def test_hub_books_a_journey_while_running(tmp_path: Path) -> None:
    hub = FeedHub(_scenes("C01", "C02"), fps=4, truth_path=tmp_path / "t.jsonl")
    hub.step(T0)
    passes = hub.add_journey(parse_journey("123가4567:C02,C01@1"), T0 + timedelta(seconds=2), [1.0])
    assert [p.camera_id for p in passes] == ["C02", "C01"] and hub.journeys[0][0] == "J0001"
    for tick in range(1, 60):
        hub.step(T0 + timedelta(seconds=tick / 4))
    rows = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [(r["camera_id"], r["leg"]) for r in rows] == [("C02", 1), ("C01", 2)]
