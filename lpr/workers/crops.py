"""Crop store: best-crop JPEGs under crops/YYYY/MM/DD/<read_id>.jpg, fsync'd before the read is.

Crops show plates (personal data): directories 0700 and files 0600, for the service user only.
"""

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
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(root, 0o700)  # a crop root made before crops were private
    directory = root
    for part in ref.split("/")[:-1]:
        directory = directory / part
        directory.mkdir(exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(data.tobytes())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # a replayed pass overwrites its own crop, never leaves a torn one
    return ref
