"""Two-line plates (`서울 12` over `가 3456`) through the workers' pipeline: the crop keeps the
top row, the pipeline also reads the plate laid out as one line, the vote and the tracker treat
a reading that lost the region as the same plate."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from anpr.simulator.scene import sized_plate
from anpr_core.plates import parse_plate
from anpr_core.render.plate import render_plate
from anpr_core.render.styles import PlateStyle
from lpr.detector import Detection
from lpr.pipeline import PlateReader, crop_plate, two_line_as_one
from lpr.recognizer import PlateReading
from lpr.workers.tracker import IouTracker, Observation, Track, readings_agree
from lpr.workers.voter import vote

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def scene_with_plate(text: str, style: PlateStyle, width: int = 110, seed: int = 3):
    """A 640×360 frame like the simulator's: a vehicle body with the rendered plate on it."""
    rendered = render_plate(parse_plate(text), style, random.Random(seed)).image
    plate = sized_plate(rendered, width)
    frame = np.full((360, 640, 3), 90, np.uint8)
    cv2.rectangle(frame, (150, 60), (500, 300), (40, 120, 200), -1)
    y, x = 150, 270
    frame[y : y + plate.shape[0], x : x + plate.shape[1]] = plate
    return frame, (float(x), float(y), float(x + plate.shape[1]), float(y + plate.shape[0]))


class BoxDetector:
    """Stands in for the YOLO detector: the plate's true box in every frame."""

    def __init__(self, box: tuple[float, float, float, float]) -> None:
        self.box = box

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        return [[Detection(self.box, 0.9)] for _ in frames]


class RecordingRecognizer:
    """Reads a crop wider than 1.8 : 1 (the one-line layout) right, else as a region-less misread."""

    def __init__(self) -> None:
        self.inputs: list[np.ndarray] = []

    def read(self, crops: Sequence[np.ndarray]) -> list[PlateReading]:
        self.inputs += list(crops)
        return [
            PlateReading("서울12가3456", 0.9, (), "")
            if c.shape[1] > 1.8 * c.shape[0]
            else PlateReading("12가3456", 0.2, (), "")
            for c in crops
        ]


def test_the_crop_of_a_two_line_plate_keeps_its_top_row() -> None:
    frame, box = scene_with_plate("서울12가3456", PlateStyle.GREEN_TWO_LINE)
    crop = crop_plate(frame, box)
    x1, y1, x2, y2 = (int(v) for v in box)
    # The crop holds the whole plate with a margin above and below: no row of it is cut.
    assert crop.shape[0] >= (y2 - y1) + 2 * int(0.2 * (y2 - y1))
    plate_rows = frame[y1:y2, x1:x2]
    found = cv2.matchTemplate(crop, plate_rows, cv2.TM_SQDIFF)
    assert found.min() == 0


def test_two_line_plate_is_laid_out_as_one_line_in_reading_order() -> None:
    frame, box = scene_with_plate("서울12가3456", PlateStyle.GREEN_TWO_LINE)
    line = two_line_as_one(frame, box)
    assert line is not None
    h, w = line.shape[:2]
    assert w > 1.8 * h  # one line with its margin (the two-line crop is about 1.5 : 1)
    grey = cv2.cvtColor(line, cv2.COLOR_BGR2GRAY)
    core = grey[h // 3 : 2 * h // 3, w // 8 : 7 * w // 8]
    # White-on-green is inverted: dark characters on a light plate, as most training plates.
    median = np.median(core)
    assert (core < median - 40).mean() > 5 * (core > median + 40).mean()  # the few strong pixels are dark
    # Ink on both halves: the top row (region + class digits) left, the bottom row right.
    left, right = core[:, : core.shape[1] // 2], core[:, core.shape[1] // 2 :]
    assert (left < median - 40).mean() > 0.05 and (right < median - 40).mean() > 0.05


def test_a_tiny_box_is_not_split() -> None:
    frame = np.zeros((100, 100, 3), np.uint8)
    assert two_line_as_one(frame, (10, 10, 30, 18)) is None


def test_reader_reads_two_line_boxes_both_ways_and_keeps_the_more_confident_reading() -> None:
    frame, box = scene_with_plate("서울12가3456", PlateStyle.GREEN_TWO_LINE)
    recognizer = RecordingRecognizer()
    reader = PlateReader(BoxDetector(box), recognizer)  # type: ignore[arg-type]
    (plate,) = reader.read_frame(frame)
    assert len(recognizer.inputs) == 2  # the crop as seen and the one-line layout
    assert plate.text == "서울12가3456" and plate.confidence == 0.9
    assert plate.crop.shape[1] < 1.8 * plate.crop.shape[0]  # the evidence crop is the plate as seen


def test_reader_reads_one_line_boxes_once() -> None:
    frame, box = scene_with_plate("123가4567", PlateStyle.WHITE_NEW8)
    recognizer = RecordingRecognizer()
    PlateReader(BoxDetector(box), recognizer).read_frame(frame)  # type: ignore[arg-type]
    assert len(recognizer.inputs) == 1


@pytest.mark.parametrize("style", [PlateStyle.GREEN_TWO_LINE, PlateStyle.YELLOW_TWO_LINE])
def test_committed_recogniser_reads_two_line_plates_through_the_pipeline(style: PlateStyle) -> None:
    """With the real recogniser: two-line plates as the simulator draws them. The recogniser
    alone read none of them (0/24) when this was written; through the one-line layout most."""
    from lpr.recognizer import load_recognizer

    rng = random.Random(11)
    recognizer = load_recognizer(threads=1, precision="int8")
    regions = ["서울", "부산", "경기", "충남"]
    # Texts a plate of this colour really carries: old green plates are private (or rental),
    # yellow ones commercial — the pipeline holds a green plate to that (lpr/plate_colour.py).
    uses = "가나서고" if style is PlateStyle.GREEN_TWO_LINE else "바사아자"
    texts = [
        f"{rng.choice(regions)}{rng.randint(10, 99)}{rng.choice(uses)}{rng.randint(1000, 9999)}"
        for _ in range(12)
    ]
    texts += [f"{rng.randint(10, 99)}{rng.choice(uses)}{rng.randint(1000, 9999)}" for _ in range(12)]
    exact = 0
    for i, text in enumerate(texts):
        frame, box = scene_with_plate(text, style, width=rng.randint(85, 120), seed=i)
        (plate,) = PlateReader(BoxDetector(box), recognizer).read_frame(frame)  # type: ignore[arg-type]
        exact += plate.text == text
    assert exact >= 0.6 * len(texts)


def _track(readings: list[tuple[str, float]]) -> Track:
    return Track(
        "t1",
        [
            Observation(
                T0 + timedelta(seconds=i / 8), (100.0, 100.0 + 10 * i, 200.0, 150.0 + 10 * i), 0.9, t, c
            )
            for i, (t, c) in enumerate(readings)
        ],
    )


def test_vote_aligns_a_region_less_reading_with_the_full_regional_plate() -> None:
    # The region-less reading still votes for the class digits, use character and serial; the
    # old string vote dropped it (other length) and let 서울12가3458 win the last digit.
    result = vote(_track([("서울12가3456", 0.6), ("서울12가3458", 0.65), ("12가3456", 0.5)]))
    assert result is not None and result.plate == "서울12가3456"


def test_vote_keeps_the_region_when_it_outweighs_readings_without_it() -> None:
    result = vote(_track([("12가3456", 0.2), ("서울12가3456", 0.85), ("12가3456", 0.2)]))
    assert result is not None and result.plate == "서울12가3456"
    assert result.confidence < 0.85  # the readings disagreed about the region
    assert "12가3456" in {alt for alt, _ in result.alternatives}


def test_vote_without_a_region_chooses_two_or_three_class_digits_by_weight() -> None:
    result = vote(_track([("123가4567", 0.9), ("23가4567", 0.3), ("123가4561", 0.3)]))
    assert result is not None and result.plate == "123가4567"


def test_vote_on_diplomatic_plates_stays_positional() -> None:
    result = vote(_track([("외교123045", 0.8), ("외교123046", 0.3), ("외교123045", 0.5)]))
    assert result is not None and result.plate == "외교123045"


def test_readings_with_and_without_the_region_agree() -> None:
    assert readings_agree("서울12가3456", "12가3456")
    assert readings_agree("서울12가3456", "12가3458")
    assert not readings_agree("서울12가3456", "34가3456")
    assert not readings_agree("가3456", "12가3456")  # too little left to tell


def test_tracker_joins_a_far_jump_read_without_the_region() -> None:
    tracker = IouTracker()
    tracker.update(T0, [Observation(T0, (200, 40, 300, 90), 0.9, "서울12가3456", 0.9)])
    later = T0 + timedelta(seconds=1)
    tracker.update(later, [Observation(later, (201, 240, 301, 290), 0.9, "12가3456", 0.3)])
    assert len(tracker.active) == 1 and len(tracker.active[0].observations) == 2
