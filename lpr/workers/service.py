"""`anpr workers`: read every enabled camera in the registry and hand reads to the journal."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading

from anpr_core.cameras import load_camera_registry
from anpr_core.elastic.client import make_client
from anpr_core.elastic.indices import camera_health_index
from anpr_core.journal import ReadJournal
from anpr_core.logging_setup import configure_logging
from anpr_core.settings import Settings, load_settings
from lpr.pipeline import PlateReader
from lpr.recognizer import load_recognizer
from lpr.workers.feeds import FeedReader
from lpr.workers.health import CameraHealth
from lpr.workers.publish import HealthPublisher, serve_health
from lpr.workers.worker import PlateWorker, run_loop

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cameras", default=None, help="comma-separated camera ids (default: all enabled)")
    parser.add_argument("--health-port", type=int, default=9108)
    parser.add_argument("--batch", type=int, default=16, help="frames per detector call")
    parser.add_argument(
        "--max-new", type=int, default=8,
        help="cameras whose motion just started that get the detector per round (tracked ones always do)",
    )  # fmt: skip
    parser.add_argument("--input-size", type=int, default=None, help="detector input (default from settings)")
    parser.add_argument("--no-es", action="store_true", help="do not publish health to Elasticsearch")
    parser.add_argument(
        "--detect-fps", type=float, default=None,
        help="at most this many detector frames per camera per second (default: no cap)",
    )  # fmt: skip
    parser.add_argument(
        "--stream-template", default=None, metavar="URL",
        help="read camera {id} from this URL instead of the registry's, e.g. rtsp://127.0.0.1:8555/{id} "
        "(the real-plate RTSP simulator) or 'file:///clips/{id}.h264?realtime=1&fps=12&loop=1'",
    )  # fmt: skip


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`anpr workers`: for anpr/cli.py (COMMANDS["workers"] = run)."""
    add_arguments(sub.add_parser("workers", help="camera workers: feeds → reads in the journal"))


def run(args: argparse.Namespace, settings: Settings) -> int:
    registry = load_camera_registry(settings.cameras.registry_path)
    wanted = set(args.cameras.split(",")) if args.cameras else None
    cameras = [c for c in registry.values() if c.enabled and (wanted is None or c.id in wanted)]
    healths = {c.id: CameraHealth(c.id) for c in cameras}
    vision = settings.vision
    recognizer = load_recognizer(
        vision.recognizer_model, threads=vision.threads, precision=vision.recognizer_precision
    )
    reader = PlateReader.for_workers(vision, recognizer, input_size=args.input_size)
    worker = PlateWorker(
        cameras,
        reader,
        ReadJournal(settings.paths.journal),
        settings.paths.crops,
        worker_name=f"{socket.gethostname()}:{os.getpid()}",
        healths=healths,
        repeat_window_s=settings.cameras.repeat_window_s,
        max_batch=args.batch,
        detect_fps=args.detect_fps,
    )
    template = args.stream_template
    feeds = {
        c.id: FeedReader(
            c.id,
            template.replace("{id}", c.id) if template else c.stream_url,
            healths[c.id],
            skip_loop_filter=vision.decode_skip_loop_filter,
        )
        for c in cameras
    }
    for feed in feeds.values():
        feed.start()
    publisher = HealthPublisher(
        healths,
        None if args.no_es else (lambda: make_client(settings)),
        camera_health_index(settings.elasticsearch.index_prefix),
    )
    publisher.start()
    http = serve_health(healths, args.health_port, stages=lambda: dict(worker.stage_cpu_s))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("workers started", extra={"cameras": len(cameras), "health_port": args.health_port})
    run_loop(worker, feeds, stop, max_new=args.max_new)
    for feed in feeds.values():
        feed.stop_event.set()
    worker.flush()  # vehicles still in view are emitted: a clean stop loses no pass
    publisher.publish_once()
    http.shutdown()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="anpr-workers", description=__doc__)
    add_arguments(parser)
    settings = load_settings()
    configure_logging(settings.log_level, service="workers")
    return run(parser.parse_args(argv), settings)


if __name__ == "__main__":
    raise SystemExit(main())
