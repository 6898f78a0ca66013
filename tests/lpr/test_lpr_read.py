"""`lpr read`, the models' public interface, against the committed weights and real images."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_core.nms import non_max_suppression
from anpr_core.splits import real_crops
from lpr.recognizer import load_recognizer
from lpr.recognizer.decode import constrained_readings, greedy_decode
from tests.conftest import SHARED_DATA

needs_data = pytest.mark.skipif(not (SHARED_DATA / "plates").is_dir(), reason="../shared/data is absent")


def lpr_read(*args: str) -> tuple[int, list[dict[str, object]]]:
    run = subprocess.run([sys.executable, "-m", "lpr.cli", "read", *args], capture_output=True, text=True)
    return run.returncode, [json.loads(line) for line in run.stdout.splitlines()]


@needs_data
def test_crops_mode_reads_held_out_real_plates(tmp_path: Path) -> None:
    _, validation = real_crops(SHARED_DATA / "plates")
    sample = validation[:40]
    code, lines = lpr_read("--crops", *[str(c.path) for c in sample])
    assert code == 0
    assert [line["image"] for line in lines] == [str(c.path) for c in sample]
    assert all(set(line) >= {"image", "text", "confidence"} for line in lines)
    exact = sum(line["text"] == crop.text for line, crop in zip(lines, sample, strict=True))
    assert exact >= 0.85 * len(sample)  # the held-out benchmark figure is ~93%; this guards regressions


@needs_data
def test_scene_mode_finds_and_reads_the_plate_in_a_real_photo() -> None:
    scene = json.loads((SHARED_DATA / "scenes" / "labels.json").read_text(encoding="utf-8"))[0]
    code, [line] = lpr_read(str(SHARED_DATA / "scenes" / scene["file"]))
    assert code == 0
    truth = scene["plates"][0]
    best = max(line["plates"], key=lambda p: p["score"])
    x1, y1, x2, y2 = best["box"]
    tx1, ty1, tx2, ty2 = truth["box"]
    inter = max(0, min(x2, tx2) - max(x1, tx1)) * max(0, min(y2, ty2) - max(y1, ty1))
    union = (x2 - x1) * (y2 - y1) + (tx2 - tx1) * (ty2 - ty1) - inter
    assert inter / union >= 0.5
    assert best["text"] == truth["text"]


def test_bad_files_get_an_error_line_and_the_batch_continues(tmp_path: Path) -> None:
    good = tmp_path / "plate.png"
    cv2.imwrite(str(good), np.full((60, 200, 3), 200, np.uint8))
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8 not really a jpeg")
    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    code, lines = lpr_read(
        "--crops", str(empty), str(corrupt), str(tmp_path / "missing.jpg"), str(text), str(good)
    )
    assert code == 1
    assert [("error" in line) for line in lines] == [True, True, True, True, False]
    assert lines[0]["error"] == "empty file"
    assert lines[2]["error"] == "file not found"


def test_a_blank_or_noise_crop_never_yields_a_confident_plate() -> None:
    recognizer = load_recognizer()
    noise = np.random.default_rng(0).integers(0, 255, (60, 200, 3), dtype=np.uint8)
    for reading in recognizer.read([np.zeros((50, 180, 3), np.uint8), noise]):
        assert reading.text is None or reading.confidence < 0.5


def test_directories_are_expanded_to_their_images(tmp_path: Path) -> None:
    for name in ("a.jpg", "b.png", "skip.txt"):
        (tmp_path / name).write_bytes(b"")
    _, lines = lpr_read("--crops", str(tmp_path))
    assert sorted(Path(str(line["image"])).name for line in lines) == ["a.jpg", "b.png"]


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    assert non_max_suppression(boxes, np.array([0.9, 0.8, 0.7]), 0.5) == [0, 2]


def test_constrained_decoding_prefers_a_valid_plate_over_a_likelier_invalid_string() -> None:
    charset = ("1", "2", "3", "4", "가", "X")
    # Frames: 1 2 가 3 4 1 2, but the last step slightly prefers 'X' (not a plate character).
    seq = ["1", "2", "가", "3", "4", "1", "2"]
    steps = []
    for ch in seq:
        row = np.full(len(charset) + 1, -12.0)
        row[charset.index(ch) + 1] = -0.01
        steps.append(row)
        blank = np.full(len(charset) + 1, -12.0)
        blank[0] = -0.01
        steps.append(blank)
    steps[-2][charset.index("X") + 1] = -0.6
    steps[-2][charset.index("2") + 1] = -0.8
    log_probs = np.array(steps)
    assert greedy_decode(log_probs, charset)[0] == "12가341X"
    readings, raw = constrained_readings(log_probs, charset)
    assert raw == "12가341X"
    assert readings[0][0] == "12가3412"
