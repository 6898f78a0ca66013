"""Per round, cameras with a vehicle in view always get the detector; new motion takes turns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from anpr_core.cameras import Camera
from lpr.workers.worker import PlateWorker
from tests.workers.test_repeat_suppression import FakePlate, ListJournal

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CAMERAS = [
    Camera(id=f"C0{i}", name=f"camera {i}", road="온천대로", direction="북→남", lat=36.78,
           lon=127.0 + i / 100, stream_url=f"http://127.0.0.1:8554/cam/C0{i}.mjpg")
    for i in range(1, 5)
]  # fmt: skip


class CountingReader:
    """Sees a plate only on C01; remembers which cameras' frames reached the detector."""

    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    def read_frames(self, frames: Sequence[np.ndarray]) -> list[list[FakePlate]]:
        self.seen.append([int(f[0, 0, 0]) for f in frames])
        return [[FakePlate("12가3456")] if f[0, 0, 0] == 1 else [] for f in frames]


def frame(camera: int, tick: int) -> np.ndarray:
    image = np.zeros((90, 160, 3), np.uint8)
    image[10:, :, :] = (tick * 53) % 255  # a different picture every time: motion on every camera
    image[0, 0, 0] = camera
    return image


def test_the_tracked_camera_runs_every_round_and_new_motion_takes_turns(tmp_path: Path) -> None:
    reader = CountingReader()
    worker = PlateWorker(CAMERAS, reader, ListJournal(), tmp_path, max_batch=16)
    worker.process([(c.id, T0, frame(i + 1, 0)) for i, c in enumerate(CAMERAS)])  # first sight: all run
    for tick in range(1, 4):
        at = T0 + timedelta(seconds=tick * 0.25)
        reader.seen.clear()
        worker.process([(c.id, at, frame(i + 1, tick)) for i, c in enumerate(CAMERAS)], max_new=1)
        (called,) = reader.seen
        assert called[0] == 1, "C01 has a vehicle in view: it goes first"
        assert len(called) == 2
    deferred = {c.id: worker.states[c.id].health.deferred_frames for c in CAMERAS}
    assert deferred["C01"] == 0
    assert sorted(deferred[c] for c in ("C02", "C03", "C04")) == [2, 2, 2]  # each ran once in three rounds


def test_a_detect_rate_cap_skips_a_cameras_frames_until_its_interval_has_passed(tmp_path: Path) -> None:
    reader = CountingReader()
    worker = PlateWorker(CAMERAS[:1], reader, ListJournal(), tmp_path, detect_fps=4)
    for tick in range(12):  # one second of a 12 fps camera with a vehicle in view
        worker.process([("C01", T0 + timedelta(seconds=tick / 12), frame(1, tick))])
    # Frames 0, 3, 6, 9: one every 0.25 s of capture time, the vehicle still tracked throughout.
    assert len(reader.seen) == 4 and worker.states["C01"].tracker.active
    assert worker.stage_cpu_s["detect_frames"] == 4
