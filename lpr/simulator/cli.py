"""`scripts/simulate_cameras` / `anpr simulate`: serve N simulated cameras until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

from anpr_core.settings import Settings
from lpr.simulator.scene import CameraScene, Conditions
from lpr.simulator.server import FeedHub, SimulatorServer

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cameras", type=int, default=45, help="cameras C01..Cnn (default 45)")
    parser.add_argument("--fps", type=float, default=8.0)
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


def build_server(args: argparse.Namespace) -> SimulatorServer:
    start = datetime.now(UTC)
    conditions = Conditions(night=args.night, blur=args.blur, rain=args.rain)
    scenes = {
        f"C{i:02d}": CameraScene(f"C{i:02d}", args.seed, start, tuple(args.gap), conditions=conditions)
        for i in range(1, args.cameras + 1)
    }
    args.truth.parent.mkdir(parents=True, exist_ok=True)
    return SimulatorServer(FeedHub(scenes, args.fps, args.truth), port=args.port)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`anpr simulate`: for anpr_core/cli.py (COMMANDS["simulate"] = run_command)."""
    add_arguments(sub.add_parser("simulate", help="serve simulated ANPR cameras on 127.0.0.1"))


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    return run(args)


def run(args: argparse.Namespace) -> int:
    server = build_server(args).start()
    print(f"simulating {args.cameras} cameras at {args.fps} fps: {server.url('C01')} … truth → {args.truth}")
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
