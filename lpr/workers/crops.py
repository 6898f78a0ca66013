"""Crop store: best-crop JPEGs under crops/YYYY/MM/DD/<read_id>.jpg, fsync'd before the read is,
and next to each a small JPEG of the whole frame that crop came from (<read_id>.frame.jpg: the
scene an operator confirms an alert against).

Crops and frames show plates (personal data): directories 0700 and files 0600, for the service
user only. Both live in the same day folders, so retention removes them together.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

# The alert card shows the scene at thumbnail size; 320 px wide keeps the vehicle and the lane
# recognisable (a 1080p frame scaled by 1/6) at 10–20 KB a pass.
FRAME_MAX_WIDTH = 320
FRAME_JPEG_QUALITY = 80


def store_crop(root: Path, read_id: str, at: datetime, crop: np.ndarray) -> str | None:
    ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        return None
    ref = f"{at:%Y/%m/%d}/{read_id}.jpg"
    _write_private(root, ref, data.tobytes())
    return ref


def frame_thumbnail(frame: np.ndarray, max_width: int = FRAME_MAX_WIDTH) -> bytes | None:
    """The frame scaled down to at most `max_width` pixels wide, as JPEG bytes.

    Made when a frame is looked at (the full frame is not kept while a track lasts: a stopped
    car's track holds hundreds of sightings); a few hundred microseconds for a 640×360 frame.
    """
    height, width = frame.shape[:2]
    if width > max_width:
        size = (max_width, max(1, round(height * max_width / width)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, FRAME_JPEG_QUALITY])
    return data.tobytes() if ok else None


def store_frame(root: Path, read_id: str, at: datetime, jpeg: bytes) -> str:
    ref = f"{at:%Y/%m/%d}/{read_id}.frame.jpg"
    _write_private(root, ref, jpeg)
    return ref


def _write_private(root: Path, ref: str, data: bytes) -> None:
    path = root / ref
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(root, 0o700)  # a crop root made before crops were private
    directory = root
    for part in ref.split("/")[:-1]:
        directory = directory / part
        directory.mkdir(exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # a replayed pass overwrites its own file, never leaves a torn one
