"""`lpr read`: the models' public interface, one JSON line per image.

    lpr read PATH...            detect plates in scenes and read them
    lpr read --crops PATH...    read plate crops (no detection)

Output (stable): {"image", "plates": [{"box", "score", "text", "confidence"}]} or, with
--crops, {"image", "text", "confidence"}; a bad file gives {"image", "error"} and the exit
status is 1 at the end, but the batch always runs to the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from anpr_core.settings import SettingsError, load_settings
from lpr.imageio import ImageLoadError, expand_paths, load_image
from lpr.plate_colour import fit_to_colour
from lpr.recognizer import PlateRecognizer, RecognizerUnavailable, load_recognizer

if TYPE_CHECKING:
    from lpr.pipeline import PlateReader


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


def read_crops(paths: list[Path], recognizer: PlateRecognizer | None) -> int:
    failures = 0
    for path in paths:
        image = _load_or_report(path)
        if image is None:
            failures += 1
            continue
        if recognizer is None:
            _emit({"image": str(path), "text": None, "confidence": None})
            continue
        reading = fit_to_colour(recognizer.read([image])[0], image)
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
    read.add_argument("--crops", action="store_true", help="inputs are plate crops: skip detection")
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
        failures = read_crops(paths, recognizer)
    else:
        from lpr.pipeline import PlateReader

        failures = read_scenes(paths, PlateReader.for_reading(vision, recognizer, threads))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
