"""What skipping H.264's deblocking filter costs the plates: the cached real-plate clips decoded
by the workers' PyAV path (lpr/workers/decode.py) with and without `skip_loop_filter`, every 3rd
frame of each ground-truth pass read by the workers' profile (`PlateReader.for_workers` from the
settings), and the decode CPU per frame each way. Offline, one process, no server.

    nice -n 10 scripts/bench/feeds_deblock --cameras 12 --resolution 1280x720 \\
        --cameras 10 --resolution 1920x1080 --out var/bench/feeds_deblock.json

Per pass and mode: found (a plate detected in some frame of the pass window), exact (the true
text read in some frame), and the recogniser's confidence of the exact reads; split by look
(day / night / rain). Decode CPU: `CameraHealth.decode_cpu_s` (the thread's CPU inside
`packet.decode`) over a whole clip, --repeats times, the median per frame.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from anpr.bench import machine, write_report
from anpr.simulator.real_clips import Manifest, build_clips, parse_resolution
from anpr_core.settings import load_settings
from lpr.pipeline import PlateReader
from lpr.recognizer import load_recognizer
from lpr.workers.decode import DecodedFrame, decoded_frames
from lpr.workers.health import CameraHealth

STEP = 3  # every 3rd frame of a pass, as a worker with a detector cap of 4 of 12 fps sees it


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def decode_ms(clip: Path, mode: str, repeats: int) -> float:
    """Median decode CPU per frame (ms) over `repeats` whole-clip decodes."""
    samples = []
    for _ in range(repeats):
        health = CameraHealth("")
        for _frame in decoded_frames(str(clip), 5000, health, skip_loop_filter=mode):
            pass
        samples.append(health.decode_cpu_s / max(1, health.decoded_frames) * 1000)
    return statistics.median(samples)


def wanted_frames(passes: list[dict[str, Any]], fps: float) -> dict[int, list[int]]:
    """Frame number -> the passes (by index) whose window holds it, every STEP-th frame."""
    out: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(passes):
        first, last = round(p["enter_s"] * fps), int(p["leave_s"] * fps)
        for k in range(first, last + 1, STEP):
            out[k].append(i)
    return out


def read_clip(
    reader: PlateReader, clip: Path, passes: list[dict[str, Any]], fps: float, mode: str
) -> list[dict]:
    wanted = wanted_frames(passes, fps)
    rows = [{"found": False, "exact": False, "exact_conf": [], "frames": 0} for _ in passes]
    frame: DecodedFrame | None
    for k, frame in enumerate(decoded_frames(str(clip), 5000, CameraHealth(""), skip_loop_filter=mode)):
        if k not in wanted or frame is None:
            continue
        plates = reader.read_frame(frame.image())
        for i in wanted[k]:
            row = rows[i]
            row["frames"] += 1
            row["found"] |= bool(plates)
            for plate in plates:
                if plate.text == passes[i]["plate"]:
                    row["exact"] = True
                    row["exact_conf"].append(plate.confidence or 0.0)
    return rows


def summarise(rows: list[dict], looks: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for look in ["all", "day", "night", "rain"]:
        sel = [r for r, lk in zip(rows, looks, strict=True) if look in ("all", lk)]
        confs = [c for r in sel for c in r["exact_conf"]]
        out[look] = {
            "passes": len(sel),
            "found": sum(r["found"] for r in sel),
            "exact": sum(r["exact"] for r in sel),
            "exact_frame_reads": len(confs),
            "frames": sum(r["frames"] for r in sel),
            "mean_conf_exact": round(statistics.fmean(confs), 3) if confs else None,
        }
    return out


def _changed(ids: list[str], base: list[dict], other: list[dict]) -> dict[str, list[str]]:
    """The passes whose outcome differs between two modes, by pass id."""
    pairs = list(zip(ids, base, other, strict=True))
    return {
        "exact_lost": [i for i, a, b in pairs if a["exact"] and not b["exact"]],
        "exact_gained": [i for i, a, b in pairs if b["exact"] and not a["exact"]],
        "found_lost": [i for i, a, b in pairs if a["found"] and not b["found"]],
    }


def run_resolution(
    manifest: Manifest, reader: PlateReader, modes: list[str], timing_cameras: int, repeats: int
) -> dict[str, Any]:
    per_mode: dict[str, list[dict]] = {m: [] for m in modes}
    looks: list[str] = []
    ids: list[str] = []
    for n, (cid, cam) in enumerate(manifest.cameras.items(), 1):
        passes = cam.clip_passes()
        looks += [cam.look] * len(passes)
        ids += [p["pass_id"] for p in passes]
        for mode in modes:
            per_mode[mode] += read_clip(reader, cam.clip, passes, manifest.fps, mode)
        print(
            f"  {cid} ({cam.look}, {len(passes)} passes) read [{n}/{len(manifest.cameras)}]", file=sys.stderr
        )
    timing: dict[str, list[float]] = {m: [] for m in modes}
    for cam in list(manifest.cameras.values())[:timing_cameras]:
        for mode in modes:
            timing[mode].append(decode_ms(cam.clip, mode, repeats))
    base = modes[0]
    changed = {m: _changed(ids, per_mode[base], per_mode[m]) for m in modes[1:]}
    return {
        "resolution": list(manifest.resolution),
        "cameras": len(manifest.cameras),
        "manifest": str(manifest.path),
        "modes": {
            m: {
                "decode_ms_per_frame": round(statistics.median(timing[m]), 2) if timing[m] else None,
                "decode_ms_per_camera": [round(t, 2) for t in timing[m]],
                **summarise(per_mode[m], looks),
            }
            for m in modes
        },
        "vs_" + base: changed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cameras", type=int, action="append", help="per --resolution, in order")
    parser.add_argument("--resolution", type=parse_resolution, action="append")
    parser.add_argument(
        "--duration", type=float, default=30.0, help="clip length (s); cached clips are reused"
    )
    parser.add_argument(
        "--modes", default="default,all", help="skip_loop_filter values, the first is the base"
    )
    parser.add_argument("--gop", type=float, default=2.0, help="seconds between IDRs (drift lasts until one)")
    parser.add_argument("--timing-cameras", type=int, default=4, help="clips whose decode CPU is timed")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    cameras = args.cameras or [12, 10]
    resolutions = args.resolution or [(1280, 720), (1920, 1080)]
    if len(cameras) != len(resolutions):
        parser.error("give one --cameras per --resolution")
    modes = args.modes.split(",")
    settings = load_settings()
    vision = settings.vision
    recognizer = load_recognizer(
        vision.recognizer_model, threads=vision.threads, precision=vision.recognizer_precision
    )
    reader = PlateReader.for_workers(vision, recognizer)
    started, load_before = time.time(), _loadavg()
    results = []
    for n, res in zip(cameras, resolutions, strict=True):
        manifest = build_clips(
            n,
            resolution=res,
            duration_s=args.duration,
            gop_s=args.gop,
            log=lambda m: print(m, file=sys.stderr),
        )
        print(f"{res[0]}x{res[1]}: {n} cameras, modes {modes}", file=sys.stderr)
        results.append(run_resolution(manifest, reader, modes, args.timing_cameras, args.repeats))
    report = {
        "models": {
            "detector": f"{vision.detector_model.name} {vision.detector_input_size}"
            f"/{vision.detector_input_size_hd} {vision.detector_precision}",
            "recognizer": f"{vision.recognizer_model.name} {vision.recognizer_precision}",
        },
        "step": STEP,
        "gop_s": args.gop,
        "wall_s": round(time.time() - started, 1),
        "load_before": load_before,
        "load_after": _loadavg(),
        "machine": machine(),
        "results": results,
    }
    write_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
