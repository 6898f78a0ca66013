"""Benchmark the camera workers on real-plate H.264 feeds from the real RTSP server, with the bare
decode cost of the same streams measured in the same run as the floor. 127.0.0.1 only.

    nice scripts/bench/feeds --cameras 45 --resolution 1280x720 --seconds 90 \\
        --cameras 20 --resolution 1920x1080 --seconds 60 --out var/bench/feeds.json

For each (cameras, resolution): the clips are built once and cached (anpr/simulator/real_clips.py:
held-out real plates, day/IR-night/rain, x264), gst-rtsp-server serves them live
(anpr/simulator/rtsp.py), then
1. bare decode: `python -m anpr.bench.feeds_decode` decodes every stream with the workers' own
   PyAV path and nothing else; its CPU over the window is the floor;
2. workers: `anpr workers --stream-template rtsp://…/{id}` (the worker profile from settings:
   detector 416 int8, 640 for HD frames, recogniser as configured) with a temporary var dir;
   reads are taken from the journal as they become durable and matched to the server's ground
   truth: pass recall, exact plate, duplicates, latency from the vehicle leaving the picture to
   the read being durable,
   worker CPU per camera and per stage (from the worker's /health), frames dropped.
The two phases run one after the other on the same server, so they see the same streams and the
same machine load (reported).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from anpr.bench import machine
from anpr.bench.workers import evaluate, journal_reads
from anpr.launcher import Process, anpr_command, pid_cpu_seconds
from anpr.simulator.real_clips import build_clips, parse_resolution
from anpr.simulator.rtsp import RtspSimulator, free_port
from anpr.simulator.truth import TruePass
from anpr_core.settings import PROJECT_ROOT as ROOT
from anpr_core.settings import load_settings


def bare_decode(sim: RtspSimulator, warmup_s: float, seconds: float) -> dict[str, Any]:
    urls = [sim.url(c) for c in sim.cameras]
    argv = [
        sys.executable,
        "-m",
        "anpr.bench.feeds_decode",
        "--warmup",
        str(warmup_s),
        "--seconds",
        str(seconds),
        *urls,
    ]
    server_cpu0 = pid_cpu_seconds(sim.process.pid) if sim.process else 0.0
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=warmup_s + seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"bare decode failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    if sim.process:
        result["server_cores_whole_run"] = round(
            (pid_cpu_seconds(sim.process.pid) - server_cpu0) / (warmup_s + seconds), 3
        )
    return result


def _health(port: int) -> dict[str, Any]:
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5))


def run_workers(
    sim: RtspSimulator, seconds: float, warmup_s: float, work: Path, detect_fps: float | None
) -> dict[str, Any]:
    env = {**os.environ, "ANPR_PATHS__VAR_DIR": str(work / "var"), "PYTHONUNBUFFERED": "1"}
    health_port = free_port()
    workers = Process(
        "workers",
        anpr_command(
            "workers",
            "--cameras",
            ",".join(sim.cameras),
            "--no-es",
            "--health-port",
            str(health_port),
            "--stream-template",
            f"rtsp://127.0.0.1:{sim.port}/{{id}}",
            *(["--detect-fps", str(detect_fps)] if detect_fps else []),
        ),
        env=env,
        log_dir=work,
    ).start()
    reads: dict[str, tuple[dict, float]] = {}
    journal = work / "var" / "journal"
    try:
        workers.wait_ready(lambda: _health(health_port)["up"] == len(sim.cameras), 60, "workers' cameras up")
        time.sleep(warmup_s)
        h0 = _health(health_port)
        cpu0 = {"workers": pid_cpu_seconds(workers.pid), "server": pid_cpu_seconds(sim.process.pid)}  # type: ignore[union-attr]
        load0 = os.getloadavg()
        start, t0 = datetime.now(UTC), time.monotonic()
        while time.monotonic() - t0 < seconds:
            time.sleep(0.1)
            if journal.exists():
                journal_reads(journal, reads)
        wall = time.monotonic() - t0
        end = datetime.now(UTC)
        cpu = {
            "workers": pid_cpu_seconds(workers.pid) - cpu0["workers"],
            "server": pid_cpu_seconds(sim.process.pid) - cpu0["server"],  # type: ignore[union-attr]
        }
        h1 = _health(health_port)
        load1 = os.getloadavg()
        time.sleep(3)  # reads of passes that left just before the end land
        journal_reads(journal, reads)
    finally:
        workers.stop(grace_s=10)
    truth = [
        TruePass(
            r["pass_id"],
            r["camera_id"],
            r["plate"],
            datetime.fromisoformat(r["enter"]),
            datetime.fromisoformat(r["leave"]),
        )
        for r in sim.truth(start, end)
    ]
    in_window = {
        k: v
        for k, v in reads.items()
        if start - timedelta(seconds=1) <= datetime.fromisoformat(v[0]["first_seen"])
        and datetime.fromisoformat(v[0]["last_seen"]) <= end + timedelta(seconds=1)
    }
    n = len(sim.cameras)

    def delta(key: str) -> float:
        before = {c["camera_id"]: c[key] for c in h0["cameras"]}
        return sum(c[key] - before.get(c["camera_id"], 0) for c in h1["cameras"])

    stages = {k: round((v - h0["stage_cpu_s"].get(k, 0.0)) / wall, 4) for k, v in h1["stage_cpu_s"].items()}
    stages["decode"] = round(delta("decode_cpu_s") / wall, 4)
    detect_frames = stages.pop("detect_frames", 0.0) * wall
    frames = {
        k: int(delta(k))
        for k in (
            "frames",
            "decoded_frames",
            "processed_frames",
            "dropped_frames",
            "deferred_frames",
            "bad_frames",
            "errors",
            "reconnects",
        )
    }
    accuracy = evaluate(truth, in_window)
    for key in ("wrong", "missed", "duplicated", "slowest"):
        accuracy[key] = accuracy[key][:10]  # the file stays readable; counts are above
    return {
        "wall_s": round(wall, 1),
        "load_avg_start_end": [round(load0[0], 2), round(load1[0], 2)],
        "worker_cores": round(cpu["workers"] / wall, 3),
        "worker_cores_per_camera": round(cpu["workers"] / wall / n, 4),
        "server_cores": round(cpu["server"] / wall, 3),
        "stage_cores": stages,  # CPU of each stage in cores (decode: all feed threads together)
        "detector_frames_per_s": round(detect_frames / wall, 1),
        "cameras_up_end": h1["up"],
        "frames": frames,
        "accuracy": accuracy,
    }


def run_one(cameras: int, resolution: tuple[int, int], args: argparse.Namespace) -> dict[str, Any]:
    manifest = build_clips(
        cameras,
        resolution=resolution,
        fps=args.fps,
        duration_s=args.clip_seconds,
        jobs=args.jobs,
        log=lambda m: print(m, flush=True),
    )
    work = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    with RtspSimulator(manifest, log_dir=work) as sim:
        print(f"{cameras} feeds {resolution[0]}x{resolution[1]}: bare decode …", flush=True)
        floor = bare_decode(sim, args.warmup, args.decode_seconds)
        print(json.dumps(floor), flush=True)
        print(f"{cameras} feeds {resolution[0]}x{resolution[1]}: workers …", flush=True)
        workers = run_workers(sim, args.seconds, args.warmup, work, args.detect_fps)
    workers["worker_over_bare_decode"] = round(workers["worker_cores"] / max(floor["cores"], 1e-6), 2)
    return {
        "cameras": cameras,
        "resolution": list(resolution),
        "fps": args.fps,
        "bitrate_kbps": manifest.bitrate_kbps,
        "gop_frames": manifest.gop_frames,
        "clip_s": manifest.duration_s,
        "looks": {
            look: sum(c.look == look for c in manifest.cameras.values()) for look in ("day", "night", "rain")
        },
        "bare_decode": floor,
        "workers": workers,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cameras", type=int, action="append", help="feeds of the next --resolution")
    parser.add_argument("--resolution", type=parse_resolution, action="append", help="e.g. 1280x720")
    parser.add_argument("--fps", type=float, default=12.0)
    parser.add_argument("--seconds", type=float, default=90, help="workers' measured window")
    parser.add_argument("--decode-seconds", type=float, default=30, help="bare decode's measured window")
    parser.add_argument("--warmup", type=float, default=8)
    parser.add_argument("--clip-seconds", type=float, default=30, help="each camera's clip, looped")
    parser.add_argument("--jobs", type=int, default=2, help="processes rendering clips")
    parser.add_argument(
        "--detect-fps", type=float, default=None, help="workers' detector frames per camera a second"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "feeds.json")
    args = parser.parse_args(argv)
    cameras, sizes = args.cameras or [45], args.resolution or [(1280, 720)]
    if len(cameras) != len(sizes):
        parser.error("give one --cameras per --resolution")
    vision = load_settings().vision
    result: dict[str, Any] = {
        "machine": machine(),
        "models": {
            "detector": str(vision.detector_model),
            "detector_input": vision.detector_input_size,
            "detector_input_hd": vision.detector_input_size_hd,
            "detector_precision": vision.detector_precision,
            "recognizer": str(vision.recognizer_model),
            "recognizer_precision": vision.recognizer_precision,
        },
        "detect_fps": args.detect_fps,
        "runs": [],
    }
    for n, size in zip(cameras, sizes, strict=True):
        result["runs"].append(run_one(n, size, args))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
