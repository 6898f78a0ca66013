"""Recogniser benchmark: accuracy on real held-out crops and per format, speed, calibration,
and Tesseract (kor) on the same crops in the same run."""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from anpr_core.plates import PlateFormat, normalize_plate_text, parse_plate, random_plate
from anpr_core.plates.errors import InvalidPlate
from anpr_core.render.augment import augment_crop
from anpr_core.render.plate import render_plate
from lpr.recognizer import load_recognizer
from training.splits import real_crops


def calibration(confidences: list[float], correct: list[bool], target: float = 0.995) -> tuple[float, float]:
    """Lowest threshold whose kept reads have precision ≥ target; returns (threshold, share kept)."""
    order = np.argsort(confidences)[::-1]
    best_threshold, best_kept = 1.01, 0.0
    right = 0
    for rank, index in enumerate(order, start=1):
        right += correct[index]
        if right / rank >= target:
            best_threshold, best_kept = confidences[index], rank / len(order)
    return best_threshold, best_kept


def tesseract_read(image: np.ndarray) -> str | None:
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        cv2.imwrite(f.name, image)
        out = subprocess.run(
            ["tesseract", f.name, "stdout", "-l", "kor", "--psm", "7"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    try:
        return parse_plate(normalize_plate_text(out.strip())).text
    except InvalidPlate:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--plates", type=Path, default=Path(__file__).resolve().parents[3] / "shared/data/plates"
    )
    parser.add_argument("--tesseract-crops", type=int, default=120)
    parser.add_argument("--synthetic-per-format", type=int, default=200)
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores")

    _, val = real_crops(args.plates)
    images = [cv2.imread(str(c.path)) for c in val]
    one = load_recognizer(threads=1)
    two = load_recognizer(threads=2)

    started = time.perf_counter()
    readings = two.read(images)
    batch_ms = (time.perf_counter() - started) * 1000 / len(images)
    correct = [r.text == c.text for r, c in zip(readings, val, strict=True)]
    per_format: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ok, crop in zip(correct, val, strict=True):
        per_format[crop.format][0] += ok
        per_format[crop.format][1] += 1
    print(f"\nreal validation crops (held out by plate text): {len(val)}")
    print(f"  exact-plate accuracy: {sum(correct) / len(val):.4f}")
    for fmt, (ok, n) in sorted(per_format.items()):
        print(f"  {fmt:10s} {ok / n:.4f} ({ok}/{n})")
    threshold, kept = calibration([r.confidence for r in readings], correct)
    print(f"  calibration: precision ≥ 99.5% at confidence ≥ {threshold:.3f}, keeping {kept:.1%} of reads")

    sample = images[:200]
    for label, recognizer in (("1 thread, batch 1", one),):
        model_times, total_times = [], []
        for image in sample:
            t0 = time.perf_counter()
            one.log_probs([image])
            t1 = time.perf_counter()
            recognizer.read([image])
            t2 = time.perf_counter()
            model_times.append(t1 - t0)
            total_times.append(t2 - t1)
        print(f"\nlatency per crop ({label}): model {np.median(model_times) * 1000:.2f} ms, "
              f"model + constrained decode {np.median(total_times) * 1000:.2f} ms (median)")  # fmt: skip
    print(f"throughput (2 threads, batches of 64): {1000 / batch_ms:.0f} crops/s")

    print("\nsynthetic crops per format (rendered, never trained on: a separate seed range)")
    rng = random.Random(424242)
    for fmt in PlateFormat:
        crops, truths = [], []
        for _ in range(args.synthetic_per_format):
            plate = random_plate(rng, fmt)
            crops.append(augment_crop(render_plate(plate, None, rng).image, rng, strength=0.6))
            truths.append(plate.text)
        ok = sum(r.text == t for r, t in zip(two.read(crops), truths, strict=True))
        print(f"  {fmt.value:10s} {ok / len(truths):.4f} ({ok}/{len(truths)})")

    if shutil.which("tesseract"):
        subset = list(zip(images, val, strict=True))[: args.tesseract_crops]
        t0 = time.perf_counter()
        tess_ok = sum(tesseract_read(image) == crop.text for image, crop in subset)
        tess_ms = (time.perf_counter() - t0) * 1000 / len(subset)
        ours_ok = sum(correct[: len(subset)])
        print(f"\nside by side on the first {len(subset)} validation crops:")
        print(f"  ours (ONNX CRNN):       exact {ours_ok / len(subset):.4f}")
        print(f"  Tesseract 5 (kor, psm 7): exact {tess_ok / len(subset):.4f}, {tess_ms:.0f} ms/crop")
    else:
        print("\nTesseract not installed (apt-get install tesseract-ocr tesseract-ocr-kor)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
