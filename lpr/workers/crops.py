"""Crop store: best-crop JPEGs under crops/YYYY/MM/DD/<read_id>.jpg, fsync'd before the read is."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np


def store_crop(root: Path, read_id: str, at: datetime, crop: np.ndarray) -> str | None:
    ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        return None
    ref = f"{at:%Y/%m/%d}/{read_id}.jpg"
    path = root / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(data.tobytes())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # a replayed pass overwrites its own crop, never leaves a torn one
    return ref
