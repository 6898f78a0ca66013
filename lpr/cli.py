"""`lpr read`: the models' public interface, one JSON line per image.

    lpr read PATH...            detect plates in scenes and read them
    lpr read --crops PATH...    read plate crops (one plate each; the detector only finds it in the crop)

Output (stable): {"image", "plates": [{"box", "score", "text", "confidence"}]} or, with
--crops, {"image", "text", "confidence"}; a bad file gives {"image", "error"} and the exit
status is 1 at the end, but the batch always runs to the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from anpr_core.settings import SettingsError, VisionSettings, load_settings
from lpr.detector import DetectorUnavailable
from lpr.imageio import ImageLoadError, expand_paths, load_image
from lpr.pipeline import PlateReader
from lpr.plate_colour import fit_to_colour
from lpr.recognizer import PlateReading, PlateRecognizer, RecognizerUnavailable, load_recognizer


def _emit(record: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _load_or_report(path: Path) -> np.ndarray | None:
    """The image, or None after printing its error line (the batch goes on)."""
    try:
        return load_image(path)
    except ImageLoadError as exc:
        _emit({"image": str(path), "error": str(exc)})
        return None


def _crop_reader(
    vision: VisionSettings, recognizer: PlateRecognizer | None, threads: int
) -> Callable[[list[np.ndarray]], list[PlateReading | None]]:
    """`PlateReader.read_crops` (the plate found in the crop, read in views); without the
    detector's weights, the crop read as given."""
    try:
        return PlateReader.for_crops(vision, recognizer, threads).read_crops
    except DetectorUnavailable as exc:
        print(f"warning: {exc}; crops are read as given", file=sys.stderr)
    if recognizer is None:
        return lambda crops: [None] * len(crops)
    return lambda crops: [fit_to_colour(r, c) for r, c in zip(recognizer.read(crops), crops, strict=True)]


def read_crops(paths: list[Path], read: Callable[[list[np.ndarray]], list[PlateReading | None]]) -> int:
    failures = 0
    for path in paths:
        image = _load_or_report(path)
        if image is None:
            failures += 1
            continue
        reading = read([image])[0]
        if reading is None:
            _emit({"image": str(path), "text": None, "confidence": None})
            continue
        _emit(
            {
                "image": str(path),
                "text": reading.text,
                "confidence": round(reading.confidence, 4),
                "alternatives": [{"text": t, "confidence": c} for t, c in reading.alternatives],
            }
        )
    return failures


def read_scenes(paths: list[Path], reader: PlateReader) -> int:
    failures = 0
    for path in paths:
        image = _load_or_report(path)
        if image is None:
            failures += 1
            continue
        plates = reader.read_frame(image)
        _emit(
            {
                "image": str(path),
                "plates": [
                    {
                        "box": [round(v, 1) for v in p.box],
                        "score": round(p.score, 4),
                        "text": p.text,
                        "confidence": None if p.confidence is None else round(p.confidence, 4),
                    }
                    for p in plates
                ],
            }
        )
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lpr", description="Korean licence-plate recognition")
    sub = parser.add_subparsers(dest="command", required=True)
    read = sub.add_parser("read", help="read plates in images; one JSON line per image")
    read.add_argument("paths", nargs="+", help="image files or directories")
    read.add_argument("--crops", action="store_true", help="inputs are plate crops, one plate each")
    read.add_argument("--threads", type=int, default=None, help="inference threads (default: vision.threads)")
    args = parser.parse_args(argv)
    try:
        vision = load_settings().vision
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    threads = args.threads or vision.threads

    try:  # `lpr read` is the public evaluation interface: always the fp32 models
        recognizer: PlateRecognizer | None = load_recognizer(vision.recognizer_model, threads=threads)
    except RecognizerUnavailable as exc:
        print(f"warning: {exc}; text will be null", file=sys.stderr)
        recognizer = None
    paths = list(expand_paths(args.paths))
    if args.crops:
        failures = read_crops(paths, _crop_reader(vision, recognizer, threads))
    else:
        failures = read_scenes(paths, PlateReader.for_reading(vision, recognizer, threads))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
