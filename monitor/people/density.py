"""Crowd count from a density head on the person detector's neck features.

Dense far crowds (elevated street views, 10–20 px heads) defeat a box detector: it finds the near
people only. The density head reads the P3/P4 features the detector computes anyway and predicts,
for every 16-px cell, how many heads it holds: a linear map (193 numbers, ridge-fitted on the
tuning half of the street photos by `training/people/density.py`), clipped at zero, summed.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from monitor.people.detector import PersonDetector
from monitor.people.types import PersonDetectorUnavailable

HEAD_FILE = "density_head.npz"


class DensityCounter:
    def __init__(self, detector: PersonDetector, model_dir: Path) -> None:
        path = Path(model_dir) / HEAD_FILE
        if not path.is_file():
            raise PersonDetectorUnavailable(f"density head not found: {path}")
        head = np.load(path)
        self.weights, self.bias = head["weights"].astype(np.float32), float(head["bias"])
        self.scale, self.offset = float(head["scale"]), float(head["offset"])  # calibration
        self.input_size = int(head["input_size"])
        self.detector = detector

    def density_map(self, frame: np.ndarray) -> np.ndarray:
        """Heads per 16-px cell of the network input (H/16 × W/16)."""
        size, self.detector.input_size = self.detector.input_size, self.input_size
        try:
            features = self.detector.neck_features(frame)
        finally:
            self.detector.input_size = size
        cells = np.tensordot(self.weights, features.astype(np.float32), axes=(0, 0)) + self.bias
        return np.maximum(cells, 0)

    def count(self, frame: np.ndarray) -> float:
        return max(0.0, self.scale * float(self.density_map(frame).sum()) + self.offset)

    def zone_counts(
        self, frame: np.ndarray, polygons: dict[str, list[tuple[float, float]]]
    ) -> dict[str, float]:
        """People in each image polygon: the cells whose centres are inside, calibrated like the
        whole frame (the calibration's offset shared out by the zone's share of the cells)."""
        cells = self.density_map(frame)
        rows, cols = cells.shape
        to_frame = 16 * max(frame.shape[:2]) / self.input_size
        ys, xs = np.mgrid[0:rows, 0:cols]
        centres = np.c_[(xs.ravel() + 0.5) * to_frame, (ys.ravel() + 0.5) * to_frame]
        visible = (centres[:, 0] < frame.shape[1]) & (centres[:, 1] < frame.shape[0])
        counts = {}
        for name, polygon in polygons.items():
            contour = np.asarray(polygon, np.float32).reshape(-1, 1, 2)
            inside = np.array(
                [cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0 for x, y in centres]
            )
            share = inside.sum() / max(1, visible.sum())
            counts[name] = max(0.0, self.scale * float(cells.ravel()[inside].sum()) + self.offset * share)
        return counts
