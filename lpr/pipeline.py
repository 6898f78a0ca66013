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
Box = tuple[float, float, float, float]
# `lpr read --crops` finds the plate inside each crop (crops come loose, with some vehicle around
# the plate) with the detector at this input size; the crop is all plate-sized, so a small input
# suffices, and a low score threshold, since the crop is known to hold a plate.
CROP_LOCATE_SIZE = 256
CROP_LOCATE_MIN_SCORE = 0.2


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


def combine_views(readings: Sequence[PlateReading]) -> PlateReading:
    """One plate's readings in several views made one: each view gives every text it read (best
    and alternatives) its confidence, 0 to texts it did not read; the text with the highest mean
    over the views wins, so a view that misreads alone is outvoted. Its confidence is that of the
    most confident view whose best reading it is (the calibrated figure of one view), or the mean
    when it is no view's best. Chosen on rendered plates, confirmed on held-out real crops
    (model card: exact 0.953 -> 0.964, precision at confidence >= 0.95 0.993 -> 0.997)."""
    if len(readings) == 1:
        return readings[0]
    votes: dict[str, float] = {}
    for reading in readings:
        offered = ([(reading.text, reading.confidence)] if reading.text else []) + list(reading.alternatives)
        for text, confidence in dict(reversed(offered)).items():
            votes[text] = votes.get(text, 0.0) + confidence / len(readings)
    if not votes:
        return readings[0]
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    text, mean = ranked[0]
    agreeing = [r for r in readings if r.text == text]
    best = max(agreeing, key=lambda r: r.confidence) if agreeing else None
    confidence = best.confidence if best is not None else round(mean, 6)
    alternatives = tuple((t, round(min(c, confidence), 6)) for t, c in ranked[1:5])
    return PlateReading(text, confidence, alternatives, (best or readings[0]).raw_text)


class PlateReader:
    def __init__(
        self, detector: OnnxPlateDetector, recognizer: PlateRecognizer | None, *, tight_view: bool = False
    ) -> None:
        self.detector, self.recognizer = detector, recognizer
        # `lpr read`'s profile also reads the plate's box as boxed (no margin), the views voting
        # (`combine_views`; held-out real crops 0.953 -> 0.964 exact, see the model card); the
        # camera workers leave it off: it is one more recogniser call per plate.
        self.tight_view = tight_view

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
        far_input_size: int = 0,
        hd_input_size: int = 0,
    ) -> PlateReader:
        detector = load_detector(
            model_dir,
            input_size=input_size,
            threads=threads,
            min_score=min_score,
            precision=precision,
            far_input_size=far_input_size,
            hd_input_size=hd_input_size,
        )
        return cls(detector, recognizer)

    @classmethod
    def for_reading(
        cls, vision: VisionSettings, recognizer: PlateRecognizer | None, threads: int | None = None
    ) -> PlateReader:
        """`lpr read`'s profile: the fp32 detector at `vision.read_input_size` with a far-plate
        pass at `vision.read_far_input_size`, plates read in several views (`tight_view`)."""
        reader = cls.load(
            recognizer,
            input_size=vision.read_input_size,
            min_score=vision.detector_min_score,
            threads=threads or vision.threads,
            model_dir=vision.detector_model,
            far_input_size=vision.read_far_input_size,
        )
        reader.tight_view = True
        return reader

    @classmethod
    def for_crops(
        cls, vision: VisionSettings, recognizer: PlateRecognizer | None, threads: int | None = None
    ) -> PlateReader:
        """`lpr read --crops`' profile: the fp32 detector at `CROP_LOCATE_SIZE` finds the plate
        in each crop (`read_crops`)."""
        reader = cls.load(
            recognizer,
            input_size=CROP_LOCATE_SIZE,
            min_score=CROP_LOCATE_MIN_SCORE,
            threads=threads or vision.threads,
            model_dir=vision.detector_model,
        )
        reader.tight_view = True
        return reader

    @classmethod
    def for_workers(
        cls, vision: VisionSettings, recognizer: PlateRecognizer | None, input_size: int | None = None
    ) -> PlateReader:
        """The camera workers' profile: `vision.detector_precision` at `vision.detector_input_size`,
        HD frames at `vision.detector_input_size_hd`; an explicit `input_size` is used for all."""
        return cls.load(
            recognizer,
            input_size=input_size or vision.detector_input_size,
            min_score=vision.detector_min_score,
            threads=vision.threads,
            model_dir=vision.detector_model,
            precision=vision.detector_precision,
            hd_input_size=0 if input_size else vision.detector_input_size_hd,
        )

    def _views(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> list[np.ndarray]:
        """One plate's crops for the recogniser: as cut (with a margin), as boxed (`tight_view`),
        and laid out as one line when the box is shaped like a two-line plate."""
        views = [crop_plate(frame, box)]
        if self.tight_view and (tight := _box_pixels(frame, box)).shape[0] >= 4 and tight.shape[1] >= 8:
            views.append(tight)
        if _looks_two_line(box) and (line := two_line_as_one(frame, box)) is not None:
            views.append(line)
        return views

    def _choose(self, readings: Sequence[PlateReading]) -> PlateReading:
        """`lpr read`'s profile: the views vote (`combine_views`). The workers (the crop as cut,
        and the one-line layout of a two-line box): the more confident reading, which held-out
        real crops read as well as the vote does with two views (0.953 vs 0.948)."""
        if self.tight_view:
            return combine_views(readings)
        return max(readings, key=lambda r: r.confidence)

    def _read_views(
        self, plates: Sequence[tuple[np.ndarray, tuple[float, float, float, float]]]
    ) -> list[PlateReading]:
        """Each plate (frame, box) read in all its views, in one recogniser call; per plate the
        profile's choice among the views (`_choose`), fitted to the plate's colour (`lpr.plate_colour`)."""
        assert self.recognizer is not None
        views = [self._views(frame, box) for frame, box in plates]
        flat = [v for vs in views for v in vs]
        read = list(self.recognizer.read(flat)) if flat else []
        readings, cursor = [], 0
        for (frame, box), vs in zip(plates, views, strict=True):
            readings.append(
                fit_to_colour(self._choose(read[cursor : cursor + len(vs)]), _box_pixels(frame, box))
            )
            cursor += len(vs)
        return readings

    def read_frames(self, frames: Sequence[np.ndarray]) -> list[list[FramePlate]]:
        """All plates in several frames: one detector call, one recogniser call.

        A plate is read in several views (`_views`): as cut; as boxed, in `lpr read`'s profile;
        laid out as one line (`two_line_as_one`) when its box is shaped like a two-line plate.
        The views vote (`combine_views`), so a view the recogniser reads badly loses little.
        The stored crop is always the plate as seen. On an old green plate, a commercial
        reading (ㅏ read for ㅓ) gives way to the likeliest alternative a green plate can carry
        (`lpr.plate_colour`).
        """
        detections = self.detector.detect(frames)
        boxes = [(f, d.box) for f, ds in zip(frames, detections, strict=True) for d in ds]
        crops = [crop_plate(f, box) for f, box in boxes]
        readings: list[PlateReading | None] = [None] * len(crops)
        if self.recognizer is not None and boxes:
            readings = list(self._read_views(boxes))
        results, cursor = [], 0
        for dets in detections:
            plates = []
            for det in dets:
                plates.append(_frame_plate(det, readings[cursor], crops[cursor]))
                cursor += 1
            results.append(plates)
        return results

    def read_crops(self, crops: Sequence[np.ndarray]) -> list[PlateReading | None]:
        """Readings of plate crops (`lpr read --crops`): the detector finds the plate in each
        crop, and the crop is read as given and in the views of that box (`_views`); without a
        box, as given. None for every crop when there is no recogniser."""
        if self.recognizer is None:
            return [None] * len(crops)
        found = self.detector.detect(crops) if crops else []
        out: list[PlateReading | None] = []
        for crop, dets in zip(crops, found, strict=True):
            if not dets:
                out.append(fit_to_colour(self.recognizer.read([crop])[0], crop))
                continue
            box = dets[0].box  # the best-scored box: a crop holds one plate
            views = [crop, *self._views(crop, box)[1:]]
            reading = self._choose(self.recognizer.read(views))
            out.append(fit_to_colour(reading, _box_pixels(crop, box)))
        return out

    def read_frame(self, frame: np.ndarray) -> list[FramePlate]:
        return self.read_frames([frame])[0]


def _frame_plate(det: Detection, reading: PlateReading | None, crop: np.ndarray) -> FramePlate:
    if reading is None:
        return FramePlate(det.box, det.score, None, None, (), crop)
    return FramePlate(det.box, det.score, reading.text, reading.confidence, reading.alternatives, crop)
