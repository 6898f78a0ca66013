"""`PlateReader`: detector and recogniser composed; the CLI and the camera workers use it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr_core.settings import VisionSettings
from lpr.detector import Detection, OnnxPlateDetector, load_detector
from lpr.plate_colour import fit_to_colour
from lpr.recognizer import PlateReading, PlateRecognizer

# Detector boxes are tight; the recogniser was trained on looser crops like the real ones.
CROP_MARGIN_X = 0.08
CROP_MARGIN_Y = 0.25
# Box width / height below which a plate may be a two-line one: one-line plates are 520×110 mm
# (4.7), two-line plates 335×155–170 mm (2.0–2.2); 3.0 leaves room for perspective and loose boxes.
TWO_LINE_MAX_ASPECT = 3.0


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


def _row_gap(grey: np.ndarray) -> int:
    """The row between a two-line plate's top and bottom lines: the one with the least
    horizontal ink edges, searched where the layout puts it (22–50 % of the plate's height)."""
    edges = np.abs(np.diff(grey.astype(np.float32), axis=1)).sum(axis=1)
    lo, hi = int(0.22 * len(edges)), int(0.5 * len(edges)) + 1
    return lo + int(np.argmin(edges[lo:hi]))


def _ink_columns(grey: np.ndarray) -> tuple[int, int]:
    """First and last column with characters (vertical ink edges), with a 2 px margin."""
    edges = np.abs(np.diff(grey.astype(np.float32), axis=0)).sum(axis=0)
    cols = np.nonzero(edges > 0.2 * edges.max())[0] if edges.max() > 0 else np.array([], int)
    if not len(cols):
        return 0, grey.shape[1]
    return max(0, int(cols[0]) - 2), min(grey.shape[1], int(cols[-1]) + 3)


def two_line_as_one(frame: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
    """A two-line plate (`서울 12` over `가 3456`, or `12가` over `3456`) laid out as one line.

    The recogniser reads one-line crops well and two-line ones badly, so the top line (cut at
    the gap between the lines, trimmed to its characters, scaled to the bottom line's height)
    is put to the left of the bottom line, in reading order, on the plate's own colour with a
    thin frame and a margin of the vehicle around it, like a one-line plate's crop. Light
    characters on a dark plate (the old green plates) are inverted to dark on light, as most
    plates the recogniser learnt from. None when the box is too small to split.
    """
    h_frame, w_frame = frame.shape[:2]
    x1, y1 = max(0, round(box[0])), max(0, round(box[1]))
    x2, y2 = min(w_frame, round(box[2])), min(h_frame, round(box[3]))
    if x2 - x1 < 24 or y2 - y1 < 12:
        return None
    plate = frame[y1:y2, x1:x2]
    if plate.ndim == 2:
        plate = cv2.cvtColor(plate, cv2.COLOR_GRAY2BGR)
    h, w = plate.shape[:2]
    iy, ix = max(1, int(0.04 * h)), max(1, int(0.04 * w))  # inside the plate's border
    inner = plate[iy : h - iy, ix : w - ix]
    grey = cv2.cvtColor(inner, cv2.COLOR_BGR2GRAY)
    gap = _row_gap(grey)
    top, bottom = inner[:gap], inner[gap:]
    a, b = _ink_columns(grey[:gap])
    top = top[:, a:b]
    if top.shape[0] < 2 or top.shape[1] < 2 or bottom.shape[0] < 2:
        return None
    line_h = bottom.shape[0]
    top = cv2.resize(
        top, (max(2, round(top.shape[1] * line_h / top.shape[0])), line_h), interpolation=cv2.INTER_LINEAR
    )
    line = np.hstack([top, bottom])
    # Two-line plates' bottom digits are 1.5× as wide as a one-line plate's: narrow the line.
    line = cv2.resize(line, (max(2, round(0.7 * line.shape[1])), line_h), interpolation=cv2.INTER_AREA)
    paper = np.median(inner.reshape(-1, 3), axis=0).tolist()
    pad = max(1, round(0.08 * line_h))
    line = cv2.copyMakeBorder(line, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=paper)
    ink = float(np.percentile(grey, 5))
    line = cv2.copyMakeBorder(line, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=[ink] * 3)
    above = frame[max(0, y1 - 4) : max(0, y1 - 1), x1:x2]
    vehicle = np.median(above.reshape(-1, 3), axis=0).tolist() if above.size else paper
    lh, lw = line.shape[:2]
    mx, my = round(0.1 * lw), round(0.5 * lh)
    out = cv2.copyMakeBorder(line, my, my, mx, mx, cv2.BORDER_CONSTANT, value=vehicle)
    median = float(np.median(grey))
    if (grey > median + 40).mean() > (grey < median - 40).mean():  # light ink on a dark plate
        out = 255 - out
    return out


def _box_pixels(frame: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    h, w = frame.shape[:2]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    return frame[y1 : min(h, int(box[3])), x1 : min(w, int(box[2]))]


def _looks_two_line(box: tuple[float, float, float, float]) -> bool:
    width, height = box[2] - box[0], box[3] - box[1]
    return height > 0 and width / height < TWO_LINE_MAX_ASPECT


class PlateReader:
    def __init__(self, detector: OnnxPlateDetector, recognizer: PlateRecognizer | None) -> None:
        self.detector, self.recognizer = detector, recognizer

    @classmethod
    def load(
        cls,
        recognizer: PlateRecognizer | None,
        *,
        input_size: int,
        min_score: float,
        threads: int = 2,
        model_dir: Path | None = None,
        precision: str = "fp32",
    ) -> PlateReader:
        detector = load_detector(
            model_dir, input_size=input_size, threads=threads, min_score=min_score, precision=precision
        )
        return cls(detector, recognizer)

    @classmethod
    def for_reading(
        cls, vision: VisionSettings, recognizer: PlateRecognizer | None, threads: int | None = None
    ) -> PlateReader:
        """`lpr read`'s profile: the fp32 detector at `vision.read_input_size`."""
        return cls.load(
            recognizer,
            input_size=vision.read_input_size,
            min_score=vision.detector_min_score,
            threads=threads or vision.threads,
            model_dir=vision.detector_model,
        )

    @classmethod
    def for_workers(
        cls, vision: VisionSettings, recognizer: PlateRecognizer | None, input_size: int | None = None
    ) -> PlateReader:
        """The camera workers' profile: `vision.detector_precision` at `vision.detector_input_size`."""
        return cls.load(
            recognizer,
            input_size=input_size or vision.detector_input_size,
            min_score=vision.detector_min_score,
            threads=vision.threads,
            model_dir=vision.detector_model,
            precision=vision.detector_precision,
        )

    def read_frames(self, frames: Sequence[np.ndarray]) -> list[list[FramePlate]]:
        """All plates in several frames: one detector call, one recogniser call.

        A plate whose box is shaped like a two-line plate is read twice, as cut and laid out as
        one line (`two_line_as_one`); the more confident reading wins, so a recogniser that
        reads two-line crops well loses nothing. The stored crop is always the plate as seen.
        On an old green plate, a commercial reading (ㅏ read for ㅓ) gives way to the likeliest
        alternative a green plate can carry (`lpr.plate_colour`).
        """
        detections = self.detector.detect(frames)
        boxes = [(f, d.box) for f, ds in zip(frames, detections, strict=True) for d in ds]
        crops = [crop_plate(f, box) for f, box in boxes]
        extra: dict[int, int] = {}  # detection index → index of its one-line layout in `inputs`
        inputs = list(crops)
        if self.recognizer is not None:
            for index, (frame, box) in enumerate(boxes):
                if _looks_two_line(box) and (line := two_line_as_one(frame, box)) is not None:
                    extra[index] = len(inputs)
                    inputs.append(line)
        read = list(self.recognizer.read(inputs)) if self.recognizer is not None and inputs else []
        readings: list[PlateReading | None] = [None] * len(crops)
        if read:
            for index, (frame, box) in enumerate(boxes):
                reading = read[index]
                if index in extra and read[extra[index]].confidence > reading.confidence:
                    reading = read[extra[index]]
                readings[index] = fit_to_colour(reading, _box_pixels(frame, box))
        results, cursor = [], 0
        for dets in detections:
            plates = []
            for det in dets:
                plates.append(_frame_plate(det, readings[cursor], crops[cursor]))
                cursor += 1
            results.append(plates)
        return results

    def read_frame(self, frame: np.ndarray) -> list[FramePlate]:
        return self.read_frames([frame])[0]


def _frame_plate(det: Detection, reading: PlateReading | None, crop: np.ndarray) -> FramePlate:
    if reading is None:
        return FramePlate(det.box, det.score, None, None, (), crop)
    return FramePlate(det.box, det.score, reading.text, reading.confidence, reading.alternatives, crop)
