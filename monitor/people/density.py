"""Crowd count from a density head on the person detector's own outputs.

Dense far crowds (elevated street views, 10–20 px heads) defeat a box detector: it finds the near
people only. The density head reads, for every 16-px cell of the network input, what the detector
computes anyway — the P3 (2×2-pooled) and P4 neck features and the person scores of its three
heads (objectness × class, per anchor; P3 max-pooled, P5 spread over its four cells), 210 numbers
— and predicts how many heads the cell holds with a small MLP (210 → 64 ReLU → 1, clipped at
zero), fitted on the tuning half of a scene's real crowd photos by `training/people/density.py`.
The per-cell counts are summed and calibrated (count ≈ a·sum + b, fitted on the same half).

Heads: `density_head.npz` (street views, ShanghaiTech B, read at 2048: a 1024-px frame is
doubled so 10-px heads are 20 px to the network) and `density_head_mall.npz` (indoor mall CCTV).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from monitor.people.detector import PersonDetector
from monitor.people.types import Person, PersonDetectorUnavailable

HEAD_FILE = "density_head.npz"
MALL_HEAD_FILE = "density_head_mall.npz"
CELL = 16  # network-input pixels per density cell (the P4 stride)
# Head boxes (`DensityCounter.head_boxes`): a head is where the density over 3×3 cells reaches
# HEAD_MASS; its box is a person of the height the frame's own boxes have at that row, HEAD_WIDTH
# of it wide, the head HEAD_TOP of it below the top. Chosen on the mall tuning half (boxes at
# score 0.3): the share of heads in a box and of boxes holding a head, the smaller of the two.
HEAD_MASS, HEAD_WIDTH, HEAD_TOP = 0.4, 0.6, 0.2


def _pool(a: np.ndarray, reduce) -> np.ndarray:
    c, h, w = a.shape
    return reduce(a[:, : h // 2 * 2, : w // 2 * 2].reshape(c, h // 2, 2, w // 2, 2), axis=(2, 4))


def _person_scores(raw: np.ndarray) -> np.ndarray:
    """One head map (3·85 × H × W) → σ(objectness) and σ(P(person)) of its three anchors (6 × H × W)."""
    maps = raw.reshape(3, 85, *raw.shape[1:])[:, [4, 5]].reshape(6, *raw.shape[1:])
    return 1 / (1 + np.exp(-maps.astype(np.float32)))


def cell_features(outputs: dict[str, np.ndarray]) -> np.ndarray:
    """The detector's outputs for one image (batch item 0) → 210 features per 16-px cell (C × H × W)."""
    f3, f4 = outputs["f3"][0].astype(np.float32), outputs["f4"][0].astype(np.float32)
    h, w = f4.shape[1:]
    p5 = np.repeat(np.repeat(_person_scores(outputs["p5"][0]), 2, 1), 2, 2)[:, :h, :w]
    parts = [
        _pool(f3, np.mean),
        f4,
        _pool(_person_scores(outputs["p3"][0]), np.max),
        _person_scores(outputs["p4"][0]),
        p5,
    ]
    return np.concatenate(parts)


def frame_features(detector: PersonDetector, frame: np.ndarray, input_size: int) -> tuple[np.ndarray, float]:
    """Per-cell features of the whole frame with the long side at `input_size`, and the frame →
    network-input scale."""
    size, detector.input_size = detector.input_size, input_size
    try:
        canvas, scale = detector._canvas(frame)
    finally:
        detector.input_size = size
    batch = np.ascontiguousarray(canvas[None, ..., ::-1].transpose(0, 3, 1, 2), np.float32) / 255.0
    names = ["p3", "p4", "p5", "f3", "f4"]
    outputs = dict(zip(names, detector.session.run(names, {detector.input_name: batch}), strict=True))
    return cell_features(outputs), scale


def mlp_cells(params: dict[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    """Per-cell features (C × H × W) → heads per cell (H × W), before calibration."""
    x = (features.reshape(len(features), -1).T - params["mean"]) / params["std"]
    hidden = np.maximum(x @ params["w1"] + params["b1"], 0)
    return np.maximum(hidden @ params["w2"] + params["b2"], 0).reshape(features.shape[1:])


class DensityCounter:
    def __init__(self, detector: PersonDetector, model_dir: Path, head: str = HEAD_FILE) -> None:
        path = Path(model_dir) / head
        if not path.is_file():
            raise PersonDetectorUnavailable(f"density head not found: {path}")
        with np.load(path) as data:
            self.params = {k: data[k].astype(np.float32) for k in ("mean", "std", "w1", "b1", "w2", "b2")}
            self.scale, self.offset = float(data["scale"]), float(data["offset"])  # count calibration
            self.input_size = int(data["input_size"])
        self.detector = detector

    def features(self, frame: np.ndarray) -> tuple[np.ndarray, float]:
        return frame_features(self.detector, frame, self.input_size)

    def cells(self, features: np.ndarray) -> np.ndarray:
        return mlp_cells(self.params, features)

    def density_map(self, frame: np.ndarray) -> np.ndarray:
        """Heads per 16-px cell of the network input over the frame (the grey padding is zeroed)."""
        features, scale = self.features(frame)
        cells = self.cells(features)
        rows = int(np.ceil(frame.shape[0] * scale / CELL))
        cols = int(np.ceil(frame.shape[1] * scale / CELL))
        cells[rows:], cells[:, cols:] = 0, 0
        return cells

    def count(self, frame: np.ndarray) -> float:
        return max(0.0, self.scale * float(self.density_map(frame).sum()) + self.offset)

    def zone_counts(
        self, frame: np.ndarray, polygons: dict[str, list[tuple[float, float]]]
    ) -> dict[str, float]:
        """People in each image polygon: the cells whose centres are inside, calibrated like the
        whole frame (the calibration's offset shared out by the zone's share of the cells)."""
        cells = self.density_map(frame)
        rows, cols = cells.shape
        to_frame = CELL * max(frame.shape[:2]) / self.input_size
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

    def head_boxes(self, frame: np.ndarray, persons: list[Person]) -> list[Person]:
        """Persons the box detector missed (hidden behind others, or far and small) but whose
        heads the density head sees: a box for each head outside every detected box. Score: the
        density's mass at the head (≤ 1)."""
        boxes = np.array([p.box for p in persons], np.float64).reshape(-1, 4)
        height = _height_by_row(boxes)
        if height is None:
            return []
        features, scale = self.features(frame)
        cells = self.cells(features)
        cells[int(np.ceil(frame.shape[0] * scale / CELL)) :] = 0
        cells[:, int(np.ceil(frame.shape[1] * scale / CELL)) :] = 0
        cells = cells.astype(np.float32)
        to_frame = CELL / scale
        added: list[Person] = []
        for _ in range(int(cells.sum() / HEAD_MASS) + 1):
            mass = cv2.boxFilter(cells, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
            row, col = np.unravel_index(int(np.argmax(mass)), mass.shape)
            if mass[row, col] < HEAD_MASS:
                break
            r0, c0 = max(0, row - 1), max(0, col - 1)
            patch = cells[r0 : row + 2, c0 : col + 2]
            total = float(patch.sum())
            ys, xs = np.mgrid[r0 : r0 + patch.shape[0], c0 : c0 + patch.shape[1]]
            x = float(((xs + 0.5) * patch).sum() / total * to_frame)
            y = float(((ys + 0.5) * patch).sum() / total * to_frame)
            cells[r0 : row + 2, c0 : col + 2] = np.maximum(0, patch - patch / total * min(1.0, total))
            inside = (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])
            if inside.any():  # that head is in a person box already
                continue
            h = height(y)
            box = (x - HEAD_WIDTH * h / 2, y - HEAD_TOP * h, x + HEAD_WIDTH * h / 2, y + (1 - HEAD_TOP) * h)
            added.append(Person(box, min(1.0, total)))
            boxes = np.vstack([boxes, box])
        return added


def _height_by_row(boxes: np.ndarray):
    """A person's height in pixels at an image row, from the frame's own boxes (perspective:
    height linear in the row of the box top); None without any box to go by."""
    if not len(boxes):
        return None
    heights = boxes[:, 3] - boxes[:, 1]
    floor = float(np.percentile(heights, 10))
    if len(boxes) < 4 or np.ptp(boxes[:, 1]) < 1:
        median = float(np.median(heights))
        return lambda y: median
    slope, intercept = np.polyfit(boxes[:, 1], heights, 1)
    return lambda y: max(floor, float(slope * y + intercept))
