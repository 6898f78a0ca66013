"""People event delivery benchmark (issue 23): an event written by the monitor (snapshot and
journal record fsync'd, `monitor.service.EventLog`) → on the operators' live board (the API's SSE
stream) → its webhook POST received → its MQTT message received, through a real `anpr indexer`
process, Elasticsearch, the API and a Mosquitto broker, while background plate reads (no
watchlist hit) keep the indexer busy as the cameras would.

Also the monitor's own cost of writing an event (JPEG snapshot of a real 640×480 mall frame with
the zone drawn, two fsyncs). Reported: p50 / p95 / max, with anything missing or duplicated.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import tempfile
import threading
import time
from pathlib import Path

import cv2
import requests
from werkzeug.serving import make_server

from anpr.bench import fresh_indices
from anpr.bench.alert_delivery import _read, _stats
from anpr.bench.receiver import SECRET, Arrivals, start_receiver, subscribe_alerts
from anpr.broker import start_broker
from anpr.harness import free_port
from anpr.launcher import Process, anpr_command
from anpr_core.elastic.client import resolve_connection
from anpr_core.elastic.indices import webhooks_index
from anpr_core.journal import ReadJournal
from anpr_core.settings import load_settings
from monitor.analytics import CameraAnalytics, Zone
from monitor.rules import PeopleEvent
from monitor.service import EventLog
from search_api.app import create_app
from search_api.users import DEMO_PASSWORD, seed_demo_users

CAMERA = CameraAnalytics(
    id="P01", fps=5, zone=[Zone(name="shopfront", polygon=[(300, 200), (620, 200), (620, 470), (300, 470)],
                                closed=["always"])],
)  # fmt: skip


def _board(url: str, token: str, arrivals: dict[str, list[float]], stop: threading.Event) -> None:
    """An operator's console: the live stream, each alert's arrival time."""
    with requests.get(f"{url}/api/v1/alerts/stream", params={"max_seconds": 3600}, stream=True,
                      headers={"Authorization": f"Bearer {token}"}, timeout=60) as response:  # fmt: skip
        for line in response.iter_lines(decode_unicode=True):
            if stop.is_set():
                return
            if line and line.startswith("data: "):
                arrivals.setdefault(json.loads(line[6:])["alert_id"], []).append(time.time())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--event-every", type=float, default=0.5, help="seconds between people events")
    parser.add_argument("--reads-per-s", type=float, default=20, help="background plate reads (no alert)")
    parser.add_argument("--prefix", default="benchpe")
    args = parser.parse_args(argv)
    settings, client = fresh_indices(args.prefix)
    frame = cv2.imread(str(settings.paths.shared_data / "people" / "images" / "q0001.jpg"))
    if frame is None:
        print("the mall frames in ../shared/data/people are missing")
        return 2
    port = free_port()
    client.index(index=webhooks_index(args.prefix), id="p" * 32, refresh="wait_for", document={
        "id": "p" * 32, "url": f"http://127.0.0.1:{port}/hook", "secret": SECRET, "active": True,
        "priorities": [], "cameras": []})  # fmt: skip
    arrivals = Arrivals()
    board: dict[str, list[float]] = {}
    receiver = start_receiver(arrivals, port)
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        api_settings = load_settings(elasticsearch={"index_prefix": args.prefix}, paths={"var_dir": tmp})
        app = create_app(api_settings, es=client, cameras={})
        seed_demo_users(app.extensions["anpr"].users)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        api = f"http://127.0.0.1:{httpd.server_port}"
        login = {"username": "operator", "password": DEMO_PASSWORD}
        token = requests.post(f"{api}/api/v1/auth/login", json=login, timeout=30).json()["token"]
        threading.Thread(target=_board, args=(api, token, board, stop), daemon=True).start()
        broker = start_broker(settings, port=free_port(), root=Path(tmp) / "mosquitto")
        subscriber = subscribe_alerts(broker, arrivals, client_id="bench-people-sub")
        url, _, password = resolve_connection(settings)
        env = {**os.environ, "ANPR_ELASTICSEARCH__URL": url, "ANPR_ELASTICSEARCH__PASSWORD": password,
               "ANPR_ELASTICSEARCH__INDEX_PREFIX": args.prefix, "ANPR_PATHS__VAR_DIR": tmp,
               **broker.env()}  # fmt: skip
        indexer = Process("indexer", anpr_command("indexer", "--metrics-port", "0"), env=env,
                          log_dir=Path(tmp) / "logs")  # fmt: skip
        indexer.start()
        journal = ReadJournal(Path(tmp) / "journal")
        events = EventLog(Path(tmp) / "people")
        time.sleep(5)  # the indexer's start-up (indices, broker connection)
        rng = random.Random(7)

        def background() -> None:
            serial = 0
            while not stop.is_set():
                serial += 1
                plate = f"{rng.randint(10, 99)}가{rng.randint(0, 9999):04d}"
                journal.append(_read(plate, f"C{serial % 45:02d}", serial))
                time.sleep(1 / args.reads_per_s)

        threading.Thread(target=background, daemon=True).start()
        accepted: dict[str, float] = {}
        write_s: list[float] = []
        started = time.time()
        for i in range(args.events):
            now = time.time()
            event = PeopleEvent("P01", "shopfront", "intrusion", now, now - 0.4, i, (400.0, 300.0))
            snapshot = events.append(event, frame, CAMERA)
            accepted[snapshot.stem] = time.time()
            write_s.append(accepted[snapshot.stem] - now)
            time.sleep(args.event_every)
        deadline = time.time() + 30
        while time.time() < deadline and min(len(board), len(arrivals.webhook), len(arrivals.mqtt)) < len(
            accepted
        ):
            time.sleep(0.2)
        stop.set()
        duration, load = time.time() - started, os.getloadavg()[0]
        indexer.stop()
        subscriber.loop_stop()
        broker.stop()
        httpd.shutdown()
        events.close()
    receiver.shutdown()

    def latencies(kind: dict[str, list[float]]) -> tuple[list[float], int, int]:
        got = [min(kind[k]) - t for k, t in accepted.items() if k in kind]
        return got, len(accepted) - len(got), sum(len(kind[k]) - 1 for k in accepted if k in kind)

    print(f"load: {args.events} people events, one every {args.event_every} s, over {args.reads_per_s:.0f} "
          f"background plate reads/s, {duration:.0f} s; load average {load:.1f} at the end")  # fmt: skip
    print(f"monitor writes an event (snapshot + journal, 2 fsyncs): {_stats(write_s)}")
    ok = True
    for name, kind in (("live board (SSE)", board), ("webhook received", arrivals.webhook),
                       ("MQTT received", arrivals.mqtt)):  # fmt: skip
        got, missing, duplicates = latencies(kind)
        ok = ok and missing == 0
        print(f"event written → {name}: {_stats(got)}; missing {missing}, duplicates {duplicates}")
    return 0 if ok else 1
