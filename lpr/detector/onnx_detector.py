"""YOLO plate detector on ONNX Runtime: letterbox, batched inference, NMS in numpy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from anpr_core.nms import non_max_suppression
from anpr_core.onnx_session import cpu_session
from lpr.detector.fragments import join_fragments
from lpr.detector.types import Detection, DetectorUnavailable

# fp32 is the exported model; int8 is its static quantisation (scripts/quantize_models).
MODEL_FILES = {"fp32": "plate_det.onnx", "int8": "plate_det.int8.onnx"}


# On a featureless frame (a blank, covered or overexposed camera) the model answers with one
# near-square box over most of the picture, learnt from close-up photos whose plate is most of
# the picture. A plate seen that close is still clearly wider than tall, so a box over 40 % of
# the frame that is not is dropped.
MAX_FRAME_SHARE = 0.4
MIN_CLOSE_UP_ASPECT = 1.6

STRIDE = 32  # YOLOv8's largest stride: the network input must be a multiple of it


def letterbox_shape(height: int, width: int, size: int) -> tuple[int, int]:
    """The smallest canvas (H, W), multiples of the stride, that holds the frame scaled so its
    long side is `size`. A 16:9 camera frame at 416 needs 416×256, not 416×416: 40 % less
    compute for the same pixels on the plate (ultralytics' own predict pads the same way)."""
    scale = min(size / height, size / width)
    h, w = round(height * scale), round(width * scale)
    return -(-h // STRIDE) * STRIDE, -(-w // STRIDE) * STRIDE


def letterbox(
    image: np.ndarray, size: int, canvas_shape: tuple[int, int] | None = None
) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize keeping the aspect ratio (long side = `size`) and pad to `canvas_shape` (default
    size×size) with grey 114, as in training, the frame centred."""
    h, w = image.shape[:2]
    canvas_h, canvas_w = canvas_shape or (size, size)
    scale = min(size / h, size / w)
    nh, nw = round(h * scale), round(w * scale)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    top, left = (canvas_h - nh) // 2, (canvas_w - nw) // 2
    canvas = np.full((canvas_h, canvas_w, 3), 114, np.uint8)
    canvas[top : top + nh, left : left + nw] = resized
    return canvas, scale, (left, top)


def _frame_artefact(box_w: float, box_h: float, frame_w: int, frame_h: int) -> bool:
    return box_w * box_h > MAX_FRAME_SHARE * frame_w * frame_h and box_w < MIN_CLOSE_UP_ASPECT * box_h


class OnnxPlateDetector:
    def __init__(
        self,
        model_dir: Path,
        *,
        input_size: int,  # input size and score threshold: from the settings (`vision.*`)
        min_score: float,
        threads: int = 2,
        precision: str = "fp32",
        join_pieces: bool = True,
    ) -> None:
        if precision not in MODEL_FILES:
            choices = ", ".join(sorted(MODEL_FILES))
            raise DetectorUnavailable(f"detector precision must be one of {choices}, not {precision!r}")
        model = model_dir / MODEL_FILES[precision]
        if not model.is_file():
            raise DetectorUnavailable(f"detector weights not found: {model}")
        self.session = cpu_session(model, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.input_size = input_size
        self.min_score = min_score
        # Pieces of one long plate boxed apart are joined into one box (lpr/detector/fragments.py).
        self.join_pieces = join_pieces

    def detect(self, frames: Sequence[np.ndarray], iou: float = 0.5) -> list[list[Detection]]:
        """Detect plates in several frames (e.g. from several cameras) in one inference call per
        canvas shape: cameras usually share a resolution, so that is one call for the batch."""
        if not frames:
            return []
        groups: dict[tuple[int, int], list[int]] = {}
        for index, frame in enumerate(frames):
            groups.setdefault(letterbox_shape(*frame.shape[:2], self.input_size), []).append(index)
        results: list[list[Detection]] = [[] for _ in frames]
        for canvas_shape, indices in groups.items():
            found = self._detect_same_shape([frames[i] for i in indices], canvas_shape, iou)
            for index, detections in zip(indices, found, strict=True):
                results[index] = detections
        return results

    def _detect_same_shape(
        self, frames: Sequence[np.ndarray], canvas_shape: tuple[int, int], iou: float
    ) -> list[list[Detection]]:
        boxed = [letterbox(frame, self.input_size, canvas_shape) for frame in frames]
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
                if x2 - x1 >= 4 and y2 - y1 >= 2 and not _frame_artefact(x2 - x1, y2 - y1, w, h):
                    detections.append(
                        Detection((float(x1), float(y1), float(x2), float(y2)), float(scores[keep][index]))
                    )
            results.append(join_fragments(detections) if self.join_pieces else detections)
        return results
