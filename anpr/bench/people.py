"""People analytics benchmark (issue 23).

- Counting on the real crowd photos (`../shared/data/people`), held out by the split below:
  the mall sequence by time block (first half of the frames tunes, second half is reported), the
  street views (ShanghaiTech B) by image (even positions tune, odd are reported). Thresholds and
  the linear count calibration (count ≈ a·boxes + b, per scene type) are fitted on the tuning part;
  each scene's density head (training/people/density.py) on that scene's tuning part only.
- Head-point containment on the held-out mall frames: the share of head points inside some person
  box and the share of boxes that hold a head point.
- Rules on simulated walkers (anpr/simulator/walkers.py): intrusion and loitering precision,
  recall, latency, over several seeds.
- Cost: detector + tracker + rules per frame on one thread, as cores per camera at 1 fps (crowd)
  and 5 fps (intrusion).

Writes var/bench/people.json.  `.venv/bin/python scripts/bench/people [--quick]`
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from anpr.bench import machine
from anpr.bench.people_rules import evaluate_rules
from anpr.simulator import walkers as sim
from anpr_core.settings import PROJECT_ROOT, load_settings
from monitor.people.density import HEAD_FILE, MALL_HEAD_FILE, DensityCounter
from monitor.people.detector import PersonDetector, non_max_suppression
from monitor.people.types import Person
from monitor.rules import CameraRules
from monitor.tracking import PersonTracker

THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
# Mall count = w·density head + (1 − w)·calibrated boxes: w by cross-fitting on the tuning half
# (density head fitted on one quarter, scored on the other): 0.75 → 2.91, 1.0 → 2.96, 0 → 3.31.
BLEND = {"mall": 0.75}
HEAD_BOX_SCORE = 0.3  # chosen with the head-box geometry on the mall tuning half
DENSITY_HEADS = {"mall": MALL_HEAD_FILE, "shanghaitech_b_train": HEAD_FILE}
CONFIGS = {"mall": {"input_size": 960, "tiles": 1}, "shanghaitech_b_train": {"input_size": 1024, "tiles": 2}}


def split(files: list[str], scene: str) -> tuple[list[str], list[str]]:
    files = sorted(files)
    if scene == "mall":  # one sequence: by time block
        return files[: len(files) // 2], files[len(files) // 2 :]
    return files[0::2], files[1::2]


def containment(boxes: np.ndarray, points: np.ndarray) -> tuple[float, float]:
    if not len(boxes) or not len(points):
        return float(not len(points)), float(not len(boxes))
    b, p = boxes[:, None, :], points[None]
    inside = (
        (p[..., 0] >= b[..., 0])
        & (p[..., 0] <= b[..., 2])
        & (p[..., 1] >= b[..., 1])
        & (p[..., 1] <= b[..., 3])
    )
    return float(inside.any(0).mean()), float(inside.any(1).mean())


def counting(people_dir: Path, model: Path, quick: bool) -> dict:
    labels = {row["file"]: row for row in json.loads((people_dir / "labels.json").read_text())}
    report = {}
    for scene, config in CONFIGS.items():
        files = [f for f, row in labels.items() if row["set"] == scene]
        tune, held = split(files, scene)
        if quick:
            tune, held = tune[::5], held[::5]
        detector = PersonDetector(model, min_score=min(THRESHOLDS), iou=0.6, threads=1, **config)
        kept, seconds = {}, []
        for name in tune + held:
            image = cv2.imread(str(people_dir / "images" / name))
            start = time.perf_counter()
            boxes, scores = detector.raw(image)
            keep = non_max_suppression(boxes, scores, 0.6)
            seconds.append(time.perf_counter() - start)
            kept[name] = (boxes[keep], scores[keep])

        def n(names, thr, kept=kept):
            return np.array([(kept[f][1] > thr).sum() for f in names], float)

        def truth(names):
            return np.array([labels[f]["count"] for f in names], float)

        fits = {}
        for thr in THRESHOLDS:
            a, b = np.linalg.lstsq(np.c_[n(tune, thr), np.ones(len(tune))], truth(tune), rcond=None)[0]
            fits[thr] = (float(np.abs(a * n(tune, thr) + b - truth(tune)).mean()), float(a), float(b))
        thr = min(fits, key=lambda t: fits[t][0])
        raw_thr = min(THRESHOLDS, key=lambda t: float(np.abs(n(tune, t) - truth(tune)).mean()))
        _, a, b = fits[thr]
        entry = {
            "config": config,
            "tune_images": len(tune),
            "held_out_images": len(held),
            "held_out_mean_count": round(float(truth(held).mean()), 1),
            "boxes_mae": round(float(np.abs(n(held, raw_thr) - truth(held)).mean()), 2),
            "boxes_threshold": raw_thr,
            "calibrated_mae": round(float(np.abs(a * n(held, thr) + b - truth(held)).mean()), 2),
            "calibration": {"threshold": thr, "a": round(a, 3), "b": round(b, 2)},
            "seconds_per_image_p50": round(float(np.median(seconds)), 3),
        }
        if scene == "mall":
            for t in (0.15, 0.2, 0.25):
                pairs = [
                    containment(kept[f][0][kept[f][1] > t], np.asarray(labels[f]["points"])) for f in held
                ]
                entry[f"containment_at_{t}"] = {
                    "heads_in_a_box": round(float(np.mean([p[0] for p in pairs])), 3),
                    "boxes_with_a_head": round(float(np.mean([p[1] for p in pairs])), 3),
                }
        # Each scene's density head is fitted on that scene's tuning half only.
        counter = DensityCounter(PersonDetector(model, threads=1), model, DENSITY_HEADS[scene])
        start = time.perf_counter()
        estimates = np.array([counter.count(cv2.imread(str(people_dir / "images" / f))) for f in held])
        entry["density_head"] = {
            "file": DENSITY_HEADS[scene],
            "input_size": counter.input_size,
            "mae": round(float(np.abs(estimates - truth(held)).mean()), 2),
            "seconds_per_image": round((time.perf_counter() - start) / len(held), 3),
        }
        if scene in BLEND:
            w = BLEND[scene]
            blend = w * estimates + (1 - w) * (a * n(held, thr) + b)
            entry["density_and_boxes_mae"] = {
                "weight": w,
                "mae": round(float(np.abs(blend - truth(held)).mean()), 2),
            }
        if scene == "mall":  # boxes at HEAD_BOX_SCORE plus the density head's boxes for unboxed heads
            pairs = []
            for f in held:
                boxes, scores = kept[f]
                persons = [Person(tuple(map(float, b)), float(s)) for b, s in zip(boxes, scores, strict=True)]
                persons = [p for p in persons if p.score > HEAD_BOX_SCORE]
                added = counter.head_boxes(cv2.imread(str(people_dir / "images" / f)), persons)
                every = np.array([p.box for p in persons + added]).reshape(-1, 4)
                pairs.append((*containment(every, np.asarray(labels[f]["points"])), len(added)))
            entry[f"containment_with_head_boxes_at_{HEAD_BOX_SCORE}"] = {
                "heads_in_a_box": round(float(np.mean([p[0] for p in pairs])), 3),
                "boxes_with_a_head": round(float(np.mean([p[1] for p in pairs])), 3),
                "head_boxes_per_frame": round(float(np.mean([p[2] for p in pairs])), 1),
            }
        report[scene] = entry
    return report


def cost(model: Path, people_dir: Path, frames: int = 30) -> dict:
    """Seconds per 640×480 mall frame on one thread: detector at the default input, then the
    tracker and rules of the simulated camera; as cores at 1 and 5 fps."""
    settings = load_settings().people
    detector = PersonDetector(model, input_size=settings.input_size, min_score=settings.min_score, threads=1)
    images = [cv2.imread(str(p)) for p in sorted((people_dir / "images").glob("q*.jpg"))[:frames]]
    detector.detect(images[0])
    start = time.perf_counter()
    found = [detector.detect(image) for image in images]
    detect_s = (time.perf_counter() - start) / len(images)
    tracker, rules = PersonTracker(5.0), CameraRules(sim.camera())
    start = time.perf_counter()
    for i, persons in enumerate(found * 5):
        rules.update(i / 5, tracker.update(persons))
    track_s = (time.perf_counter() - start) / (len(found) * 5)
    per_frame = detect_s + track_s
    return {
        "input_size": settings.input_size,
        "detect_s_per_frame": round(detect_s, 3),
        "track_and_rules_s_per_frame": round(track_s, 4),
        "cores_per_camera_at_1fps": round(per_frame, 3),
        "cores_per_camera_at_5fps": round(per_frame * 5, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="people analytics benchmark")
    parser.add_argument("--quick", action="store_true", help="every 5th photo, one rules seed")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "bench" / "people.json")
    parser.add_argument(
        "--overlap-m",
        type=float,
        default=0.0,
        help="rules: an event may match any walker within this many metres of the nearest one "
        "(people that close overlap in the image); 0 = the nearest walker only",
    )
    parser.add_argument("--skip-counting", action="store_true", help="rules and cost only")
    parser.add_argument(
        "--seeds", default=None, help="rules: walker seeds, comma-separated (default 4,5,6; --quick 4)"
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    people_dir = settings.paths.shared_data / "people"
    model = settings.people.model
    # The tracker and rule parameters were chosen on seeds 1–3; these are fresh walkers.
    seeds = (4,) if args.quick else (4, 5, 6)
    if args.seeds:
        seeds = tuple(int(seed) for seed in args.seeds.split(","))
    rules = [evaluate_rules(seed=seed, minutes=10, fps=5, overlap_m=args.overlap_m) for seed in seeds]
    totals = {}
    for kind in ("intrusion", "loitering"):
        episodes = sum(r[kind]["episodes"] for r in rules)
        events = sum(r[kind]["events"] for r in rules)
        found = sum(round(r[kind]["recall"] * r[kind]["episodes"]) for r in rules)
        false = sum(r[kind]["false_alarms"] for r in rules)
        totals[kind] = {
            "episodes": episodes,
            "events": events,
            "recall": round(found / max(1, episodes), 3),
            "precision": round(1 - false / max(1, events), 3),
            "latency_p95_s_worst_seed": max(r[kind]["latency_p95_s"] for r in rules),
            "latency_max_s": max(r[kind]["latency_max_s"] for r in rules),
        }
    report = {
        "machine": machine(),
        "counting": {} if args.skip_counting else counting(people_dir, model, args.quick),
        "rules": {
            "seeds": list(seeds),
            "overlap_m": args.overlap_m,
            "minutes_per_seed": 10,
            "fps": 5,
            "total": totals,
            "per_seed": rules,
        },
        "cost": cost(model, people_dir),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0
