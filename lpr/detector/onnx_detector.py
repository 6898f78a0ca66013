"""YOLO plate detector on ONNX Runtime: letterbox, batched inference, NMS in numpy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from lpr.detector.nms import non_max_suppression
from lpr.detector.types import Detection, DetectorUnavailable
from lpr.onnx_session import cpu_session

MODEL_FILE = "plate_det.onnx"


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize keeping the aspect ratio and pad to size×size (grey 114, as in training)."""
    h, w = image.shape[:2]
    scale = min(size / h, size / w)
    nh, nw = round(h * scale), round(w * scale)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    top, left = (size - nh) // 2, (size - nw) // 2
    canvas = np.full((size, size, 3), 114, np.uint8)
    canvas[top : top + nh, left : left + nw] = resized
    return canvas, scale, (left, top)


class OnnxPlateDetector:
    def __init__(
        self, model_dir: Path, input_size: int = 640, threads: int = 2, min_score: float = 0.5
    ) -> None:
        model = model_dir / MODEL_FILE
        if not model.is_file():
            raise DetectorUnavailable(f"detector weights not found: {model}")
        self.session = cpu_session(model, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.input_size = input_size
        self.min_score = min_score

    def detect(self, frames: Sequence[np.ndarray], iou: float = 0.5) -> list[list[Detection]]:
        """Detect plates in several frames (e.g. from several cameras) in one inference call."""
        if not frames:
            return []
        boxed = [letterbox(frame, self.input_size) for frame in frames]
        batch = np.stack([b[0] for b in boxed])[..., ::-1].transpose(0, 3, 1, 2)  # BGR→RGB, NCHW
        output = self.session.run(None, {self.input_name: np.ascontiguousarray(batch, np.float32) / 255.0})[0]
        results: list[list[Detection]] = []
        for prediction, (_, scale, (left, top)), frame in zip(output, boxed, frames, strict=True):
            # prediction: 5×N rows cx, cy, w, h, score (one class)
            scores = prediction[4]
            keep = scores >= self.min_score
            cx, cy, bw, bh = prediction[:4, keep]
            boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
            chosen = non_max_suppression(boxes, scores[keep], iou)
            h, w = frame.shape[:2]
            detections = []
            for index in chosen:
                x1, y1, x2, y2 = boxes[index]
                x1, x2 = np.clip([(x1 - left) / scale, (x2 - left) / scale], 0, w)
                y1, y2 = np.clip([(y1 - top) / scale, (y2 - top) / scale], 0, h)
                if x2 - x1 >= 4 and y2 - y1 >= 2:
                    detections.append(
                        Detection((float(x1), float(y1), float(x2), float(y2)), float(scores[keep][index]))
                    )
            results.append(detections)
        return results
