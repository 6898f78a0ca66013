"""Non-maximum suppression in numpy (no torch at run time)."""

from __future__ import annotations

import numpy as np


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Indices of the boxes kept, best first. boxes: N×4 (x1, y1, x2, y2)."""
    if len(boxes) == 0:
        return []
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(0, x2 - x1) * np.maximum(0, y2 - y1)
    order = scores.argsort()[::-1]
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        ix1, iy1 = np.maximum(x1[best], x1[rest]), np.maximum(y1[best], y1[rest])
        ix2, iy2 = np.minimum(x2[best], x2[rest]), np.minimum(y2[best], y2[rest])
        inter = np.maximum(0, ix2 - ix1) * np.maximum(0, iy2 - iy1)
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou < iou_threshold]
    return keep
