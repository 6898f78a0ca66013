"""Fit the crowd-density head (monitor/people/density.py) on the tuning half of the street photos.

A ridge regression from each 16-px cell's neck features (P3 pooled + P4, 192) to the number of
annotated heads in the cell (blurred by one cell), then a linear count calibration on the same
images. Runs on the runtime venv (ONNX Runtime + numpy), seconds of CPU once the features are in.

    .venv/bin/python -m training.people.density
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from monitor.people.density import HEAD_FILE
from monitor.people.detector import PersonDetector

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ROOT.parent / "shared" / "data" / "people"
MODEL = ROOT / "models" / "people"
INPUT_SIZE = 1024
RIDGE = 1000.0
STREET = "shanghaitech_b_train"


def tuning_street_images(labels: list[dict]) -> list[dict]:
    street = sorted((row for row in labels if row["set"] == STREET), key=lambda r: r["file"])
    return street[0::2]  # the odd positions are held out (anpr/bench/people.py)


def cell_targets(row: dict, shape: tuple[int, int], scale: float) -> np.ndarray:
    heads = np.zeros(shape, np.float32)
    for x, y in row["points"]:
        heads[min(shape[0] - 1, int(y * scale / 16)), min(shape[1] - 1, int(x * scale / 16))] += 1
    return cv2.GaussianBlur(heads, (0, 0), 1.0)


def fit(detector: PersonDetector, rows: list[dict]) -> dict[str, np.ndarray]:
    gram, moment, samples = 0.0, 0.0, []
    for row in rows:
        image = cv2.imread(str(PEOPLE / "images" / row["file"]))
        features = detector.neck_features(image)
        scale = INPUT_SIZE / max(image.shape[:2])
        x = np.c_[features.reshape(len(features), -1).T, np.ones(features[0].size)]
        y = cell_targets(row, features.shape[1:], scale).ravel()
        gram, moment = gram + x.T @ x, moment + x.T @ y
        samples.append((x, row["count"]))
    w = np.linalg.solve(gram + RIDGE * np.eye(len(gram)), moment)
    raw = np.array([np.maximum(x @ w, 0).sum() for x, _ in samples])
    truth = np.array([count for _, count in samples], float)
    scale_, offset = np.linalg.lstsq(np.c_[raw, np.ones_like(raw)], truth, rcond=None)[0]
    return {
        "weights": w[:-1].astype(np.float32),
        "bias": np.float32(w[-1]),
        "scale": np.float32(scale_),
        "offset": np.float32(offset),
        "input_size": np.int32(INPUT_SIZE),
    }


def main() -> None:
    labels = json.loads((PEOPLE / "labels.json").read_text())
    detector = PersonDetector(MODEL, input_size=INPUT_SIZE, threads=1)
    head = fit(detector, tuning_street_images(labels))
    np.savez(MODEL / HEAD_FILE, **head)
    print(MODEL / HEAD_FILE, {k: v.shape for k, v in head.items()})


if __name__ == "__main__":
    main()
