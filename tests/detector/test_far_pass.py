"""`lpr read`'s far-plate pass: a second detector pass at a larger input, merged with the main one."""

from __future__ import annotations

import json

import cv2
import pytest

from lpr.detector import load_detector
from lpr.detector.onnx_detector import FAR_PLATE_SHARE, far_pass_size, merge_passes
from lpr.detector.types import Detection
from lpr.geometry import iou
from tests.conftest import SHARED_DATA
from training.detector.far_frames import far_frame

SCENES = SHARED_DATA / "scenes"
needs_scenes = pytest.mark.skipif(not (SCENES / "labels.json").is_file(), reason="../shared/data is absent")


def test_the_far_pass_enlarges_small_frames_at_most_two_and_a_half_times() -> None:
    assert far_pass_size((1080, 1920), 512, 1280) == 1280
    assert far_pass_size((360, 640), 512, 1280) == 1280
    assert far_pass_size((300, 300), 512, 1280) == 768  # 750 at most, stride-rounded
    assert far_pass_size((120, 160), 512, 1280) == 0  # no larger than the main pass: no pass
    assert far_pass_size((1080, 1920), 512, 0) == 0  # switched off


def test_merging_keeps_new_plates_and_drops_the_same_plate_and_pieces_of_one() -> None:
    whole = Detection((100, 100, 300, 150), 0.9)
    same = Detection((102, 101, 298, 151), 0.8)  # the main box again
    piece = Detection((200, 105, 290, 145), 0.7)  # part of the main box (a larger input cuts plates)
    looser = Detection((90, 95, 310, 160), 0.6)  # contains it
    new = Detection((800, 600, 830, 610), 0.55)  # a far plate elsewhere
    merged = merge_passes([whole], [same, piece, looser, new], 0.5)
    assert merged == [whole, new]


@needs_scenes
def test_plates_48_px_wide_in_1080p_frames_are_found_by_the_far_pass_only() -> None:
    """Korean scenes (no detector trained on them) shrunk into 1080p frames, the plate 48 px wide:
    the 512 pass alone finds few; with the 1280 pass most are boxed, and nothing new elsewhere
    in frames that hold one plate each."""
    labels = [s for s in json.loads((SCENES / "labels.json").read_text()) if len(s["plates"]) == 1][:10]
    main_only = load_detector(input_size=512, min_score=0.5)
    with_far = load_detector(input_size=512, min_score=0.5, far_input_size=1280)
    found = {"main": 0, "far": 0}
    extra_boxes = 0
    for index, scene in enumerate(labels):
        image = cv2.imread(str(SCENES / scene["file"]))
        box = tuple(scene["plates"][0]["box"])
        frame, (placed,) = far_frame(image, [box], box, 48, seed=index)
        for name, detector in (("main", main_only), ("far", with_far)):
            boxes = [d.box for d in detector.detect([frame])[0]]
            found[name] += any(iou(b, placed) >= 0.5 for b in boxes)
            if name == "far":
                extra_boxes += sum(
                    iou(b, placed) < 0.5 and b[2] - b[0] < FAR_PLATE_SHARE * 1920 for b in boxes
                )
    assert found["main"] <= 3
    assert found["far"] >= 8
    assert extra_boxes <= 2
