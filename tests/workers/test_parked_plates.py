"""A parked car in view of a lane camera is read once: not again each time passing traffic wakes
the detector, nor counted against the vehicles driving by; once it has left, the spot is free."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np

from lpr.workers.parked import PARKED_MIN_S
from lpr.workers.worker import PlateWorker
from tests.workers.test_repeat_suppression import CAMERA, T0, FakePlate, ListJournal

PARKED_BOX = (120.0, 60.0, 150.0, 70.0)  # a plate that never moves, in a 160×90 frame


def _plate_crop(text: str) -> np.ndarray:
    """A crop that looks the same every time for one plate, and unlike any other plate's."""
    rng = np.random.default_rng(sum(ord(c) * 31**k for k, c in enumerate(text)) % 2**32)
    return np.repeat(rng.integers(0, 255, (40, 100, 1), dtype=np.uint8), 3, axis=2)


class Street:
    """Frame i shows the plates `scene[i]`: (text, box) pairs, or (text, box, look) for a plate
    read as `text` that looks like plate `look`."""

    def __init__(self, scene: dict[int, list[tuple[str, tuple[float, float, float, float]]]]) -> None:
        self.scene = scene

    def read_frames(self, frames: Sequence[np.ndarray]) -> list[list[FakePlate]]:
        index = [int(f[0, 0, 0]) * 256 + int(f[0, 0, 1]) for f in frames]
        plates = [self.scene.get(i, []) for i in index]
        return [[FakePlate(p[0], p[1], crop=_plate_crop(p[-1] if len(p) > 2 else p[0])) for p in seen]
                for seen in plates]  # fmt: skip


def _drive(worker: PlateWorker, frames: int, fps: float = 4) -> None:
    for i in range(frames):
        frame = np.zeros((90, 160, 3), np.uint8)
        frame[0, 0, 0], frame[0, 0, 1] = divmod(i, 256)
        frame[10:, :, :] = (i * 37) % 255  # motion on every frame
        worker.process([(CAMERA.id, T0 + timedelta(seconds=i / fps), frame)])
    worker.tick(T0 + timedelta(seconds=frames / fps + 30))


def _passing_car(text: str, start: int, frames: int = 8) -> dict[int, list[tuple[str, tuple[float, ...]]]]:
    """A plate driving down the left lane, 10 px a frame."""
    return {start + k: [(text, (10.0, 5.0 + 10 * k, 40.0, 12.0 + 10 * k))] for k in range(frames)}


def test_a_parked_plate_is_read_once_among_passing_traffic(tmp_path: Path) -> None:
    # 40 s at 4 fps: a small far plate the detector finds in 3 frames of 4 (its track breaks up
    # every 3 s) and reads differently each time it comes back; three cars drive past it.
    misreads = ["47누5441", "47수1441", "47아1741", "17누8441"]
    scene: dict[int, list] = {
        i: [(misreads[i // 12 % 4], PARKED_BOX, "47누5441")] for i in range(160) if i % 12 < 9
    }
    for text, start in (("12가3456", 20), ("34나5678", 70), ("56다7890", 130)):
        for i, plates in _passing_car(text, start).items():
            scene[i] = scene.get(i, []) + plates
    journal = ListJournal()
    worker = PlateWorker([CAMERA], Street(scene), journal, tmp_path, repeat_window_s=10)
    _drive(worker, 160)
    plates = [r.plate for r in journal.reads]
    assert sorted(plates) == sorted(["47누5441", "12가3456", "34나5678", "56다7890"]), plates
    parked = next(r for r in journal.reads if r.plate == "47누5441")
    assert (parked.last_seen - parked.first_seen).total_seconds() >= PARKED_MIN_S  # read once it stood still
    assert worker.states["C01"].health.parked_sightings > 80
    # Nothing moves but the parked plate: no track is kept alive, so the detector rests.
    assert not worker.states["C01"].tracker.active


def test_the_next_car_on_a_parked_cars_spot_is_read(tmp_path: Path) -> None:
    scene: dict[int, list] = {i: [("47누5441", PARKED_BOX)] for i in range(40)}  # 10 s, then gone
    scene.update({i: [("89라1234", PARKED_BOX)] for i in range(48, 88)})  # 2 s later, another
    journal = ListJournal()
    worker = PlateWorker([CAMERA], Street(scene), journal, tmp_path, repeat_window_s=10)
    _drive(worker, 130)
    assert [r.plate for r in journal.reads] == ["47누5441", "89라1234"]


def test_a_car_that_waited_at_a_light_and_drives_off_is_one_read(tmp_path: Path) -> None:
    # 60 s standing (longer than the repeat window), then it drives off down the frame.
    scene: dict[int, list] = {i: [("12가3456", (60.0, 20.0, 90.0, 27.0))] for i in range(240)}
    scene.update({240 + k: [("12가3456", (60.0, 20.0 + 8 * k, 90.0, 27.0 + 8 * k))] for k in range(8)})
    journal = ListJournal()
    worker = PlateWorker([CAMERA], Street(scene), journal, tmp_path, repeat_window_s=10)
    _drive(worker, 260)
    assert [r.plate for r in journal.reads] == ["12가3456"]
    assert worker.states["C01"].health.repeats_suppressed == 1


def test_cars_queueing_at_a_stop_line_are_each_read(tmp_path: Path) -> None:
    # Three cars, each waits 8 s on the same spot at the line and drives off; the next pulls up
    # 1 s later to the same place.
    scene: dict[int, list] = {}
    for n, text in enumerate(["12가3456", "34나5678", "56다7890"]):
        start = n * 44
        scene.update({start + i: [(text, (60.0, 40.0, 90.0, 47.0))] for i in range(32)})
        scene.update({start + 32 + k: [(text, (60.0, 48.0 + 8 * k, 90.0, 55.0 + 8 * k))] for k in range(4)})
    journal = ListJournal()
    worker = PlateWorker([CAMERA], Street(scene), journal, tmp_path, repeat_window_s=10)
    _drive(worker, 140)
    assert [r.plate for r in journal.reads] == ["12가3456", "34나5678", "56다7890"]


def test_a_parked_plate_found_only_now_and_then_is_read_once(tmp_path: Path) -> None:
    # The detector finds it in 2 frames of every 6 (a score near its threshold): its tracks last
    # a quarter of a second, never the 1.5 s of a parked track, and each reads differently.
    misreads = ["47누5441", "47수1441", "47아1741", "17누8441", "13누1471"]
    scene: dict[int, list] = {
        i: [(misreads[i // 6 % 5], PARKED_BOX, "47누5441")] for i in range(160) if i % 6 < 2
    }
    for i, plates in _passing_car("12가3456", 60).items():
        scene[i] = scene.get(i, []) + plates
    journal = ListJournal()
    worker = PlateWorker([CAMERA], Street(scene), journal, tmp_path, repeat_window_s=10)
    _drive(worker, 160)
    assert [r.plate for r in journal.reads] == ["47누5441", "12가3456"]
