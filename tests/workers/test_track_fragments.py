"""The rest of a vehicle whose track broke up is not a second read: a track that starts within
0.8 s of a read's last sighting in its lane, or a lone sighting within 1.5 s (a leaving plate
shown once more at a few detector frames a second); a vehicle that follows in the lane, seen in
several frames, or a lone sighting in another lane, is read."""

from __future__ import annotations

from pathlib import Path

from lpr.workers.worker import PlateWorker
from tests.workers.test_parked_plates import Street, _drive, _passing_car
from tests.workers.test_repeat_suppression import CAMERA, ListJournal


def _reads(scene: dict[int, list], tmp_path: Path) -> list[str]:
    journal = ListJournal()
    _drive(PlateWorker([CAMERA], Street(scene), journal, tmp_path, repeat_window_s=10), 40)
    return [r.plate for r in journal.reads]


def test_a_lone_sighting_of_a_leaving_plate_is_not_a_second_read(tmp_path: Path) -> None:
    scene = _passing_car("35로6866", 4, 6)  # last seen at frame 9 (y 55)
    scene[14] = [("35무4844", (10.0, 66.0, 40.0, 73.0))]  # 1.25 s later, lower in the lane, misread
    assert _reads(scene, tmp_path) == ["35로6866"]


def test_a_lone_sighting_in_another_lane_is_read(tmp_path: Path) -> None:
    scene = _passing_car("35로6866", 4, 6)
    scene[14] = [("12가3456", (115.0, 30.0, 145.0, 37.0))]  # four plate widths across
    assert _reads(scene, tmp_path) == ["35로6866", "12가3456"]


def test_a_vehicle_that_follows_in_the_lane_is_read(tmp_path: Path) -> None:
    scene = _passing_car("35로6866", 4, 6)
    scene.update(_passing_car("12가3456", 14, 6))  # 1.25 s later, seen in six frames
    assert _reads(scene, tmp_path) == ["35로6866", "12가3456"]
