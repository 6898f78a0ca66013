"""`anpr simulate --rtsp`: build (or reuse) the real-plate clips, serve them with gst-rtsp-server
until interrupted, and append each pass to the truth file once it has left the picture."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections import defaultdict
from datetime import UTC, datetime

from anpr.simulator.camera_faults import Fault, FaultError, parse_fault
from anpr.simulator.real_clips import build_clips, parse_resolution, write_truth
from anpr.simulator.rtsp import RtspSimulator


def _faults(specs: list[str]) -> dict[str, list[Fault]]:
    faults: dict[str, list[Fault]] = defaultdict(list)
    for spec in specs:
        camera_id, fault = parse_fault(spec)
        faults[camera_id].append(fault)
    return dict(faults)


def run_rtsp(args: argparse.Namespace) -> int:
    fps = args.fps or 12.0
    try:
        size = parse_resolution(args.size)
        faults = _faults(args.fault)
        manifest = build_clips(
            args.cameras,
            resolution=size,
            fps=fps,
            duration_s=args.clip_seconds,
            seed=args.seed,
            faults=faults,
            jobs=2,
            log=lambda m: print(m, flush=True),
        )
    except (ValueError, FaultError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sim = RtspSimulator(manifest, port=args.port).start()
    print(
        f"serving {args.cameras} real-plate H.264 cameras {size[0]}x{size[1]} {fps:g} fps: {sim.url('C01')} …"
        f" truth → {args.truth}",
        flush=True,
    )
    args.truth.parent.mkdir(parents=True, exist_ok=True)
    args.truth.write_text("", encoding="utf-8")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    written: set[str] = set()
    with contextlib.suppress(KeyboardInterrupt):
        while not done.wait(2.0):
            if not sim.process or not sim.process.alive():
                print("error: the RTSP server exited", file=sys.stderr)
                return 1
            rows = [r for r in sim.truth(sim.epoch, datetime.now(UTC)) if r["pass_id"] not in written]
            write_truth(args.truth, rows, append=True)
            written.update(r["pass_id"] for r in rows)
    sim.stop()
    print(f"{len(written)} passes written to {args.truth}")
    return 0
