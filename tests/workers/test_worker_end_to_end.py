"""Vehicles pass a simulated camera; the worker, with the real detector and recogniser, makes
exactly one read per pass, durable in the journal with its crop, and a replay adds no duplicate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from anpr.simulator.scene import CameraScene
from anpr_core.cameras import Camera
from anpr_core.journal import ReadJournal
from lpr.workers.worker import PlateWorker

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CAMERA = Camera(
    id="C07", name="충무교차로", road="충무로", direction="서→동", lat=36.785, lon=127.008,
    stream_url="http://127.0.0.1:8554/cam/C07.mjpg",
)  # fmt: skip


@pytest.fixture(scope="module")
def reader():
    from anpr_core.settings import VisionSettings
    from lpr.pipeline import PlateReader
    from lpr.recognizer import RecognizerUnavailable, load_recognizer

    try:
        return PlateReader.for_workers(VisionSettings(detector_precision="fp32"), load_recognizer(threads=2))
    except (RecognizerUnavailable, FileNotFoundError) as exc:
        pytest.skip(f"models not available: {exc}")


def _journal_lines(directory: Path) -> list[dict]:
    return [json.loads(line.split(" ", 1)[1]) for p in sorted(directory.glob("seg-*.jsonl")) for line in
            p.read_text().splitlines()]  # fmt: skip


def _drive(worker: PlateWorker, scene: CameraScene, seconds: float, fps: float = 8) -> None:
    for i in range(int(seconds * fps)):
        at = T0 + timedelta(seconds=i / fps)
        worker.process([(CAMERA.id, at, scene.frame_at(at))])
    worker.tick(T0 + timedelta(seconds=seconds + 5))


def test_each_pass_becomes_exactly_one_read_with_its_crop(reader, tmp_path: Path) -> None:
    scene = CameraScene(CAMERA.id, seed=3, start=T0, gap_s=(2.0, 3.0))
    journal_dir = tmp_path / "journal"
    worker = PlateWorker([CAMERA], reader, ReadJournal(journal_dir), tmp_path / "crops")
    _drive(worker, scene, 14)
    # A vehicle still in view when the frames stop is read too (tick ends its track).
    truth = [p for p in scene.passes if p.enter <= T0 + timedelta(seconds=14)]
    assert len(truth) >= 2
    reads = _journal_lines(journal_dir)
    assert [r["plate"] for r in reads] == [p.plate for p in truth]
    for read, p in zip(reads, truth, strict=True):
        assert read["camera_id"] == "C07" and read["direction"] == "서→동"
        assert read["location"] == {"lat": 36.785, "lon": 127.008}
        assert p.enter - timedelta(seconds=0.3) <= datetime.fromisoformat(read["first_seen"])
        assert datetime.fromisoformat(read["last_seen"]) <= p.leave + timedelta(seconds=0.3)
        assert (tmp_path / "crops" / read["crop_ref"]).stat().st_size > 500
        assert read["frames"] >= 3


def test_replaying_the_same_frames_after_a_crash_gives_the_same_read_ids(reader, tmp_path: Path) -> None:
    ids = []
    for run in range(2):
        scene = CameraScene(CAMERA.id, seed=5, start=T0, gap_s=(2.0, 3.0))
        worker = PlateWorker([CAMERA], reader, ReadJournal(tmp_path / f"j{run}"), tmp_path / "crops")
        _drive(worker, scene, 8)
        ids.append([r["read_id"] for r in _journal_lines(tmp_path / f"j{run}")])
    assert ids[0] and ids[0] == ids[1]  # the indexer uses read_id as document id: no duplicate


def test_an_idle_camera_costs_no_detector_call(reader, tmp_path: Path) -> None:
    scene = CameraScene(CAMERA.id, seed=3, start=T0, gap_s=(600.0, 700.0))
    worker = PlateWorker([CAMERA], reader, ReadJournal(tmp_path / "j"), tmp_path / "crops")
    first = scene.passes_until(T0 + timedelta(hours=1))[0]
    idle_start = first.leave + timedelta(seconds=2)
    for i in range(40):
        at = idle_start + timedelta(seconds=i / 8)
        worker.process([(CAMERA.id, at, scene.frame_at(at))])
    assert worker.states["C07"].health.processed_frames <= 1  # only the first frame, to learn the scene
