"""The recogniser's readings of every real crop, tagged with whether the model trained on it.

Shared by the confidence fit, the label audit and the per-group evaluation. The shipped model
(v2) trained on the real crops of the blake2b-by-text training split (`training/splits.py`):
only the validation texts and the scene plates (`../shared/data/scenes`, never used in
training) are held out. Layout (one/two lines) and colour are not in the labels; they are
measured from the crop (aspect ratio, hue), so group figures say "as measured".

Runs on the runtime venv (ONNX Runtime, no torch).
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from anpr_core.splits import is_validation_text
from lpr.plate_colour import is_green_plate
from lpr.recognizer.confidence import reading_features
from lpr.recognizer.decode import constrained_readings
from lpr.recognizer.onnx_engine import OnnxPlateRecognizer

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "recognizer"
DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"
TWO_LINE_MAX_ASPECT = 2.6  # width / height: one-line crops are ≈ 3.5–5, two-line ≈ 1.6–2.2


@dataclass
class Sample:
    key: str  # file name (crops) or scene file#index
    text: str
    format: str
    source: str
    split: str  # "train" (the model saw it), "val" or "scene" (held out)
    image: np.ndarray = field(repr=False)

    @property
    def held_out(self) -> bool:
        return self.split != "train"


@dataclass
class Prediction:
    read: str | None
    share: float
    alternatives: list[tuple[str, float]]
    raw: str
    features: np.ndarray | None  # None when no valid plate was read


def layout(image: np.ndarray) -> str:
    h, w = image.shape[:2]
    return "two-line" if w / max(h, 1) < TWO_LINE_MAX_ASPECT else "one-line"


def colour(image: np.ndarray) -> str:
    """green / yellow / blue / white as a hue test sees the plate's middle (grey → white)."""
    if image.ndim != 3:
        return "white"
    if is_green_plate(image):
        return "green"
    h, w = image.shape[:2]
    inner = image[int(0.15 * h) : int(0.85 * h), int(0.06 * w) : int(0.94 * w)]
    hsv = cv2.cvtColor(np.ascontiguousarray(inner), cv2.COLOR_BGR2HSV).reshape(-1, 3)
    bright = (hsv[:, 1] >= 90) & (hsv[:, 2] >= 90)
    hue = hsv[:, 0]
    if ((hue >= 15) & (hue <= 35) & bright).mean() >= 0.45:
        return "yellow"
    if ((hue >= 95) & (hue <= 125) & bright).mean() >= 0.45:
        return "blue"
    return "white"


def load_samples(data_dir: Path = DATA_DIR) -> list[Sample]:
    plates = data_dir / "plates"
    with open(plates / "labels.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    samples = [
        Sample(
            r["file"],
            r["text"],
            r["format"],
            r["source"],
            "val" if is_validation_text(r["text"]) else "train",
            cv2.imread(str(plates / r["file"]), cv2.IMREAD_COLOR),
        )
        for r in rows
    ]
    scenes = data_dir / "scenes"
    if (scenes / "labels.json").is_file():
        from anpr_core.plates import try_parse_plate

        for scene in json.loads((scenes / "labels.json").read_text(encoding="utf-8")):
            frame = cv2.imread(str(scenes / scene["file"]), cv2.IMREAD_COLOR)
            for i, plate in enumerate(scene["plates"]):
                parsed = try_parse_plate(plate["text"] or "")
                if parsed is None:
                    continue
                x1, y1, x2, y2 = (round(v) for v in plate["box"])
                samples.append(
                    Sample(
                        f"{scene['file']}#{i}",
                        parsed.text,
                        parsed.format.value,
                        scene.get("source", "scenes"),
                        "scene",
                        frame[y1:y2, x1:x2].copy(),
                    )
                )
    return samples


def degrade(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """A real crop as a farther or worse camera would give it: 40–120 px wide, blur, JPEG."""
    h, w = image.shape[:2]
    width = rng.uniform(40, 120)
    if width < w:
        small = cv2.resize(image, (round(width), max(8, round(h * width / w))), interpolation=cv2.INTER_AREA)
    else:
        small = image.copy()
    if rng.random() < 0.5:
        small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.3, 1.0))
    quality = rng.randint(25, 80)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else small


def predict(
    images: list[np.ndarray], precision: str = "fp32", model_dir: Path = MODEL_DIR, threads: int = 2
) -> list[Prediction]:
    recognizer = OnnxPlateRecognizer(model_dir, threads=threads, calibrated=False, precision=precision)
    log_probs = recognizer.log_probs(images)
    out = []
    for row, image in zip(log_probs, images, strict=True):
        valid, raw = constrained_readings(row, recognizer.charset)
        if not valid:
            out.append(Prediction(None, 0.0, [], raw, None))
            continue
        features = reading_features(row, recognizer.charset, valid, raw, image.shape[0])
        out.append(Prediction(valid[0][0], valid[0][1], list(valid[1:]), raw, features))
    return out
