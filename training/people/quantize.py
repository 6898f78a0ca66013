"""int8 person detector: static quantisation of the convolutions (training/quantize.py), calibrated
on frames of the *tuning* parts of the crowd photos only (first half of the mall sequence, even
street views), at the input the cameras use.

    .venv-train/bin/python -m training.people.quantize
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from training.quantize import quantize_convolutions

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ROOT.parent / "shared" / "data" / "people"
MODEL = ROOT / "models" / "people"


def calibration(size: int = 960, count: int = 24) -> list[dict[str, np.ndarray]]:
    labels = json.loads((PEOPLE / "labels.json").read_text())
    mall = sorted(r["file"] for r in labels if r["set"] == "mall")
    street = sorted(r["file"] for r in labels if r["set"] != "mall")
    names = mall[: len(mall) // 2 : 6][: count // 2] + street[0::2][::6][: count // 2]
    inputs = []
    for name in names:
        image = cv2.imread(str(PEOPLE / "images" / name))
        scale = size / max(image.shape[:2])
        image = cv2.resize(image, None, fx=scale, fy=scale)
        h, w = (-(-s // 32) * 32 for s in image.shape[:2])
        canvas = np.full((h, w, 3), 114, np.uint8)
        canvas[: image.shape[0], : image.shape[1]] = image
        inputs.append({"images": canvas[None, ..., ::-1].transpose(0, 3, 1, 2).astype(np.float32) / 255})
    return inputs


def main() -> None:
    quantize_convolutions(MODEL / "person_det.onnx", MODEL / "person_det.int8.onnx", calibration())
    print(MODEL / "person_det.int8.onnx")


if __name__ == "__main__":
    main()
