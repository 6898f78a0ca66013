"""`anpr people PATH...`: the person detector's public evaluation interface (keep it stable).

One JSON line per image: {"image": path, "count": n, "persons": [{"box": [x1, y1, x2, y2],
"score": s}]}; a missing, empty or unreadable file gives {"image": path, "error": ...}, the batch
goes on and the exit status is 1 if any file failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from anpr_core.settings import Settings
from monitor.people.detector import PersonDetector
from monitor.people.types import PersonDetectorUnavailable

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def expand_paths(paths: list[str]) -> Iterator[Path]:
    """Files as given; directories recursively, images only, in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            yield from sorted(found)
        else:
            yield path


def load_image(path: Path) -> np.ndarray:
    if not path.is_file():
        raise ValueError("file not found" if not path.exists() else "not a regular file")
    data = path.read_bytes()
    if not data:
        raise ValueError("empty file")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise ValueError("not a readable image (corrupt or unsupported format)")
    return image


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("people", help="count persons in images (one JSON line per image)")
    parser.add_argument("paths", nargs="+", help="image files or directories")
    parser.add_argument("--input-size", type=int, default=None, help="network input long side")
    parser.add_argument("--tiles", type=int, default=None, help="tiles × tiles windows per image")
    parser.add_argument("--min-score", type=float, default=None)
    parser.add_argument(
        "--head-boxes",
        metavar="HEAD",
        default=None,
        help="also box the heads no person box holds, found by this density head of the model "
        "directory (e.g. density_head_mall.npz for the mall camera; use with --min-score 0.3)",
    )


def detector_from(settings: Settings, args: argparse.Namespace | None = None) -> PersonDetector:
    people = settings.people
    return PersonDetector(
        people.model,
        input_size=getattr(args, "input_size", None) or people.input_size,
        min_score=getattr(args, "min_score", None) or people.min_score,
        iou=people.nms_iou,
        tiles=getattr(args, "tiles", None) or people.tiles,
        tile_overlap=people.tile_overlap,
        threads=people.threads,
        precision=people.precision,
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        detector = detector_from(settings, args)
    except PersonDetectorUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    heads = None
    if getattr(args, "head_boxes", None):
        from monitor.people.density import DensityCounter

        try:
            heads = DensityCounter(detector, settings.people.model, args.head_boxes)
        except PersonDetectorUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    failed = False
    for path in expand_paths(args.paths):
        try:
            image = load_image(path)
            persons = detector.detect(image)
            if heads is not None:
                persons += heads.head_boxes(image, persons)
            line = {"image": str(path), "count": len(persons), "persons": [p.as_json() for p in persons]}
        except ValueError as exc:
            failed = True
            line = {"image": str(path), "error": str(exc)}
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if failed else 0
