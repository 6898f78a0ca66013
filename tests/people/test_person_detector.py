"""The COCO person detector on real CCTV frames: the boxes stand on the people (their heads are
inside them) and the count follows the crowd."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_core.settings import PROJECT_ROOT
from monitor.people.detector import PersonDetector, decode, tile_windows
from tests.conftest import SHARED_DATA

PEOPLE = SHARED_DATA / "people"
MODEL = PROJECT_ROOT / "models" / "people"


@pytest.fixture(scope="module")
def labels() -> dict[str, dict]:
    path = PEOPLE / "labels.json"
    if not path.is_file():
        pytest.skip("shared crowd photos not present")
    return {row["file"]: row for row in json.loads(path.read_text())}


@pytest.fixture(scope="module")
def detector() -> PersonDetector:
    return PersonDetector(MODEL, input_size=960, min_score=0.25, iou=0.6)


def _heads_inside(boxes: np.ndarray, points: np.ndarray) -> np.ndarray:
    b, p = boxes[:, None, :], points[None]
    inside_x = (p[..., 0] >= b[..., 0]) & (p[..., 0] <= b[..., 2])
    return inside_x & (p[..., 1] >= b[..., 1]) & (p[..., 1] <= b[..., 3])


def test_person_boxes_on_held_out_mall_frames_hold_the_annotated_heads(labels, detector) -> None:
    # Frames from the held-out half of the mall sequence (later time block than any tuning).
    frames = [f for f in sorted(labels) if labels[f]["set"] == "mall"][150:200:10]
    boxes_with_head, heads_found, counts = [], [], []
    for name in frames:
        persons = detector.detect(cv2.imread(str(PEOPLE / "images" / name)))
        boxes = np.array([p.box for p in persons])
        inside = _heads_inside(boxes, np.asarray(labels[name]["points"]))
        boxes_with_head.append(inside.any(1).mean())
        heads_found.append(inside.any(0).mean())
        counts.append((len(persons), labels[name]["count"]))
    assert np.mean(boxes_with_head) >= 0.9, counts  # a box is a person, not a pillar
    assert np.mean(heads_found) >= 0.55, counts  # most people, though occluded ones are missed
    assert all(0.4 * truth <= n <= truth for n, truth in counts), counts


def test_the_anchor_decoding_puts_a_box_where_the_head_map_says() -> None:
    anchors = np.array([[[10, 13], [16, 30], [33, 23]]] * 3, np.float32)
    maps = [np.full((1, 255, 4, 4), -20.0, np.float32) for _ in range(3)]
    cell = maps[0][0].reshape(3, 85, 4, 4)
    cell[1, :4, 2, 1] = 0.0  # anchor 1, row 2, column 1: σ = 0.5 → centre mid-cell, size = anchor
    cell[1, 4, 2, 1] = cell[1, 5, 2, 1] = 10.0  # surely a person
    ((boxes, scores),) = decode(maps, anchors, [8, 16, 32], 0.5)
    assert len(boxes) == 1 and scores[0] > 0.99
    np.testing.assert_allclose(boxes[0], [12 - 8, 20 - 15, 12 + 8, 20 + 15], atol=1e-3)


def test_tiles_cover_the_frame_and_overlap() -> None:
    windows = tile_windows(768, 1024, 2, 0.2)
    assert len(windows) == 4
    assert min(w[0] for w in windows) == 0 and max(w[2] for w in windows) >= 1024
    assert min(w[1] for w in windows) == 0 and max(w[3] for w in windows) >= 768
    assert windows[0][2] > windows[1][0]  # neighbours overlap


def test_anpr_people_prints_one_json_line_per_image(labels, tmp_path: Path) -> None:
    mall = sorted(f for f in labels if labels[f]["set"] == "mall")[-1]
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / mall).write_bytes((PEOPLE / "images" / mall).read_bytes())
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    result = subprocess.run(
        [sys.executable, "-m", "anpr", "people", str(folder), str(tmp_path / "broken.jpg"), "nope.jpg"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1, result.stderr
    assert [Path(line["image"]).name for line in lines] == [mall, "broken.jpg", "nope.jpg"]
    first = lines[0]
    assert first["count"] == len(first["persons"]) > 5
    x1, y1, x2, y2 = first["persons"][0]["box"]
    assert 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 480 and 0 < first["persons"][0]["score"] <= 1
    assert "error" in lines[1] and "error" in lines[2]


def test_anpr_people_head_boxes_box_more_of_the_heads_in_the_same_format(labels) -> None:
    mall = sorted(f for f in labels if labels[f]["set"] == "mall")[-3]
    points = np.asarray(labels[mall]["points"], np.float64)
    found = {}
    for extra in ([], ["--head-boxes", "density_head_mall.npz"]):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "anpr",
                "people",
                str(PEOPLE / "images" / mall),
                "--min-score",
                "0.3",
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=PROJECT_ROOT,
        )
        assert result.returncode == 0, result.stderr
        (line,) = [json.loads(text) for text in result.stdout.splitlines()]
        assert set(line) == {"image", "count", "persons"} and line["count"] == len(line["persons"])
        boxes = np.array([p["box"] for p in line["persons"]], np.float64)
        found[bool(extra)] = (line["count"], _heads_inside(boxes, points).any(0).mean())
    assert found[True][0] > found[False][0] and found[True][1] > found[False][1] + 0.05, found


def test_the_density_head_counts_dense_street_crowds_the_boxes_miss(labels, detector) -> None:
    from monitor.people.density import DensityCounter

    counter = DensityCounter(detector, MODEL)
    # held-out street views (odd positions; the head was fitted on the even ones)
    street = sorted(f for f in labels if labels[f]["set"] != "mall")[1::2]
    by_count = sorted(street, key=lambda f: labels[f]["count"])
    picked = by_count[:2] + by_count[-2:]
    estimates = {f: counter.count(cv2.imread(str(PEOPLE / "images" / f))) for f in picked}
    quiet, busy = picked[:2], picked[2:]
    assert min(estimates[f] for f in busy) > 2 * max(estimates[f] for f in quiet), estimates
    errors = [abs(estimates[f] - labels[f]["count"]) / labels[f]["count"] for f in busy]
    assert np.mean(errors) < 0.5, {f: (estimates[f], labels[f]["count"]) for f in picked}


def test_zone_counts_from_the_density_head_add_up_to_the_frame(labels, detector) -> None:
    from monitor.people.density import DensityCounter

    counter = DensityCounter(detector, MODEL)
    name = max((f for f in labels if labels[f]["set"] != "mall"), key=lambda f: labels[f]["count"])
    frame = cv2.imread(str(PEOPLE / "images" / name))
    h, w = frame.shape[:2]
    halves = {
        "left": [(0, 0), (w / 2, 0), (w / 2, h), (0, h)],
        "right": [(w / 2, 0), (w, 0), (w, h), (w / 2, h)],
    }
    counts = counter.zone_counts(frame, halves)
    whole = counter.count(frame)
    assert counts["left"] > 0 and counts["right"] > 0
    assert abs(counts["left"] + counts["right"] - whole) <= 0.1 * whole + 5


def test_the_mall_density_head_counts_held_out_frames_and_boxes_the_heads_the_detector_missed(labels) -> None:
    from monitor.people.density import MALL_HEAD_FILE, DensityCounter

    detector = PersonDetector(MODEL, input_size=960, min_score=0.3, iou=0.6)
    counter = DensityCounter(detector, MODEL, MALL_HEAD_FILE)
    mall = sorted(f for f in labels if labels[f]["set"] == "mall")
    held = mall[len(mall) // 2 :][::25]  # the second half by time: the head was fitted on the first
    errors, plain, boxed = [], [], []
    for name in held:
        frame = cv2.imread(str(PEOPLE / "images" / name))
        points = np.asarray(labels[name]["points"], np.float64)
        errors.append(abs(counter.count(frame) - labels[name]["count"]))
        persons = detector.detect(frame)
        added = counter.head_boxes(frame, persons)
        assert added and all(0 < p.score <= 1 for p in added)
        every = np.array([p.box for p in persons + added])
        plain.append(_heads_inside(np.array([p.box for p in persons]), points).any(0).mean())
        inside = _heads_inside(every, points)
        boxed.append((inside.any(0).mean(), inside.any(1).mean()))
    assert np.mean(errors) < 4.5, errors
    heads_in_a_box, boxes_with_a_head = np.mean(boxed, 0)
    assert heads_in_a_box > np.mean(plain) + 0.1 and heads_in_a_box > 0.85, (plain, boxed)
    assert boxes_with_a_head > 0.85, boxed
