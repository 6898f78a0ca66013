"""Score plate detections against labelled boxes: recall, precision, whole-plate boxes, sizes.

A detection matches a labelled plate at IoU ≥ 0.5 (one to one, highest score first). Besides
recall and precision it counts how many labelled plates got a box that covers the *whole* plate
(IoU ≥ 0.7: a box around `59라 2` of `59라 2730` does not), how many plates were boxed in parts
(two or more detections lying inside one plate, none of them matching it), and recall per plate
width (pixels in the original frame), because far CCTV plates fail first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lpr.geometry import iou

Box = tuple[float, float, float, float]
WIDTH_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<40", 0, 40),
    ("40-80", 40, 80),
    ("80-160", 80, 160),
    (">160", 160, float("inf")),
)


def width_bucket(box: Sequence[float]) -> str:
    width = box[2] - box[0]
    return next(name for name, low, high in WIDTH_BUCKETS if low <= width < high)


def _inside_share(inner: Sequence[float], outer: Sequence[float]) -> float:
    """The share of `inner`'s area that lies inside `outer`."""
    ix = max(0.0, min(inner[2], outer[2]) - max(inner[0], outer[0]))
    iy = max(0.0, min(inner[3], outer[3]) - max(inner[1], outer[1]))
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return ix * iy / area if area > 0 else 0.0


@dataclass(frozen=True)
class FrameResult:
    """How one frame's detections relate to its labelled plates."""

    matched: tuple[tuple[int, int, float], ...]  # (detection index, truth index, IoU)
    false_boxes: tuple[int, ...]  # detections matching no labelled plate
    missed: tuple[int, ...]  # labelled plates no detection matched
    split: tuple[int, ...]  # missed plates covered by ≥ 2 partial boxes


def match_frame(
    detections: Sequence[Box], scores: Sequence[float], truth: Sequence[Box], min_iou: float = 0.5
) -> FrameResult:
    order = sorted(range(len(detections)), key=lambda i: -scores[i])
    free = set(range(len(truth)))
    matched: list[tuple[int, int, float]] = []
    false_boxes: list[int] = []
    for d in order:
        best = max(free, key=lambda t: iou(detections[d], truth[t]), default=None)
        overlap = iou(detections[d], truth[best]) if best is not None else 0.0
        if best is not None and overlap >= min_iou:
            free.remove(best)
            matched.append((d, best, overlap))
        else:
            false_boxes.append(d)
    missed = tuple(sorted(free))
    split = tuple(
        t for t in missed if sum(_inside_share(detections[d], truth[t]) >= 0.7 for d in false_boxes) >= 2
    )
    return FrameResult(tuple(matched), tuple(false_boxes), missed, split)


@dataclass
class DetectionTally:
    """Counts over many frames."""

    true_positives: int = 0
    false_positives: int = 0
    plates: int = 0
    whole_plate: int = 0  # labelled plates matched at IoU ≥ 0.7
    split_plates: int = 0
    by_width: dict[str, list[int]] = field(
        default_factory=lambda: {name: [0, 0] for name, _, _ in WIDTH_BUCKETS}
    )  # bucket → [found, labelled]

    def add(self, result: FrameResult, truth: Sequence[Box]) -> None:
        self.true_positives += len(result.matched)
        self.false_positives += len(result.false_boxes)
        self.plates += len(truth)
        self.whole_plate += sum(overlap >= 0.7 for _, _, overlap in result.matched)
        self.split_plates += len(result.split)
        found = {t for _, t, _ in result.matched}
        for index, box in enumerate(truth):
            bucket = self.by_width[width_bucket(box)]
            bucket[0] += index in found
            bucket[1] += 1

    @property
    def recall(self) -> float:
        return self.true_positives / max(1, self.plates)

    @property
    def precision(self) -> float:
        return self.true_positives / max(1, self.true_positives + self.false_positives)

    @property
    def whole_plate_share(self) -> float:
        return self.whole_plate / max(1, self.plates)

    def recall_wider_than(self, pixels: float) -> float:
        found = labelled = 0
        for name, low, _ in WIDTH_BUCKETS:
            if low >= pixels:
                found += self.by_width[name][0]
                labelled += self.by_width[name][1]
        return found / max(1, labelled)

    def summary(self) -> dict[str, object]:
        return {
            "plates": self.plates,
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "whole_plate_iou07": round(self.whole_plate_share, 4),
            "split_plates": self.split_plates,
            "false_boxes": self.false_positives,
            "recall_wider_than_80": round(self.recall_wider_than(80), 4),
            "by_width": {
                name: {"found": f, "plates": n, "recall": round(f / n, 4) if n else None}
                for name, (f, n) in self.by_width.items()
            },
        }
