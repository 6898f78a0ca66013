"""A vehicle whose track breaks up at one camera is one read, not two; a later pass is a new read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from anpr_core.cameras import Camera
from anpr_core.reads import PlateRead
from lpr.workers.worker import PlateWorker

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CAMERA = Camera(id="C01", name="온양온천역", road="온천대로", direction="북→남", lat=36.78, lon=127.0,
                stream_url="http://127.0.0.1:8554/cam/C01.mjpg")  # fmt: skip


@dataclass
class FakePlate:
    text: str
    box: tuple[float, float, float, float] = (40.0, 20.0, 100.0, 40.0)  # inside the 160×90 frames
    score: float = 0.9
    confidence: float | None = 0.95
    alternatives: tuple[tuple[str, float], ...] = ()
    crop: np.ndarray = field(default_factory=lambda: np.full((40, 100, 3), 200, np.uint8))


class ScriptedReader:
    """Each frame carries the plate text to 'see' in its first pixel's index into `plates`."""

    def __init__(self, plates: list[str | None]) -> None:
        self.plates = plates

    def read_frames(self, frames: Sequence[np.ndarray]) -> list[list[FakePlate]]:
        out = []
        for frame in frames:
            text = self.plates[int(frame[0, 0, 0])]
            out.append([] if text is None else [FakePlate(text)])
        return out


class ListJournal:
    def __init__(self) -> None:
        self.reads: list[PlateRead] = []

    def append_many(self, records: list[PlateRead]) -> None:
        self.reads.extend(records)


def drive(worker: PlateWorker, timeline: list[int], fps: float = 4) -> None:
    for i, code in enumerate(timeline):
        frame = np.zeros((90, 160, 3), np.uint8)
        frame[0, 0, 0] = code
        frame[10:, :, :] = (i * 37) % 255  # motion on every frame: the gate never skips one
        worker.process([(CAMERA.id, T0 + timedelta(seconds=i / fps), frame)])
    worker.tick(T0 + timedelta(seconds=len(timeline) / fps + 30))


def test_a_broken_track_of_one_vehicle_is_one_read_and_a_later_pass_is_another(tmp_path: Path) -> None:
    plates: list[str | None] = [None, "12가3456", "12가3458", "34나5678"]
    journal = ListJournal()
    worker = PlateWorker([CAMERA], ScriptedReader(plates), journal, tmp_path, repeat_window_s=10)
    timeline = (
        [1] * 6 + [0] * 6          # 12가3456 in view, then gone long enough to end its track
        + [1] * 3 + [0] * 6        # the same car seen again 3 s later (a track that broke up)
        + [2] * 3 + [0] * 6        # read once more with one character wrong
        + [3] * 5 + [0] * 6        # another car
        + [0] * 40 + [1] * 5 + [0] * 6  # 12가3456 again after 10 s: a new pass
    )  # fmt: skip
    drive(worker, timeline)
    assert [r.plate for r in journal.reads] == ["12가3456", "34나5678", "12가3456"]
    assert worker.states["C01"].health.repeats_suppressed == 2


def test_without_a_window_every_track_is_a_read(tmp_path: Path) -> None:
    journal = ListJournal()
    worker = PlateWorker([CAMERA], ScriptedReader([None, "12가3456"]), journal, tmp_path, repeat_window_s=0)
    drive(worker, [1] * 6 + [0] * 6 + [1] * 3 + [0] * 6)
    assert [r.plate for r in journal.reads] == ["12가3456", "12가3456"]


class EdgeReader(ScriptedReader):
    """Code 1: the plate in full view; code 4: a cut-off plate at the bottom edge, misread."""

    def read_frames(self, frames: Sequence[np.ndarray]) -> list[list[FakePlate]]:
        out = []
        for frame in frames:
            code = int(frame[0, 0, 0])
            if code == 4:
                out.append([FakePlate("174사1192", box=(40.0, 75.0, 100.0, 90.0), confidence=0.9)])
            else:
                out.append([] if self.plates[code] is None else [FakePlate(self.plates[code])])
        return out


def test_a_plate_cut_by_the_picture_edge_does_not_vote_or_make_a_read(tmp_path: Path) -> None:
    journal = ListJournal()
    worker = PlateWorker([CAMERA], EdgeReader([None, "02버1183"]), journal, tmp_path)
    # The vehicle in view, its track ends, then its cut-off plate at the bottom edge is misread.
    drive(worker, [1] * 6 + [0] * 6 + [4] * 2 + [0] * 6)
    assert [r.plate for r in journal.reads] == ["02버1183"]


class LaneReader(ScriptedReader):
    """Code 1, 2: one plate misread two ways at x 40–60 (a track broken in two); code 3: a plate
    in the next lane (x 110–130); all small boxes, so the frames' 160 px hold two lanes."""

    def read_frames(self, frames: Sequence[np.ndarray]) -> list[list[FakePlate]]:
        boxes = {1: (40.0, 20.0, 60.0, 27.0), 2: (40.0, 60.0, 60.0, 67.0), 3: (110.0, 60.0, 130.0, 67.0)}
        return [
            [FakePlate(self.plates[code], box=boxes[code])] if (code := int(f[0, 0, 0])) in boxes else []
            for f in frames
        ]


def test_the_rest_of_a_broken_track_in_the_same_lane_is_no_second_read_but_the_next_lane_is(
    tmp_path: Path,
) -> None:
    journal = ListJournal()
    plates: list[str | None] = [None, "12가3456", "72나8450", "34나5678"]
    worker = PlateWorker([CAMERA], LaneReader(plates), journal, tmp_path, repeat_window_s=10)
    # At 4 fps: the first half, two frames without it (its track ends), the second half reading
    # otherwise 0.75 s after the first's last sighting, gone; as long after, a car in the next lane.
    drive(worker, [1] * 4 + [0] * 2 + [2] * 3 + [0] * 2 + [3] * 3 + [0] * 8)
    assert [r.plate for r in journal.reads] == ["12가3456", "34나5678"]
    assert worker.states["C01"].health.repeats_suppressed == 1
