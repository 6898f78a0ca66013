"""The simulator is the benchmark's yardstick: reproducible traffic, honest ground truth, real MJPEG."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr.simulator.scene import CameraScene, Conditions
from anpr.simulator.server import FeedHub, SimulatorServer
from anpr_core.plates import parse_plate

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_traffic_is_reproducible_and_within_the_configured_gaps() -> None:
    a = CameraScene("C01", 1, T0).passes_until(T0 + timedelta(hours=1))
    b = CameraScene("C01", 1, T0).passes_until(T0 + timedelta(hours=1))
    assert [p.plate for p in a] == [p.plate for p in b] and len(a) > 40
    gaps = [(n.enter - p.leave).total_seconds() for p, n in itertools.pairwise(a)]
    assert min(gaps) >= 10 and max(gaps) <= 60
    assert all(parse_plate(p.plate).text == p.plate for p in a)
    assert [p.plate for p in CameraScene("C02", 1, T0).passes_until(T0 + timedelta(hours=1))] != [
        p.plate for p in a
    ]


def test_idle_frames_are_identical_and_a_passing_vehicle_changes_the_frame() -> None:
    scene = CameraScene("C01", 1, T0)
    p = scene.passes_until(T0 + timedelta(minutes=5))[0]
    idle_a = scene.frame_at(p.enter - timedelta(seconds=0.8))
    idle_b = scene.frame_at(p.leave + timedelta(seconds=0.2))
    middle = scene.frame_at(p.enter + (p.leave - p.enter) / 2)
    assert np.array_equal(idle_a, idle_b)
    assert np.abs(middle.astype(int) - idle_a).mean() > 5


def test_night_blur_and_rain_change_the_picture() -> None:
    clean = CameraScene("C01", 1, T0).frame_at(T0)
    night = CameraScene("C01", 1, T0, conditions=Conditions(night=True)).frame_at(T0)
    rain = CameraScene("C01", 1, T0, conditions=Conditions(rain=True, blur=1.5)).frame_at(T0)
    assert night.mean() < clean.mean() * 0.5
    assert not np.array_equal(rain, clean)


def test_serves_mjpeg_per_camera_and_writes_the_truth_of_passes_that_left(tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    start = datetime.now(UTC)
    scenes = {
        cid: CameraScene(cid, 1, start, gap_s=(0.5, 1.0), crossing_s=(0.5, 0.8)) for cid in ("C01", "C02")
    }
    server = SimulatorServer(FeedHub(scenes, fps=10, truth_path=truth), port=0).start()
    try:
        cap = cv2.VideoCapture(server.url("C02"), cv2.CAP_FFMPEG)
        frames = [cap.read() for _ in range(5)]
        cap.release()
        assert all(ok and f.shape == (360, 640, 3) for ok, f in frames)
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/cam/C99.mjpg", timeout=2)
        deadline = time.monotonic() + 5
        while server.hub.passes_written < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.close()
    rows = [json.loads(line) for line in truth.read_text().splitlines()]
    assert rows and {r["camera_id"] for r in rows} <= {"C01", "C02"}
    assert all(datetime.fromisoformat(r["leave"]) > datetime.fromisoformat(r["enter"]) for r in rows)
