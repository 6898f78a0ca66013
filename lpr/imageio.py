"""Load images for the CLI and tests: a clear error for anything that is not a readable image."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class ImageLoadError(ValueError):
    pass


def expand_paths(paths: list[str]) -> Iterator[Path]:
    """Files as given; directories recursively, images only, in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        else:
            yield path


def load_image(path: Path) -> np.ndarray:
    if not path.exists():
        raise ImageLoadError("file not found")
    if not path.is_file():
        raise ImageLoadError("not a regular file")
    data = path.read_bytes()
    if not data:
        raise ImageLoadError("empty file")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise ImageLoadError("not a readable image (corrupt or unsupported format)")
    return image
