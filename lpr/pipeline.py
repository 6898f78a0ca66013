"""`PlateReader`: detector and recogniser composed; the CLI and the camera workers use it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lpr.detector import Detection, OnnxPlateDetector, load_detector
from lpr.recognizer import PlateReading, PlateRecognizer

# Detector boxes are tight; the recogniser was trained on looser crops like the real ones.
CROP_MARGIN_X = 0.08
CROP_MARGIN_Y = 0.25


@dataclass(frozen=True)
class FramePlate:
    box: tuple[float, float, float, float]
    score: float
    text: str | None
    confidence: float | None
    alternatives: tuple[tuple[str, float], ...]
    crop: np.ndarray


def crop_plate(frame: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * CROP_MARGIN_X, (y2 - y1) * CROP_MARGIN_Y
    h, w = frame.shape[:2]
    return frame[int(max(0, y1 - my)) : int(min(h, y2 + my)), int(max(0, x1 - mx)) : int(min(w, x2 + mx))]


class PlateReader:
    def __init__(self, detector: OnnxPlateDetector, recognizer: PlateRecognizer | None) -> None:
        self.detector, self.recognizer = detector, recognizer

    @classmethod
    def load(
        cls,
        recognizer: PlateRecognizer | None,
        threads: int = 2,
        input_size: int = 640,
        min_score: float = 0.5,
        model_dir: Path | None = None,
        precision: str = "fp32",
    ) -> PlateReader:
        detector = load_detector(
            model_dir, input_size=input_size, threads=threads, min_score=min_score, precision=precision
        )
        return cls(detector, recognizer)

    def read_frames(self, frames: Sequence[np.ndarray]) -> list[list[FramePlate]]:
        """All plates in several frames: one detector call, one recogniser call."""
        detections = self.detector.detect(frames)
        crops = [crop_plate(f, d.box) for f, ds in zip(frames, detections, strict=True) for d in ds]
        readings: list[PlateReading | None] = (
            list(self.recognizer.read(crops))
            if self.recognizer is not None and crops
            else [None] * len(crops)
        )
        results, cursor = [], 0
        for dets in detections:
            plates = []
            for det in dets:
                reading = readings[cursor]
                plates.append(_frame_plate(det, reading, crops[cursor]))
                cursor += 1
            results.append(plates)
        return results

    def read_frame(self, frame: np.ndarray) -> list[FramePlate]:
        return self.read_frames([frame])[0]


def _frame_plate(det: Detection, reading: PlateReading | None, crop: np.ndarray) -> FramePlate:
    if reading is None:
        return FramePlate(det.box, det.score, None, None, (), crop)
    return FramePlate(det.box, det.score, reading.text, reading.confidence, reading.alternatives, crop)
