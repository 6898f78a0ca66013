"""The real material of the real-plate feeds: held-out plate crops and background photos.

Plates: only crops of `anpr_core.splits`' validation side (plate texts whose blake2b bucket is
below 0.15), which the recogniser was never trained on (models/recognizer/MODEL_CARD.md: v2 was
trained on the training side only). Every pass names its crop and this split in the truth.

Backgrounds: the Korean scene photos (`scenes/`, 1280–2000 px wide) and the day-ride dashcam
frames of `detection/robertlucian_dashcam_ro` (800×450 road views), cropped to 16:9. Their
labelled plates are painted out (cv2.inpaint) so a parked car's plate is not a second, untracked
"pass"; unlabelled far plates can remain (detection/README.md says some are unlabelled).
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_core.settings import load_settings
from anpr_core.splits import VALIDATION_SHARE, real_crops

SPLIT_NAME = "validation"
SPLIT_DOC = (
    f"anpr_core.splits validation side (blake2b of the plate text < {VALIDATION_SHARE}): "
    "never used to train the recogniser"
)
DASHCAM = "robertlucian_dashcam_ro"


def shared_data() -> Path:
    return load_settings().paths.shared_data


@dataclass(frozen=True)
class HeldOutPlate:
    file: str
    text: str
    image: np.ndarray  # BGR crop as photographed


def held_out_plates(data_dir: Path | None = None) -> list[HeldOutPlate]:
    """The validation-split crops in file order (deterministic), readable ones only."""
    data_dir = data_dir or shared_data()
    _, validation = real_crops(data_dir / "plates")
    plates = []
    for crop in sorted(validation, key=lambda c: c.path.name):
        image = cv2.imread(str(crop.path), cv2.IMREAD_COLOR)
        if image is not None and image.shape[1] >= 40:
            plates.append(HeldOutPlate(crop.path.name, crop.text, image))
    return plates


@dataclass(frozen=True)
class Background:
    name: str
    boxes: tuple[tuple[int, int, int, int], ...]  # labelled plates, x1 y1 x2 y2 in pixels

    def path(self, data_dir: Path) -> Path:
        return data_dir / self.name


def backgrounds(data_dir: Path | None = None) -> list[Background]:
    """Candidate backgrounds: every scene photo and one in ten day-ride dashcam frames."""
    data_dir = data_dir or shared_data()
    found = []
    scenes = json.loads((data_dir / "scenes" / "labels.json").read_text(encoding="utf-8"))
    for s in scenes:
        boxes = tuple(tuple(int(v) for v in p["box"]) for p in s["plates"])
        found.append(Background(f"scenes/{s['file']}", boxes))  # type: ignore[arg-type]
    with open(data_dir / "detection" / "index.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["source"] == DASHCAM and r["group"].startswith("dayride")]
    for row in sorted(rows, key=lambda r: r["file"])[::10]:
        found.append(Background(f"detection/{row['file']}", _yolo_boxes(data_dir, row)))
    return found


def _yolo_boxes(data_dir: Path, row: dict[str, str]) -> tuple[tuple[int, int, int, int], ...]:
    label = (data_dir / "detection" / row["file"]).with_suffix(".txt")
    label = label.parent.parent / "labels" / label.name
    w, h = int(row["width"]), int(row["height"])
    boxes = []
    if label.is_file():
        for line in label.read_text().splitlines():
            parts = line.split()
            if len(parts) == 5:
                cx, cy, bw, bh = (float(v) for v in parts[1:])
                boxes.append(
                    (
                        int((cx - bw / 2) * w),
                        int((cy - bh / 2) * h),
                        int((cx + bw / 2) * w) + 1,
                        int((cy + bh / 2) * h) + 1,
                    )
                )
    return tuple(boxes)


def load_background(
    bg: Background, size: tuple[int, int], rng: random.Random, data_dir: Path | None = None
) -> np.ndarray:
    """The photo with its labelled plates painted out, cropped to the frame's aspect, resized."""
    path = bg.path(data_dir or shared_data())
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(path)
    mask = np.zeros(image.shape[:2], np.uint8)
    for x1, y1, x2, y2 in bg.boxes:
        pad = max(4, (x2 - x1) // 8)
        mask[max(0, y1 - pad) : y2 + pad, max(0, x1 - pad) : x2 + pad] = 255
    if mask.any():
        image = cv2.inpaint(image, mask, 5, cv2.INPAINT_TELEA)
    w, h = size
    ih, iw = image.shape[:2]
    if iw * h > ih * w:  # wider than the frame: crop the sides
        cw = ih * w // h
        x0 = rng.randint(0, iw - cw)
        image = image[:, x0 : x0 + cw]
    else:  # taller: keep the lower part (the road), a little random
        ch = iw * h // w
        y0 = rng.randint((ih - ch) // 2, ih - ch)
        image = image[y0 : y0 + ch]
    interp = cv2.INTER_AREA if image.shape[1] > w else cv2.INTER_CUBIC
    return cv2.resize(image, (w, h), interpolation=interp)
