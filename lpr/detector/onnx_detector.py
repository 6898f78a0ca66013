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
from lpr.geometry import iou as box_iou

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


# The far-plate pass (`lpr read`): its boxes are kept only for plates narrower than this share of
# the frame's long side (96 px of 1920), which the main pass at 512 sees at under ~26 px and
# misses; larger plates are the main pass's to find, and a larger input cuts them into pieces.
# Chosen on the far CCTV frames (Korean scenes shrunk into 1080p), confirmed on the held-out photos.
FAR_PLATE_SHARE = 0.05
# A small frame is enlarged for the far pass, at most this much: far plates in 640×360 frames
# (Korean scenes shrunk, plates 8–43 px) are found 0.42 without enlarging, 0.68 enlarged to 1280.
MAX_FAR_ENLARGEMENT = 2.5


# Frames at least this wide (HD cameras, 1280×720 and up) get the detector at `hd_input_size`.
HD_MIN_WIDTH = 1280


def far_pass_size(shape: tuple[int, int], main_size: int, far_size: int) -> int:
    """The far pass's input for a frame of `shape`: `far_size`, or less for a small frame (at
    most `MAX_FAR_ENLARGEMENT` × its long side, stride-rounded); 0 when that is no larger than
    the main pass's input (then the far pass would see nothing the main one does not)."""
    size = min(far_size, -(-int(MAX_FAR_ENLARGEMENT * max(shape)) // STRIDE) * STRIDE)
    return size if size > main_size else 0


def _inside_share(inner: tuple[float, ...], outer: tuple[float, ...]) -> float:
    ix = max(0.0, min(inner[2], outer[2]) - max(inner[0], outer[0]))
    iy = max(0.0, min(inner[3], outer[3]) - max(inner[1], outer[1]))
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return ix * iy / area if area > 0 else 0.0


def merge_passes(
    main: list[Detection], extra: list[Detection], iou: float, inside: float = 0.5
) -> list[Detection]:
    """The main pass's boxes plus the larger-input pass's boxes that are new plates.

    A box of the larger pass is dropped when it overlaps a main box (IoU ≥ `iou`: the same
    plate) or lies mostly inside one (`inside` of its area: a piece of a large plate, which a
    larger input cuts up) or contains one (the same plate, boxed looser).
    """
    kept = list(main)
    for det in sorted(extra, key=lambda d: -d.score):
        if any(
            box_iou(det.box, k.box) >= iou
            or _inside_share(det.box, k.box) >= inside
            or _inside_share(k.box, det.box) >= inside
            for k in kept
        ):
            continue
        kept.append(det)
    return sorted(kept, key=lambda d: -d.score)


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
        far_input_size: int = 0,
        hd_input_size: int = 0,
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
        # `lpr read`'s profile: a second pass at a larger input for far plates (0: none); its
        # boxes narrower than `FAR_PLATE_SHARE` of the frame are merged in (`merge_passes`).
        self.far_input_size = far_input_size
        # The camera workers' profile: frames `HD_MIN_WIDTH` wide or more at this input (0: at
        # `input_size`), so a 720p/1080p camera's far plates are not shrunk below what the model
        # finds while SD frames keep the cheaper input.
        self.hd_input_size = hd_input_size

    def input_for(self, frame: np.ndarray) -> int:
        """The main pass's input for this frame."""
        if self.hd_input_size and frame.shape[1] >= HD_MIN_WIDTH:
            return self.hd_input_size
        return self.input_size

    def detect(self, frames: Sequence[np.ndarray], iou: float = 0.5) -> list[list[Detection]]:
        """Detect plates in several frames (e.g. from several cameras) in one inference call per
        canvas shape: cameras usually share a resolution, so that is one call for the batch."""
        sizes = [self.input_for(frame) for frame in frames]
        found = self._detect_at(frames, sizes, iou)
        far_sizes = [
            far_pass_size(frame.shape[:2], size, self.far_input_size)
            for frame, size in zip(frames, sizes, strict=True)
        ]
        wanted = [i for i, size in enumerate(far_sizes) if size]
        if wanted:
            far = self._detect_at([frames[i] for i in wanted], [far_sizes[i] for i in wanted], iou)
            for i, more in zip(wanted, far, strict=True):
                limit = FAR_PLATE_SHARE * max(frames[i].shape[:2])
                small = [d for d in more if d.box[2] - d.box[0] < limit]
                found[i] = merge_passes(found[i], small, iou)
        return [join_fragments(d) if self.join_pieces else d for d in found]

    def _detect_at(
        self, frames: Sequence[np.ndarray], sizes: Sequence[int], iou: float
    ) -> list[list[Detection]]:
        if not frames:
            return []
        groups: dict[tuple[int, tuple[int, int]], list[int]] = {}
        for index, (frame, size) in enumerate(zip(frames, sizes, strict=True)):
            groups.setdefault((size, letterbox_shape(*frame.shape[:2], size)), []).append(index)
        results: list[list[Detection]] = [[] for _ in frames]
        for (size, canvas_shape), indices in groups.items():
            found = self._detect_same_shape([frames[i] for i in indices], size, canvas_shape, iou)
            for index, detections in zip(indices, found, strict=True):
                results[index] = detections
        return results

    def _detect_same_shape(
        self, frames: Sequence[np.ndarray], size: int, canvas_shape: tuple[int, int], iou: float
    ) -> list[list[Detection]]:
        boxed = [letterbox(frame, size, canvas_shape) for frame in frames]
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
            results.append(detections)
        return results
