"""Detector benchmark on real photos no detector was trained on.

- all 22 Korean scenes (`../shared/data/scenes`; detector v2 trains on none of them),
- the held-out groups of `../shared/data/detection` (a whole dashcam ride, 12 % of the other
  groups; per source),
- far CCTV frames: the Korean scenes shrunk into 1920×1080 frames so the plates are 24–128 px,
- latency per 1280×720 frame on 2 threads, fp32 and int8, at several input sizes, and
  ultralytics' own PyTorch `predict` on the same frames in the same run.

Reports recall and precision at IoU 0.5, the share of plates boxed whole (IoU ≥ 0.7), plates
boxed in parts, and recall per plate width; writes `var/bench/detector.json` and a contact
sheet of misses and false boxes (`docs/detector_misses.jpg`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from anpr_core.plates import PlateFormat, random_plate
from anpr_core.plates.alphabet import PlateUse
from anpr_core.render.plate import render_plate
from anpr_core.render.styles import PlateStyle
from anpr_core.settings import load_settings
from lpr.detector import OnnxPlateDetector, load_detector
from lpr.geometry import iou
from lpr.pipeline import PlateReader
from lpr.recognizer import load_recognizer
from training.detector.evaluate import DetectionTally, FrameResult, match_frame
from training.detector.far_frames import far_frame
from training.detector.real_photos import load_detection_photos, paste_over, split_photos

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
FAR_WIDTHS = (24, 32, 48, 64, 96, 128)
SCORE_THRESHOLDS = (0.25, 0.35, 0.5)

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

Box = tuple[float, float, float, float]
Example = tuple[str, np.ndarray, list[Box]]
LabelledExample = tuple[str, np.ndarray, list[tuple[Box, str | None]]]  # boxes with plate texts


def korean_scenes(scenes_dir: Path) -> list[Example]:
    labels = json.loads((scenes_dir / "labels.json").read_text(encoding="utf-8"))
    return [
        (s["file"], cv2.imread(str(scenes_dir / s["file"])), [tuple(p["box"]) for p in s["plates"]])
        for s in labels
    ]


def far_cctv(scenes: list[Example]) -> list[Example]:
    out = []
    for index, (name, image, boxes) in enumerate(scenes):
        main = max(boxes, key=lambda b: b[2] - b[0])
        for width in FAR_WIDTHS:
            frame, placed = far_frame(image, boxes, main, width, seed=index * 1000 + width)
            out.append((f"{name}@{width}px", frame, placed))
    return out


def held_out_photos(detection_dir: Path) -> dict[str, list[Example]]:
    _, validation = split_photos(load_detection_photos(detection_dir))
    by_source: dict[str, list[Example]] = {}
    for photo in validation:
        image = cv2.imread(str(photo.path))
        by_source.setdefault(photo.source, []).append((photo.path.name, image, list(photo.boxes)))
    return by_source


def detect_all(detector: OnnxPlateDetector, examples: list[Example]) -> list[list[tuple[Box, float]]]:
    return [[(d.box, d.score) for d in detector.detect([image])[0]] for _, image, _ in examples]


def score(
    examples: list[Example], detections: list[list[tuple[Box, float]]], threshold: float
) -> tuple[DetectionTally, list[tuple[Example, list[tuple[Box, float]], FrameResult]]]:
    """Greedy NMS keeps a box only against higher-scored ones, so filtering its output by score
    equals running it at that threshold: one inference serves every threshold."""
    tally = DetectionTally()
    details = []
    for example, all_found in zip(examples, detections, strict=True):
        truth = example[2]
        found = [(b, s) for b, s in all_found if s >= threshold]
        result = match_frame([b for b, _ in found], [s for _, s in found], truth)
        tally.add(result, truth)
        details.append((example, found, result))
    return tally, details


def contact_sheet(details: list[tuple[Example, list[tuple[Box, float]], FrameResult]], path: Path) -> int:
    """Misses (red: the labelled plate) and false boxes (yellow) with 40 % context, on one sheet."""
    tiles = []
    for (name, image, truth), found, result in details:
        h, w = image.shape[:2]
        wanted = [(truth[t], (0, 0, 255), "miss") for t in result.missed]
        wanted += [(found[d][0], (0, 220, 255), f"false {found[d][1]:.2f}") for d in result.false_boxes]
        for box, colour, label in wanted:
            x0, y0, x1, y1 = box
            mx, my = (x1 - x0) * 0.8 + 20, (y1 - y0) * 1.5 + 20
            cx0, cy0 = int(max(0, x0 - mx)), int(max(0, y0 - my))
            cx1, cy1 = int(min(w, x1 + mx)), int(min(h, y1 + my))
            tile = image[cy0:cy1, cx0:cx1].copy()
            cv2.rectangle(tile, (int(x0 - cx0), int(y0 - cy0)), (int(x1 - cx0), int(y1 - cy0)), colour, 2)
            tile = cv2.resize(tile, (240, 160), interpolation=cv2.INTER_AREA)
            cv2.putText(tile, f"{name[:22]} {label}", (3, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1)
            tiles.append(tile)
    if not tiles:
        return 0
    tiles = tiles[:48]
    rows = [tiles[i : i + 6] for i in range(0, len(tiles), 6)]
    rows[-1] += [np.zeros_like(tiles[0])] * (6 - len(rows[-1]))
    sheet = np.vstack([np.hstack(r) for r in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), sheet, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return len(tiles)


def latency(detector: OnnxPlateDetector, frames: list[np.ndarray], repeats: int) -> float:
    for frame in frames[:2]:
        detector.detect([frame])
    times = []
    for _ in range(repeats):
        for frame in frames:
            t0 = time.perf_counter()
            detector.detect([frame])
            times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000)


def _line(label: str, tally: DetectionTally) -> str:
    buckets = " ".join(f"{name}:{f}/{n}" for name, (f, n) in tally.by_width.items() if n)
    return (
        f"    {label:<28} plates {tally.plates:4d}  recall {tally.recall:.3f}  precision "
        f"{tally.precision:.3f}  whole(IoU≥0.7) {tally.whole_plate_share:.3f}  split {tally.split_plates}  "
        f"false {tally.false_positives}  [{buckets}]"
    )


def labelled_scenes(scenes_dir: Path) -> list[LabelledExample]:
    labels = json.loads((scenes_dir / "labels.json").read_text(encoding="utf-8"))
    return [
        (
            s["file"],
            cv2.imread(str(scenes_dir / s["file"])),
            [(tuple(p["box"]), p["text"]) for p in s["plates"]],
        )
        for s in labels
    ]


def labelled_far(scenes: list[LabelledExample]) -> list[LabelledExample]:
    """`far_cctv` with the plate texts: each scene shrunk into 1080p, its plate 24–128 px wide."""
    out = []
    for index, (name, image, plates) in enumerate(scenes):
        boxes = [b for b, _ in plates]
        main = max(boxes, key=lambda b: b[2] - b[0])
        for width in FAR_WIDTHS:
            frame, placed = far_frame(image, boxes, main, width, seed=index * 1000 + width)
            out.append((f"{name}@{width}px", frame, list(zip(placed, [t for _, t in plates], strict=True))))
    return out


def pasted_plates(scenes: list[LabelledExample], style: PlateStyle, copies: int) -> list[LabelledExample]:
    """Each scene's plates covered by rendered new8 plates of `style` (blue EV or white), warped
    and lit like the spot they cover: the real background and the plate's place stay real."""
    out = []
    for copy in range(copies):
        for index, (name, image, plates) in enumerate(scenes):
            rng = random.Random(f"{style.value}/{copy}/{index}")
            frame = image.copy()
            pasted: list[tuple[Box, str | None]] = []
            for box, _ in plates:
                plate = random_plate(rng, PlateFormat.NEW8)
                while plate.use in (PlateUse.COMMERCIAL, PlateUse.DELIVERY):  # EV plates are private
                    plate = random_plate(rng, PlateFormat.NEW8)
                pasted.append(
                    (paste_over(frame, box, render_plate(plate, style, rng).image, rng), plate.text)
                )
            out.append((f"{name}#{copy}", frame, pasted))
    return out


def end_to_end(reader: PlateReader, examples: list[LabelledExample]) -> dict[str, float]:
    """`lpr read`'s reads against the labels: a plate is read right when a box overlapping it
    (IoU ≥ 0.3) carries its exact text; wrong reads are non-empty texts no plate there has."""
    right = labelled = wrong = reads = confident = confident_wrong = 0
    for _, frame, plates in examples:
        found = reader.read_frame(frame)
        for box, text in plates:
            if text:
                labelled += 1
                right += any(p.text == text and iou(p.box, box) >= 0.3 for p in found)
        for p in found:
            if p.text is None:
                continue
            ok = any(p.text == text and iou(p.box, box) >= 0.3 for box, text in plates)
            reads += 1
            wrong += not ok
            if (p.confidence or 0) >= 0.95:
                confident += 1
                confident_wrong += not ok
    return {"plates": labelled, "right": right, "exact": right / max(1, labelled), "reads": reads,
            "wrong_reads": wrong, "conf95": confident, "conf95_wrong": confident_wrong}  # fmt: skip


def end_to_end_section(args: argparse.Namespace, report: dict[str, object]) -> None:
    """`lpr read` end to end, before (512 only, the crop and a two-line layout, most confident
    wins) and after (far-plate pass, views voting), on held-out Korean frames, and its latency
    per 1920×1080 frame."""
    vision = load_settings().vision
    recognizer = load_recognizer(vision.recognizer_model, threads=2)
    before = PlateReader.load(
        recognizer, input_size=vision.read_input_size, min_score=vision.detector_min_score
    )
    after = PlateReader.for_reading(vision, recognizer, threads=2)
    scenes = labelled_scenes(args.scenes)
    sets = {
        "korean scenes": scenes,
        "far cctv 1080p": labelled_far(scenes),
        "blue EV pasted over scene plates": pasted_plates(scenes, PlateStyle.BLUE_EV, 3),
        "white new8 pasted (control)": pasted_plates(scenes, PlateStyle.WHITE_NEW8, 3),
    }
    print(
        "\n  lpr read end to end (exact text on the plate's box; wrong = non-empty reads of no plate there)"
    )
    rows = []
    for name, examples in sets.items():
        for label, reader in (("before", before), ("after", after)):
            figures = end_to_end(reader, examples)
            rows.append({"set": name, "profile": label, **figures})
            print(
                f"    {name:<34} {label:<6} right {figures['right']:3d}/{figures['plates']:3d} "
                f"({figures['exact']:.3f})  reads {figures['reads']:3d}, wrong {figures['wrong_reads']:3d}; "
                f"conf ≥ 0.95: {figures['conf95']:3d}, wrong {figures['conf95_wrong']}"
            )
    frames = [f for _, f, _ in sets["far cctv 1080p"][::6]]
    for label, reader in (("before", before), ("after", after)):
        for frame in frames[:2]:
            reader.read_frame(frame)
        times = []
        for frame in frames:
            t0 = time.perf_counter()
            reader.read_frame(frame)
            times.append(time.perf_counter() - t0)
        ms = float(np.median(times) * 1000)
        rows.append({"profile": label, "ms_1920x1080": round(ms, 1)})
        print(
            f"    {label}: {ms:.0f} ms per 1920×1080 frame, detection + reading "
            f"(2 threads, median of {len(frames)})"
        )
    report["end_to_end"] = rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenes", type=Path, default=SHARED / "data/scenes")
    parser.add_argument("--detection", type=Path, default=SHARED / "data/detection")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models/detector")
    parser.add_argument("--sizes", default="416,512,640")
    parser.add_argument("--precisions", default="fp32,int8")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "var/bench/detector.json")
    parser.add_argument("--sheet", type=Path, default=ROOT / "docs/detector_misses.jpg")
    parser.add_argument("--sheet-size", type=int, default=640, help="input size of the contact sheet")
    parser.add_argument("--no-ultralytics", action="store_true")
    parser.add_argument("--no-join", action="store_true", help="keep pieces of one plate apart")
    parser.add_argument("--korean-only", action="store_true", help="skip the held-out non-Korean photos")
    parser.add_argument(
        "--far-size",
        type=int,
        default=1280,
        help="also score each size with a far-plate pass at this input (0: no)",
    )
    parser.add_argument("--end-to-end", action="store_true", help="lpr read before/after on Korean frames")
    parser.add_argument("--only-end-to-end", action="store_true", help="only the end-to-end section")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    load = os.getloadavg()[0]
    print(
        f"machine: {os.uname().machine}, {len(os.sched_getaffinity(0))} cores, load {load:.1f}; "
        f"model {args.model_dir}"
    )
    scenes = korean_scenes(args.scenes)
    far = far_cctv(scenes)
    photos = {} if args.korean_only else held_out_photos(args.detection)
    sets: dict[str, list[Example]] = {"korean scenes (all 22)": scenes, "far cctv 1080p (korean)": far}
    for source, examples in sorted(photos.items()):
        sets[f"held-out {source}"] = examples
    if photos:
        sets["held-out photos (all)"] = [e for examples in photos.values() for e in examples]
    print(
        "sets: " + ", ".join(f"{name} {len(ex)} frames / {sum(len(e[2]) for e in ex)} plates"
                             for name, ex in sets.items())
    )  # fmt: skip
    camera_frames = [cv2.resize(image, (1280, 720), interpolation=cv2.INTER_AREA) for _, image, _ in scenes]
    report: dict[str, object] = {"load": load, "results": []}
    if args.end_to_end or args.only_end_to_end:
        end_to_end_section(args, report)
    if args.only_end_to_end:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
        return 0
    ours: dict[tuple[str, int], float] = {}
    for precision in args.precisions.split(","):
        for size in sizes:
            lowest = min(SCORE_THRESHOLDS)
            detector = load_detector(
                args.model_dir, input_size=size, threads=2, min_score=lowest, precision=precision
            )
            detector.join_pieces = not args.no_join
            ms = latency(detector, camera_frames, args.repeats)
            ours[precision, size] = ms
            print(f"  {precision} @{size}: {ms:.1f} ms per 1280×720 frame (2 threads, median)")
            found = {name: detect_all(detector, examples) for name, examples in sets.items()}
            if args.far_size and precision == "fp32" and args.far_size > size:
                far_detector = load_detector(
                    args.model_dir, input_size=size, threads=2, min_score=0.5, far_input_size=args.far_size
                )
                far_detector.join_pieces = not args.no_join
                print(f"   + far-plate pass @{args.far_size} (boxes < 5 % of the frame), score ≥ 0.5")
                for name, examples in sets.items():
                    tally, _ = score(examples, detect_all(far_detector, examples), 0.5)
                    print(_line(name, tally))
                    report["results"].append(  # type: ignore[union-attr]
                        {"precision": precision, "size": size, "far_size": args.far_size, "threshold": 0.5,
                         "set": name, **tally.summary()}
                    )  # fmt: skip
            for threshold in SCORE_THRESHOLDS:
                print(f"   score ≥ {threshold}")
                for name, examples in sets.items():
                    tally, details = score(examples, found[name], threshold)
                    print(_line(name, tally))
                    report["results"].append(  # type: ignore[union-attr]
                        {"precision": precision, "size": size, "threshold": threshold, "set": name,
                         "ms_1280x720": round(ms, 2), **tally.summary()}
                    )  # fmt: skip
                    if (
                        precision == "fp32"
                        and size == args.sheet_size
                        and threshold == 0.5
                        and name.startswith("korean")
                    ):
                        shown = contact_sheet(details, args.sheet)
                        print(f"    contact sheet: {shown} misses/false boxes → {args.sheet}")
    python = ROOT / ".venv-train" / "bin" / "python"
    weights = args.model_dir / "plate_det.pt"
    if not args.no_ultralytics and python.is_file() and weights.is_file():
        tmp = ROOT / "var/bench/frames_1280x720"
        tmp.mkdir(parents=True, exist_ok=True)
        paths = []
        for index, frame in enumerate(camera_frames):
            paths.append(str(tmp / f"{index:02d}.jpg"))
            cv2.imwrite(paths[-1], frame)
        for size in sizes:
            out = subprocess.run(
                [str(python), "-c", ULTRALYTICS_TIMER, str(weights), str(size), *paths],
                capture_output=True, text=True, check=False, env={**os.environ, "YOLO_OFFLINE": "1"},
            )  # fmt: skip
            try:
                theirs = json.loads(out.stdout.strip().splitlines()[-1])["median_ms"]
            except (IndexError, ValueError, KeyError):
                print(f"  ultralytics predict @{size}: failed: {out.stderr[-300:]}")
                continue
            ratios = ", ".join(f"{theirs / ms:.2f}× faster ({p})" for (p, s), ms in ours.items() if s == size)
            print(f"  ultralytics PyTorch predict @{size}: {theirs:.1f} ms per 1280×720 frame; ours {ratios}")
            report.setdefault("ultralytics_ms", {})[size] = round(theirs, 2)  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(f"  → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
