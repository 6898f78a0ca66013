"""COCO YOLOv5n v6.1 person detector on ONNX Runtime.

The ONNX graph (training/people/export.py) outputs the three raw head maps; here they are decoded
as YOLOv5 v6.1 does: sigmoid of every channel, centre = (2σ − 0.5 + cell) × stride, size =
(2σ)² × anchor, score = objectness × P(person). Small people far from the camera are found by
tiling: the frame is cut into overlapping tiles, each scaled to the network input, so a person
covers more network pixels; the tiles' boxes are merged by one NMS over the frame.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from anpr_core.nms import non_max_suppression
from anpr_core.onnx_session import cpu_session
from monitor.people.types import Person, PersonDetectorUnavailable

MODEL_FILES = {"fp32": "person_det.onnx", "int8": "person_det.int8.onnx"}
STRIDE = 32
PERSON = 0  # COCO class index


def decode(maps: Sequence[np.ndarray], anchors: np.ndarray, strides: Sequence[int], min_score: float):
    """Raw head maps (N × 3·85 × H × W each) → per image (boxes N×4 xyxy, person scores), in the
    network input's pixels."""
    batch = maps[0].shape[0]
    boxes: list[list[np.ndarray]] = [[] for _ in range(batch)]
    scores: list[list[np.ndarray]] = [[] for _ in range(batch)]
    for level, (raw, stride) in enumerate(zip(maps, strides, strict=True)):
        n, _, h, w = raw.shape
        raw = raw.reshape(n, 3, -1, h, w)
        # Only the six channels a person needs: x, y, w, h, objectness, class 0.
        head = 1 / (1 + np.exp(-raw[:, :, : 5 + PERSON + 1].astype(np.float32)))
        score = head[:, :, 4] * head[:, :, 5 + PERSON]  # n × 3 × h × w
        for image in range(n):
            a, gy, gx = np.nonzero(score[image] > min_score)
            if not len(a):
                continue
            cell = head[image, a, :, gy, gx]  # k × 6
            cx = (cell[:, 0] * 2 - 0.5 + gx) * stride
            cy = (cell[:, 1] * 2 - 0.5 + gy) * stride
            bw = (cell[:, 2] * 2) ** 2 * anchors[level, a, 0]
            bh = (cell[:, 3] * 2) ** 2 * anchors[level, a, 1]
            boxes[image].append(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1))
            scores[image].append(score[image, a, gy, gx])
    return [
        (np.concatenate(b) if b else np.zeros((0, 4), np.float32), np.concatenate(s) if s else np.zeros(0))
        for b, s in zip(boxes, scores, strict=True)
    ]


def tile_windows(height: int, width: int, tiles: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """`tiles` × `tiles` windows (x1, y1, x2, y2) covering the frame, neighbours overlapping by
    `overlap` of a window so a person cut by one tile's edge is whole in the next."""
    if tiles <= 1:
        return [(0, 0, width, height)]
    tw = int(np.ceil(width / (tiles - (tiles - 1) * overlap)))
    th = int(np.ceil(height / (tiles - (tiles - 1) * overlap)))
    xs = np.linspace(0, width - tw, tiles).round().astype(int)
    ys = np.linspace(0, height - th, tiles).round().astype(int)
    return [(int(x), int(y), int(x) + tw, int(y) + th) for y in ys for x in xs]


class PersonDetector:
    def __init__(
        self,
        model_dir: Path,
        *,
        input_size: int = 640,
        min_score: float = 0.25,
        iou: float = 0.45,
        tiles: int = 1,
        tile_overlap: float = 0.2,
        threads: int = 1,
        precision: str = "fp32",
    ) -> None:
        if precision not in MODEL_FILES:
            raise PersonDetectorUnavailable(f"person model precision must be fp32 or int8, not {precision!r}")
        model = Path(model_dir) / MODEL_FILES[precision]
        meta_path = Path(model_dir) / "person_det.json"
        if not model.is_file() or not meta_path.is_file():
            raise PersonDetectorUnavailable(f"person model not found: {model}")
        meta = json.loads(meta_path.read_text())
        self.anchors = np.asarray(meta["anchors"], np.float32).reshape(3, 3, 2)
        self.strides = meta["strides"]
        self.session = cpu_session(model, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.input_size, self.min_score, self.iou = input_size, min_score, iou
        self.tiles, self.tile_overlap = tiles, tile_overlap

    def _canvas(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """Scale so the long side is `input_size`, pad right/bottom to a multiple of 32 (grey)."""
        h, w = image.shape[:2]
        scale = self.input_size / max(h, w)
        nh, nw = round(h * scale), round(w * scale)
        resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
        ch, cw = -(-nh // STRIDE) * STRIDE, -(-nw // STRIDE) * STRIDE
        canvas = np.full((ch, cw, 3), 114, np.uint8)
        canvas[:nh, :nw] = resized
        return canvas, scale

    def raw(self, frame: np.ndarray, min_score: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every box over `min_score` in frame pixels, before NMS (all tiles together)."""
        threshold = self.min_score if min_score is None else min_score
        windows = tile_windows(*frame.shape[:2], self.tiles, self.tile_overlap)
        tiles = [self._canvas(frame[y1:y2, x1:x2]) for x1, y1, x2, y2 in windows]
        canvases, scales = zip(*tiles, strict=True)
        # BGR → RGB, HWC → NCHW, 0–1: all tiles have one shape, so one inference call.
        batch = np.stack(canvases)[..., ::-1].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        maps = self.session.run(self.outputs[:3], {self.input_name: np.ascontiguousarray(batch)})
        all_boxes, all_scores = [], []
        for (boxes, scores), scale, (x1, y1, x2, y2) in zip(
            decode(maps, self.anchors, self.strides, threshold), scales, windows, strict=True
        ):
            boxes = boxes / scale + np.array([x1, y1, x1, y1], np.float32)
            boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(x1, x2)
            boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(y1, y2)
            all_boxes.append(boxes)
            all_scores.append(scores)
        return np.concatenate(all_boxes), np.concatenate(all_scores)

    def neck_features(self, frame: np.ndarray) -> np.ndarray:
        """The whole frame's P3 (2×2-pooled) and P4 neck features, one 192-vector per 16-px cell
        of the network input (C × H/16 × W/16), for the crowd-density head."""
        canvas, _ = self._canvas(frame)
        batch = canvas[None, ..., ::-1].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        f3, f4 = self.session.run(["f3", "f4"], {self.input_name: np.ascontiguousarray(batch)})
        c, h, w = f3.shape[1:]
        f3 = f3[0].reshape(c, h // 2, 2, w // 2, 2).mean((2, 4))
        return np.concatenate([f3, f4[0]])

    def detect(self, frame: np.ndarray) -> list[Person]:
        boxes, scores = self.raw(frame)
        keep = non_max_suppression(boxes, scores, self.iou)
        return [Person(tuple(float(v) for v in boxes[i]), float(scores[i])) for i in keep]
