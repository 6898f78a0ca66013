"""Detector benchmark on real scenes held out from training: recall and precision at IoU 0.5,
latency per frame (2 threads) at input sizes 320/416/640, and ultralytics' own PyTorch predict
on the same frames in the same run."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from lpr.detector import OnnxPlateDetector, load_detector
from lpr.geometry import iou
from training.detector.composites import is_validation_scene, synthetic_scene

ROOT = Path(__file__).resolve().parents[2]

ULTRALYTICS_TIMER = """
import json, sys, time, torch
torch.set_num_threads(2)
from ultralytics import YOLO
model = YOLO(sys.argv[1])
paths, size = sys.argv[3:], int(sys.argv[2])
for p in paths[:2]:
    model.predict(p, imgsz=size, device="cpu", verbose=False)
times = []
for _ in range(3):
    for p in paths:
        t = time.perf_counter(); model.predict(p, imgsz=size, device="cpu", verbose=False)
        times.append(time.perf_counter() - t)
times.sort(); print(json.dumps({"median_ms": 1000 * times[len(times) // 2]}))
"""


def match(pred: list[tuple[float, ...]], truth: list[tuple[float, ...]]) -> tuple[int, int, int]:
    """Greedy one-to-one matching at IoU ≥ 0.5: (true positives, false positives, false negatives)."""
    unmatched = list(truth)
    tp = 0
    for box in pred:
        best = max(unmatched, key=lambda t: iou(box, t), default=None)
        if best is not None and iou(box, best) >= 0.5:
            unmatched.remove(best)
            tp += 1
    return tp, len(pred) - tp, len(unmatched)


SYNTHETIC_SEED = 5_000_000


def _accuracy(
    detector: OnnxPlateDetector, frames: list[np.ndarray], truths: list[list[tuple[float, ...]]]
) -> tuple[float, float, int]:
    """(recall, precision, plates) at IoU 0.5 over the frames."""
    tp = fp = fn = 0
    for frame, truth in zip(frames, truths, strict=True):
        a, b, c = match([d.box for d in detector.detect([frame])[0]], truth)
        tp, fp, fn = tp + a, fp + b, fn + c
    return tp / max(1, tp + fn), tp / max(1, tp + fp), tp + fn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=Path, default=ROOT.parent / "shared/data/scenes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=200, help="held-out procedural composites")
    args = parser.parse_args(argv)
    scenes = [
        s for s in json.loads((args.scenes / "labels.json").read_text()) if is_validation_scene(s["file"])
    ]
    frames = [cv2.imread(str(args.scenes / s["file"])) for s in scenes]
    truths = [[tuple(p["box"]) for p in s["plates"]] for s in scenes]
    print(
        f"machine: {os.uname().machine}, {len(os.sched_getaffinity(0))} cores; "
        f"held-out real scenes: {len(scenes)}"
    )
    # Procedural composites with seeds that neither training (seed·10⁷ + index) nor the int8
    # calibration (10,000+) used: more plates, smaller ones, but synthetic — reported apart.
    synthetic = [synthetic_scene(SYNTHETIC_SEED + i) for i in range(args.synthetic)]
    ours: dict[tuple[str, int], float] = {}
    for precision in ("fp32", "int8"):
        for size in (320, 416, 640):
            detector = load_detector(input_size=size, threads=2, precision=precision)
            real = _accuracy(detector, frames, truths)
            syn = _accuracy(detector, [im for im, _ in synthetic], [list(b) for _, b in synthetic])
            times = []
            for _ in range(args.repeats):
                for frame in frames:
                    t0 = time.perf_counter()
                    detector.detect([frame])
                    times.append(time.perf_counter() - t0)
            camera = np.zeros((720, 1280, 3), np.uint8)  # a 16:9 camera frame
            camera_times = []
            for _ in range(5 * args.repeats):
                t0 = time.perf_counter()
                detector.detect([camera])
                camera_times.append(time.perf_counter() - t0)
            batch_t0 = time.perf_counter()
            detector.detect([camera] * 8)
            batched = (time.perf_counter() - batch_t0) / 8
            median = float(np.median(times) * 1000)
            ours[precision, size] = median
            print(
                f"  ONNX Runtime {precision} @{size}: real recall {real[0]:.3f} precision {real[1]:.3f}; "
                f"synthetic ({len(synthetic)} scenes, {syn[2]} plates) recall "
                f"{syn[0]:.3f} precision {syn[1]:.3f}; {median:.1f} ms/frame on the real scenes, "
                f"{np.median(camera_times) * 1000:.1f} ms per 1280×720 frame "
                f"({batched * 1000:.1f} ms/frame batched ×8)"
            )
    python = ROOT / ".venv-train" / "bin" / "python"
    weights = ROOT / "models" / "detector" / "plate_det.pt"
    if python.is_file() and weights.is_file():
        paths = [str(args.scenes / s["file"]) for s in scenes]
        for size in (416, 640):
            out = subprocess.run(
                [str(python), "-c", ULTRALYTICS_TIMER, str(weights), str(size), *paths],
                capture_output=True, text=True, check=False, env={**os.environ, "YOLO_OFFLINE": "1"},
            )  # fmt: skip
            try:
                theirs = json.loads(out.stdout.strip().splitlines()[-1])["median_ms"]
            except (IndexError, ValueError, KeyError):
                print(f"  ultralytics predict @{size}: failed: {out.stderr[-300:]}")
                continue
            print(
                f"  ultralytics PyTorch predict @{size}: {theirs:.1f} ms/frame → ours is "
                f"{theirs / ours['fp32', size]:.2f}× faster (fp32), {theirs / ours['int8', size]:.2f}× (int8)"
            )
    else:
        print(
            "  ultralytics comparison skipped: needs .venv-train "
            "(ANPR_SETUP_TRAIN=1 scripts/setup) and plate_det.pt"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
