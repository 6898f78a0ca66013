"""Far CCTV frames from real Korean scenes: the scene shrunk into a 1920×1080 frame.

The Korean scene photos show plates 144–345 px wide; an overview CCTV camera sees the same plates
at 20–100 px. Shrinking the real photo (area averaging, as optics and the sensor do) into a
1080p frame gives real plates at those widths with their real surroundings. The rest of the frame
is the same photo, blurred beyond recognition, so no unlabelled plate appears.
"""

from __future__ import annotations

import random

import cv2
import numpy as np

Box = tuple[float, float, float, float]
FRAME = (1080, 1920)  # height, width


def far_frame(
    scene: np.ndarray, plates: list[Box], main_plate: Box, target_width: float, seed: int
) -> tuple[np.ndarray, list[Box]]:
    """The scene scaled so `main_plate` is `target_width` px wide, placed in a 1080p frame."""
    rng = random.Random(seed)
    fh, fw = FRAME
    scale = target_width / max(1.0, main_plate[2] - main_plate[0])
    small = cv2.resize(scene, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    frame = cv2.GaussianBlur(cv2.resize(scene, (fw, fh), interpolation=cv2.INTER_AREA), (0, 0), 30)
    # Where the shrunk scene goes: anywhere, but if it is larger than the frame, the window of it
    # that is shown keeps the main plate inside.
    px, py = (main_plate[0] + main_plate[2]) / 2 * scale, (main_plate[1] + main_plate[3]) / 2 * scale
    if sw <= fw:
        src_x, dst_x, width = 0, rng.randint(0, fw - sw), sw
    else:
        src_x = int(np.clip(px - rng.uniform(0.2, 0.8) * fw, 0, sw - fw))
        dst_x, width = 0, fw
    if sh <= fh:
        src_y, dst_y, height = 0, rng.randint(0, fh - sh), sh
    else:
        src_y = int(np.clip(py - rng.uniform(0.2, 0.8) * fh, 0, sh - fh))
        dst_y, height = 0, fh
    shown = small[src_y : src_y + height, src_x : src_x + width]
    frame[dst_y : dst_y + height, dst_x : dst_x + width] = shown
    boxes = []
    for x0, y0, x1, y1 in plates:
        nx0, nx1 = x0 * scale - src_x + dst_x, x1 * scale - src_x + dst_x
        ny0, ny1 = y0 * scale - src_y + dst_y, y1 * scale - src_y + dst_y
        # Only plates wholly inside the shown window count (a cut plate is not a readable plate).
        if nx0 >= dst_x and ny0 >= dst_y and nx1 <= dst_x + width and ny1 <= dst_y + height:
            boxes.append((nx0, ny0, nx1, ny1))
    return frame, boxes
