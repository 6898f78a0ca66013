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
from anpr_core.render.styles import PlateStyle, styles_for
from anpr_core.settings import load_settings
from anpr_core.splits import real_crops
from lpr.pipeline import PlateReader
from lpr.recognizer import PlateReading, RecognizerUnavailable, load_recognizer
from lpr.recognizer.calibration import CALIBRATION_FILE
from lpr.recognizer.onnx_engine import OnnxPlateRecognizer
from training.recognizer.fit_confidence import build_table, cross_fitted, threshold_line
from training.recognizer.fit_confidence import main as fit_confidence_main
from training.recognizer.heldout import load_samples

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "recognizer"
# Rendered plates for choosing how `lpr read` reads a crop: the layouts other cameras show.
RENDERED_TYPES = (
    ("regional, region stacked", PlateFormat.REGIONAL, PlateStyle.WHITE_REGIONAL, 1.0),
    ("regional one-line", PlateFormat.REGIONAL, PlateStyle.WHITE_REGIONAL, 0.0),
    ("regional green two-line", PlateFormat.REGIONAL, PlateStyle.GREEN_TWO_LINE, 0.0),
    ("regional yellow two-line", PlateFormat.REGIONAL, PlateStyle.YELLOW_TWO_LINE, 0.0),
    ("old7 green two-line", PlateFormat.OLD7, PlateStyle.GREEN_TWO_LINE, 0.0),
    ("old7 white", PlateFormat.OLD7, PlateStyle.WHITE_OLD7, 0.0),
    ("new8 blue EV", PlateFormat.NEW8, PlateStyle.BLUE_EV, 0.0),
)


def confidence_section(model_dir: Path, write: bool) -> None:
    """Precision among reads at confidence ≥ 0.95 / 0.99 and the share of reads above each,
    cross-fitted (5 folds by plate text) on every held-out real crop: the validation texts and
    the scene plates, as they are and degraded (`training/recognizer/fit_confidence.py`)."""
    held_out = [s for s in load_samples() if s.held_out]
    table = build_table(held_out, 3, ("fp32", "int8"), model_dir)
    confidence = cross_fitted(table, 3)
    print(f"\nconfidence (feature model, cross-fitted by plate text over {len(held_out)} held-out crops):")
    correct, variant = table.correct, np.array(table.variant)
    precisions, splits = np.array(table.precision), np.array([s.split for s in table.samples])
    for precision in ("fp32", "int8"):
        for name, rows in (
            ("validation crops", (splits == "val") & (variant == 0)),
            ("scene plates", (splits == "scene") & (variant == 0)),
            ("degraded copies", variant > 0),
        ):
            rows = rows & (precisions == precision)
            line = threshold_line(confidence[rows], correct[rows])
            print(f"  {precision} {name:16s} ({int(rows.sum())}): {line}")
    if write:
        fit_confidence_main(["--write"])  # the model fitted on all of them, with its own report


def _auc(confidences: list[float], right: list[bool]) -> float:
    """The chance a right read's confidence is above a wrong read's (ties count half)."""
    pos = np.array([c for c, r in zip(confidences, right, strict=True) if r])
    neg = np.array([c for c, r in zip(confidences, right, strict=True) if not r])
    if not len(pos) or not len(neg):
        return float("nan")
    return float(
        ((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg))
    )


def _views_line(readings: list[PlateReading | None], truths: list[str]) -> str:
    texts = [r.text if r is not None else None for r in readings]
    confidences = [r.confidence if r is not None else 0.0 for r in readings]
    right = [t == truth for t, truth in zip(texts, truths, strict=True)]
    kept = [r for r, c in zip(right, confidences, strict=True) if c >= 0.95]
    precision = f"{sum(kept) / len(kept):.3f}" if kept else "—"
    return (
        f"exact {sum(right) / len(right):.4f} ({sum(right)}/{len(right)}); "
        f"conf ≥ 0.95: precision {precision} ({len(kept) - sum(kept)} wrong of {len(kept)}); "
        f"AUC right vs wrong {_auc(confidences, right):.3f}"
    )


def views_section(val_images: list[np.ndarray], val_texts: list[str], per_type: int) -> None:
    """`lpr read --crops`: the crop alone (before) vs the plate found in the crop and read in
    views that vote (`PlateReader.read_crops`, after). Chosen on rendered plates (a seed range
    of its own), confirmed on the held-out real crops and the scene plates (cut with the
    margin `lpr read` cuts)."""
    recognizer = load_recognizer(threads=2)
    reader = PlateReader.for_crops(load_settings().vision, recognizer, threads=2)
    rng = random.Random(777)
    rendered: list[tuple[str, np.ndarray, str]] = []
    for name, fmt, style, stacked in RENDERED_TYPES:
        for _ in range(per_type):
            plate = random_plate(rng, fmt)
            while style not in styles_for(plate):
                plate = random_plate(rng, fmt)
            image = render_plate(plate, style, rng, stacked_region=stacked).image
            rendered.append((name, augment_crop(image, rng, strength=rng.uniform(0.4, 1.0)), plate.text))
    scenes = [s for s in load_samples() if s.split == "scene"]
    sets = {
        "rendered plates (choice)": ([c for _, c, _ in rendered], [t for _, _, t in rendered]),
        "real validation crops": (val_images, val_texts),
        "scene plates": ([s.image for s in scenes], [s.text for s in scenes]),
    }
    print("\nlpr read --crops: the crop alone (before) vs located and read in views that vote (after)")
    for name, (images, truths) in sets.items():
        print(f"  {name} ({len(images)}):")
        print(f"    before: {_views_line(list(recognizer.read(images)), truths)}")
        print(f"    after:  {_views_line(reader.read_crops(images), truths)}")
    before_types: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    after_types: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    crops = [c for _, c, _ in rendered]
    for (name, _, text), b, a in zip(rendered, recognizer.read(crops), reader.read_crops(crops), strict=True):
        before_types[name][0] += b.text == text
        after_types[name][0] += a is not None and a.text == text
        before_types[name][1] += 1
        after_types[name][1] += 1
    print("  rendered, per type (before → after): " + ", ".join(
        f"{k} {before_types[k][0]}→{after_types[k][0]}/{n}" for k, (_, n) in after_types.items()
    ))  # fmt: skip
    sample = val_images[:100]
    one = load_recognizer(threads=1)
    single = PlateReader.for_crops(load_settings().vision, one, threads=1)
    for label, read in (("before", lambda c: one.read([c])), ("after", lambda c: single.read_crops([c]))):
        times = []
        for image in sample:
            t0 = time.perf_counter()
            read(image)
            times.append(time.perf_counter() - t0)
        print(f"  {label}: {np.median(times) * 1000:.2f} ms per crop (1 thread, median of {len(sample)})")


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
    parser.add_argument(
        "--fit-calibration", action="store_true", help=f"write models/recognizer/{CALIBRATION_FILE}"
    )
    parser.add_argument("--views-per-type", type=int, default=60, help="rendered plates per type (views)")
    parser.add_argument("--only-views", action="store_true", help="only the lpr read --crops views section")
    args = parser.parse_args(argv)
    print(
        f"machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )

    _, val = real_crops(args.plates)
    images = [cv2.imread(str(c.path)) for c in val]
    views_section(images, [c.text for c in val], args.views_per_type)
    if args.only_views:
        return 0
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
    scenes = [s for s in load_samples() if s.split == "scene"]
    scene_ok = sum(r.text == s.text for r, s in zip(two.read([s.image for s in scenes]), scenes, strict=True))
    print(f"  scene plates (../shared/data/scenes boxes, another collection, never trained on): "
          f"{scene_ok / len(scenes):.4f} ({scene_ok}/{len(scenes)})")  # fmt: skip
    confidence_section(MODEL_DIR, args.fit_calibration)

    sample = images[:200]
    for precision in ("fp32", "int8"):
        recognizer = load_recognizer(threads=1, precision=precision)
        assert isinstance(recognizer, OnnxPlateRecognizer)
        exact = sum(r.text == c.text for r, c in zip(recognizer.read(images), val, strict=True)) / len(val)
        model_times, total_times = [], []
        for image in sample:
            t0 = time.perf_counter()
            recognizer.log_probs([image])
            t1 = time.perf_counter()
            recognizer.read([image])
            t2 = time.perf_counter()
            model_times.append(t1 - t0)
            total_times.append(t2 - t1)
        print(f"\n{precision}: exact {exact:.4f} on the {len(val)} real validation crops; latency per crop "
              f"(1 thread, batch 1): model {np.median(model_times) * 1000:.2f} ms, "
              f"model + constrained decode {np.median(total_times) * 1000:.2f} ms (median); "
              f"{np.percentile(model_times, 10) * 1000:.2f} / {np.percentile(total_times, 10) * 1000:.2f} ms "
              "(10th percentile: the shared cores are rarely idle)")  # fmt: skip
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

    try:
        paddle = load_recognizer(engine="paddleocr", threads=2)
        t0 = time.perf_counter()
        paddle_readings = paddle.read(images)
        paddle_ms = (time.perf_counter() - t0) * 1000 / len(images)
        paddle_ok = sum(r.text == c.text for r, c in zip(paddle_readings, val, strict=True))
        print(
            f"\nsame weights through paddleocr's TextRecognition (ONNX Runtime engine), all {len(val)} crops:"
        )
        print(f"  exact {paddle_ok / len(val):.4f}, {paddle_ms:.2f} ms/crop in batches (2 threads)")
    except RecognizerUnavailable as exc:
        print(f"\npaddleocr engine unavailable: {exc}")

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
