"""Detector scoring and validation data: whole-plate boxes, split plates, width buckets, splits."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tests.conftest import SHARED_DATA
from training.detector.evaluate import DetectionTally, match_frame, width_bucket
from training.detector.far_frames import far_frame
from training.detector.real_photos import is_validation_group, load_detection_photos, paste_over

DETECTION = SHARED_DATA / "detection"
needs_detection = pytest.mark.skipif(
    not (DETECTION / "index.csv").is_file(), reason="../shared/data is absent"
)

LONG_PLATE = (100.0, 200.0, 340.0, 250.0)  # a 520×110 mm plate seen 240 px wide


def test_a_box_around_part_of_a_long_plate_is_neither_whole_nor_a_match() -> None:
    # `59라 2` + `730`: two boxes inside one plate, neither covering it
    parts = [(100.0, 200.0, 215.0, 250.0), (240.0, 200.0, 340.0, 250.0)]
    result = match_frame(parts, [0.9, 0.8], [LONG_PLATE])
    assert result.matched == () and result.missed == (0,) and result.split == (0,)
    tally = DetectionTally()
    tally.add(result, [LONG_PLATE])
    assert tally.recall == 0 and tally.precision == 0 and tally.split_plates == 1


def test_a_loose_box_is_found_at_iou_05_but_not_counted_as_whole() -> None:
    loose = (100.0, 200.0, 250.0, 250.0)  # IoU 0.625 with the plate
    tally = DetectionTally()
    tally.add(match_frame([loose], [0.9], [LONG_PLATE]), [LONG_PLATE])
    assert tally.recall == 1 and tally.whole_plate_share == 0
    tight = (102.0, 201.0, 338.0, 249.0)
    tally.add(match_frame([tight], [0.9], [LONG_PLATE]), [LONG_PLATE])
    assert tally.recall == 1 and tally.whole_plate_share == 0.5


def test_each_plate_is_matched_once_highest_score_first() -> None:
    dup = [(101.0, 200.0, 341.0, 250.0), (100.0, 201.0, 339.0, 251.0)]
    result = match_frame(dup, [0.6, 0.9], [LONG_PLATE])
    assert [d for d, _, _ in result.matched] == [1] and result.false_boxes == (0,)


def test_recall_is_kept_per_plate_width() -> None:
    assert [width_bucket((0, 0, w, 10)) for w in (12, 39.9, 40, 120, 161)] == [
        "<40", "<40", "40-80", "80-160", ">160"
    ]  # fmt: skip
    small, large = (0.0, 0.0, 30.0, 10.0), (0.0, 100.0, 200.0, 150.0)
    tally = DetectionTally()
    tally.add(match_frame([large], [0.9], [small, large]), [small, large])
    assert tally.by_width["<40"] == [0, 1] and tally.by_width[">160"] == [1, 1]
    assert tally.recall_wider_than(80) == 1 and tally.recall == 0.5


def test_a_far_frame_shrinks_the_scene_so_the_plate_has_the_asked_width() -> None:
    scene = np.zeros((1200, 1600, 3), np.uint8)
    plate = (700.0, 800.0, 950.0, 860.0)
    scene[800:860, 700:950] = 255
    frame, boxes = far_frame(scene, [plate], plate, target_width=40, seed=3)
    assert frame.shape == (1080, 1920, 3)
    (box,) = boxes
    assert box[2] - box[0] == pytest.approx(40, abs=0.5)
    x0, y0, x1, y1 = (round(v) for v in box)
    assert frame[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2].mean() > 200  # the plate is where the box says


def test_a_pasted_plate_covers_the_whole_labelled_plate() -> None:
    rng = random.Random(0)
    image = np.zeros((300, 400, 3), np.uint8)
    us_plate = (150.0, 100.0, 230.0, 140.0)  # 2:1
    korean_long = np.full((110, 520, 3), 230, np.uint8)
    box = paste_over(image, us_plate, korean_long, rng)
    assert box[0] <= us_plate[0] and box[1] <= us_plate[1] and box[2] >= us_plate[2] and box[3] >= us_plate[3]
    assert (box[2] - box[0]) / (box[3] - box[1]) == pytest.approx(520 / 110, rel=0.15)


@needs_detection
def test_photo_groups_fall_wholly_on_one_side_of_the_split() -> None:
    photos = load_detection_photos(DETECTION)
    assert len(photos) == 3314 and sum(len(p.boxes) for p in photos) == 4366
    sides: dict[str, set[bool]] = {}
    for photo in photos:
        sides.setdefault(photo.group, set()).add(is_validation_group(photo.group))
    assert all(len(side) == 1 for side in sides.values())
    held_out = sum(is_validation_group(p.group) for p in photos)
    assert 0.08 < held_out / len(photos) < 0.2


def test_the_two_pieces_of_a_long_plate_become_one_box() -> None:
    from lpr.detector import Detection
    from lpr.detector.fragments import join_fragments

    pieces = [Detection((100.0, 200.0, 215.0, 250.0), 0.8), Detection((240.0, 201.0, 340.0, 250.0), 0.7)]
    (joined,) = join_fragments(pieces)
    assert joined.box == (100.0, 200.0, 340.0, 250.0) and joined.score == 0.8
    result = match_frame([joined.box], [joined.score], [LONG_PLATE])
    assert len(result.matched) == 1 and result.matched[0][2] >= 0.7


def test_plates_of_two_cars_side_by_side_stay_apart() -> None:
    from lpr.detector import Detection
    from lpr.detector.fragments import join_fragments

    two_cars = [Detection((100.0, 200.0, 340.0, 250.0), 0.9), Detection((700.0, 205.0, 940.0, 255.0), 0.9)]
    assert len(join_fragments(two_cars)) == 2
    # a plate above another (two-line plates' rows are not pieces of one line) and a far, small plate
    stacked = [Detection((100.0, 100.0, 200.0, 130.0), 0.9), Detection((100.0, 135.0, 200.0, 165.0), 0.9)]
    assert len(join_fragments(stacked)) == 2
    sizes = [Detection((100.0, 200.0, 340.0, 250.0), 0.9), Detection((345.0, 230.0, 365.0, 240.0), 0.9)]
    assert len(join_fragments(sizes)) == 2
