"""`scripts/simulate_cameras` / `anpr simulate`: serve N simulated cameras until interrupted.

Besides each camera's random traffic: `--journey PLATE:C01,C02,C03[@SECONDS]` (repeatable) sends
one vehicle through those cameras in order, and `--road-journeys N` sends about N vehicles an hour
along roads of the camera registry. Travel times between cameras are distance / `--speed-kmh`,
times `--time-scale` (0.01 turns a 10-minute drive into 6 s), unless a journey gives @SECONDS.

`--rtsp`: instead of the drawn MJPEG cameras, real-plate H.264 feeds (held-out real plates on real
backgrounds, anpr/simulator/real_clips.py) served by GStreamer's RTSP server at
rtsp://127.0.0.1:PORT/Cnn (`--size`, 12 fps, clips of `--clip-seconds` looped; built once and
cached under var/sim/clips/); `--fault C03:drop@20+8` (repeatable) adds camera faults. The truth
file gets each pass once it has left the picture.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from anpr.simulator.journeys import (
    DEFAULT_SPEED_KMH,
    JourneyError,
    RoadTraffic,
    parse_journey,
    road_routes,
    travel_times,
)
from anpr.simulator.scene import CameraScene, Conditions
from anpr.simulator.server import FeedHub, SimulatorServer
from anpr_core.cameras import Camera, load_camera_registry
from anpr_core.settings import Settings, load_settings

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cameras", type=int, default=45, help="cameras C01..Cnn (default 45)")
    parser.add_argument("--fps", type=float, default=None, help="default 8 (MJPEG) / 12 (--rtsp)")
    parser.add_argument("--rtsp", action="store_true", help="real-plate H.264 feeds over RTSP (see above)")
    parser.add_argument("--size", default="1280x720", help="--rtsp frame size, e.g. 1920x1080")
    parser.add_argument("--clip-seconds", type=float, default=30.0, help="--rtsp: each camera's clip, looped")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="CAM:KIND@AT+SECONDS[:WxH]",
        help="--rtsp camera fault in clip time: drop, corrupt, freeze, resize (see camera_faults.py)",
    )
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--truth", type=Path, default=Path("var/sim/truth.jsonl"))
    parser.add_argument(
        "--gap",
        type=float,
        nargs=2,
        default=(10.0, 60.0),
        metavar=("MIN_S", "MAX_S"),
        help="seconds between passes per camera (traffic)",
    )
    parser.add_argument("--night", action="store_true")
    parser.add_argument("--blur", type=float, default=0.0, help="Gaussian blur sigma in px")
    parser.add_argument("--rain", action="store_true")
    parser.add_argument(
        "--journey",
        action="append",
        type=_journey_arg,
        default=[],
        metavar="PLATE:CAM1,CAM2[,...][@SECONDS]",
        help="a vehicle driving these cameras in order (repeatable); @SECONDS: time between cameras",
    )
    parser.add_argument(
        "--journey-start",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="the journeys reach their first camera this long after start (default 5)",
    )
    parser.add_argument(
        "--journey-interval",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="each further --journey starts this much later than the one before (default 0)",
    )
    parser.add_argument(
        "--road-journeys",
        type=float,
        default=0.0,
        metavar="PER_HOUR",
        help="generated vehicles an hour driving consecutive cameras along a road (default 0)",
    )
    parser.add_argument("--speed-kmh", type=float, default=DEFAULT_SPEED_KMH, help="speed between cameras")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiplies travel times between cameras; below 1 compresses journeys for tests",
    )
    parser.add_argument(
        "--registry", type=Path, default=None, help="camera registry for positions and roads (from settings)"
    )


def _journey_arg(text: str) -> object:
    try:
        return parse_journey(text)
    except JourneyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _registry(args: argparse.Namespace) -> dict[str, Camera]:
    path = args.registry or load_settings().cameras.registry_path
    return load_camera_registry(path)


def build_server(args: argparse.Namespace) -> SimulatorServer:
    start = datetime.now(UTC)
    conditions = Conditions(night=args.night, blur=args.blur, rain=args.rain)
    scenes = {
        f"C{i:02d}": CameraScene(f"C{i:02d}", args.seed, start, tuple(args.gap), conditions=conditions)
        for i in range(1, args.cameras + 1)
    }
    journeys = getattr(args, "journey", [])
    road_rate = getattr(args, "road_journeys", 0.0)
    speed, scale = getattr(args, "speed_kmh", DEFAULT_SPEED_KMH), getattr(args, "time_scale", 1.0)
    needs_positions = road_rate > 0 or any(j.travel_s is None for j in journeys)
    registry = _registry(args) if needs_positions else {}
    positions = {c.id: (c.lat, c.lon) for c in registry.values()}
    road_traffic = None
    if road_rate > 0:
        simulated = [c for c in registry.values() if c.id in scenes]
        routes = road_routes(simulated)
        road_traffic = RoadTraffic(routes, positions, road_rate, args.seed, start, speed, scale)
    args.truth.parent.mkdir(parents=True, exist_ok=True)
    hub = FeedHub(scenes, args.fps or 8.0, args.truth, road_traffic=road_traffic, seed=args.seed)
    first = start + timedelta(seconds=getattr(args, "journey_start", 5.0))
    for n, spec in enumerate(journeys):
        at = first + timedelta(seconds=n * getattr(args, "journey_interval", 0.0))
        hub.add_journey(spec, at, travel_times(spec, positions, speed, scale))
    return SimulatorServer(hub, port=args.port)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`anpr simulate`: for anpr/cli.py (COMMANDS["simulate"] = run_command)."""
    add_arguments(sub.add_parser("simulate", help="serve simulated ANPR cameras on 127.0.0.1"))


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    return run(args)


def run(args: argparse.Namespace) -> int:
    if args.rtsp:
        from anpr.simulator.rtsp_cli import run_rtsp  # GStreamer only when asked for

        return run_rtsp(args)
    args.fps = args.fps or 8.0
    try:
        server = build_server(args).start()
    except JourneyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"simulating {args.cameras} cameras at {args.fps} fps: {server.url('C01')} … truth → {args.truth}")
    for journey_id, spec, passes in server.hub.journeys:
        legs = ", ".join(f"{p.camera_id} {p.enter.strftime('%H:%M:%S')}" for p in passes)
        print(f"journey {journey_id} {spec.plate}: {legs}")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    server.close()
    print(f"{server.hub.passes_written} passes written to {args.truth}")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO)
    parser = argparse.ArgumentParser(prog="simulate_cameras", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
