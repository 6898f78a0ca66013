"""The local demo: Elasticsearch, then every service as a supervised child process.

A service that dies (a crash, `kill -9`) is restarted with back-off by the launcher's
supervisor; Ctrl-C or SIGTERM stops every service and every process they started (gunicorn's
workers too). Elasticsearch runs in its own session and keeps running: `scripts/elasticsearch stop`.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time

from anpr.broker import start_broker
from anpr.launcher import Process, Supervisor, anpr_command, run_until_signalled
from anpr.people_demo import write_demo_analytics
from anpr_core.elastic.local_node import LocalElasticsearch
from anpr_core.logging_setup import configure_logging
from anpr_core.settings import Settings, load_settings
from search_api.users import DEMO_PASSWORD

SIMULATOR_PORT = 8554
RTSP_PORT = 8555  # the real-plate H.264 cameras (`--feeds rtsp`)


def _wait_for_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)


def services(env: dict[str, str], rtsp_cameras: int = 0) -> list[Process]:
    """The demo's services in start order; each dies with the demo even if the demo is killed.
    `rtsp_cameras` > 0: C01.. of those cameras are real-plate H.264 feeds over RTSP (issue 20)
    instead of the 45 drawn MJPEG cameras."""
    cameras = ",".join(f"C{i:02d}" for i in range(1, rtsp_cameras + 1))
    argv = {
        "simulator": anpr_command("simulate", "--cameras", "45", "--fps", "8",
                                  "--port", str(SIMULATOR_PORT), "--truth", "var/sim/truth.jsonl")
        if not rtsp_cameras else
        anpr_command("simulate", "--rtsp", "--cameras", str(rtsp_cameras), "--port", str(RTSP_PORT),
                     "--truth", "var/sim/truth.jsonl"),
        # Detector at the settings' input size (416) with int8 weights: 45 cameras on two cores.
        "workers": anpr_command("workers") if not rtsp_cameras else
        anpr_command("workers", "--cameras", cameras, "--stream-template", f"rtsp://127.0.0.1:{RTSP_PORT}/{{id}}",
                     "--detect-fps", "4"),
        "indexer": anpr_command("indexer"),
        # People analytics (issue 23) on the demo's people cameras (anpr/people_demo.py).
        "people-monitor": anpr_command("people-monitor"),
        "api": anpr_command("api"),
    }  # fmt: skip
    return [Process(name, args, env=env, die_with_parent=True) for name, args in argv.items()]


def seed_demo_users(settings: Settings) -> list[str]:
    """One user per role in the local node, so the demo can be used straight away."""
    from anpr_core.elastic.client import make_client
    from search_api.users import UserStore
    from search_api.users import seed_demo_users as seed

    store = UserStore(make_client(settings), settings.elasticsearch.index_prefix)
    return [f"{user.username} ({user.role.value})" for user in seed(store)]


# Simulated plates are random, so the demo watches for suffixes that about one pass in fifty
# carries: with 45 cameras an alert reaches the board every minute or so.
DEMO_WATCHLIST = (("*77", "wanted"), ("*00", "stolen"), ("*5?5", "other"))


def seed_demo_watchlist(settings: Settings) -> None:
    from anpr_core.elastic.client import make_client
    from anpr_core.elastic.mappings import ensure_indices
    from search_api.watchlist_store import WatchlistBody, WatchlistStore

    client = make_client(settings)
    prefix = settings.elasticsearch.index_prefix
    ensure_indices(client, prefix)
    store = WatchlistStore(client, prefix)
    existing = {entry["plate"] for entry in store.list(100, None)}
    for plate, reason in DEMO_WATCHLIST:
        if plate not in existing:
            body = WatchlistBody.model_validate(
                {
                    "plate": plate,
                    "reason": reason,
                    "priority": "high",
                    "case_number": "DEMO-2026-001",
                    "note": "demo watchlist",
                }
            )
            store.create(body, "demo")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run the whole ANPR service locally")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--feeds",
        choices=("mjpeg", "rtsp"),
        default="mjpeg",
        help="mjpeg: 45 drawn cameras over HTTP (light); rtsp: real-plate H.264 cameras over RTSP "
        "(GStreamer's server; clips rendered once, a few minutes, then cached)",
    )
    parser.add_argument(
        "--rtsp-cameras",
        type=int,
        default=8,
        help="with --feeds rtsp: how many (a 720p camera costs the workers ~0.15 core at 4 detector "
        "frames a second, decoding included: docs/deploy.md)",
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level, service="anpr-demo")

    print("==> starting the local Elasticsearch node (first run downloads it with Maven)")
    node = LocalElasticsearch(settings).start()
    print("==> starting the local MQTT broker (Mosquitto) for alerts and camera status")
    broker = start_broker(settings)
    env = dict(os.environ)
    env.update(broker.env())
    env.update(
        ANPR_ELASTICSEARCH__URL=node.url,
        ANPR_ELASTICSEARCH__PASSWORD=node.password,
        ANPR_API__PORT=str(args.port),
    )
    env["ANPR_PEOPLE__ANALYTICS_PATH"] = str(write_demo_analytics(settings))
    demo_users = seed_demo_users(settings)
    seed_demo_watchlist(settings)
    supervisor = Supervisor()
    rtsp = args.rtsp_cameras if args.feeds == "rtsp" else 0
    for service in services(env, rtsp):
        supervisor.start(service)
        if service.name == "simulator":
            # The workers would otherwise find 45 closed ports and start in back-off. The RTSP
            # cameras' clips are rendered on the first run (minutes; cached in var/sim/clips).
            _wait_for_port(RTSP_PORT if rtsp else SIMULATOR_PORT, timeout_s=900 if rtsp else 30)

    print(f"\nElasticsearch: {node.url} (user elastic, password in var/elasticsearch/elastic-password)")
    print(
        f"API: http://127.0.0.1:{args.port}/api/v1  ·  interactive docs: http://127.0.0.1:{args.port}/api/docs"
    )
    print(f"MQTT: mqtt://127.0.0.1:{broker.port} (user {broker.username}, password in var/mosquitto/password)"
          ", topics anpr/alerts/<priority>/<camera>, anpr/cameras/<camera>/status")  # fmt: skip
    print("Demo users (one per role): " + ", ".join(demo_users) + f"  ·  password: {DEMO_PASSWORD}")
    feeds = (
        f"{rtsp} real-plate H.264 cameras on rtsp://127.0.0.1:{RTSP_PORT}/C01 …"
        if rtsp
        else f"45 simulated cameras on http://127.0.0.1:{SIMULATOR_PORT}/"
    )
    print(f"Web page: http://127.0.0.1:{args.port}/  ·  {feeds}")
    print("People cameras (crowd watch view): P01, P02 real mall CCTV at 1 fps, SIM1 simulated walkers")
    print(
        "Watchlist seeded with "
        + ", ".join(p for p, _ in DEMO_WATCHLIST)
        + "  ·  (Ctrl-C stops every service; a crashed one is restarted)\n"
    )

    run_until_signalled(supervisor)
    broker.stop()
    print("==> services stopped (Elasticsearch keeps running: `scripts/elasticsearch stop`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
