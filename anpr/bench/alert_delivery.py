"""Alert delivery benchmark: a watchlisted read accepted in the journal → the alert's webhook POST
received → its MQTT message received, through a real `anpr indexer` process, Elasticsearch and a
Mosquitto broker, while background reads (not on the watchlist) keep the indexer busy.

Each alert read is appended to the journal (fsync, as a camera worker does) at a known instant;
the receiver (an HTTP server in this process) and an MQTT subscriber (QoS 1) note when it arrives.
Reported: p50 / p95 / max of journal → webhook, journal → MQTT and outbox → webhook (the
`queued_at` in the body: the outbox's own share), with duplicates and anything missing.

`--demo` measures on the whole running demo instead (`anpr/bench/alert_delivery_demo.py`).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from anpr.bench import fresh_indices
from anpr.bench.receiver import SECRET, Arrivals, start_receiver, subscribe_alerts
from anpr.broker import start_broker
from anpr.harness import free_port
from anpr.launcher import Process, anpr_command
from anpr_core.elastic.client import resolve_connection
from anpr_core.elastic.indices import webhooks_index
from anpr_core.journal import ReadJournal
from anpr_core.reads import PlateRead, make_read_id
from indexer.alerts import alert_id
from search_api.watchlist_store import WatchlistBody, WatchlistStore


def _read(plate: str, camera: str, serial: int) -> PlateRead:
    seen = datetime.now(UTC)
    return PlateRead(
        read_id=make_read_id(camera, seen, f"b{serial}"), plate=plate, confidence=0.96, camera_id=camera,
        first_seen=seen, last_seen=seen, best_seen=seen, location={"lat": 36.78, "lon": 127.0},
    )  # fmt: skip


def _stats(values: list[float]) -> str:
    if not values:
        return "n=0"
    a = np.array(values) * 1000
    p50, p95 = np.percentile(a, 50), np.percentile(a, 95)
    return f"n={len(a)} p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {a.max():.0f} ms"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--demo" in argv:  # the same figures on the whole running demo (workers' CPU load included)
        from anpr.bench.alert_delivery_demo import main as demo_main

        return demo_main([a for a in argv if a != "--demo"])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo", action="store_true", help="measure on the running demo (see --demo --help)")
    parser.add_argument("--alerts", type=int, default=120)
    parser.add_argument("--alert-every", type=float, default=0.5, help="seconds between alert reads")
    parser.add_argument("--reads-per-s", type=float, default=20, help="background reads (no alert)")
    parser.add_argument("--prefix", default="benchdl")
    args = parser.parse_args(argv)
    settings, client = fresh_indices(args.prefix)
    wanted = [f"{10 + i}모{1000 + i}" for i in range(20)]
    store = WatchlistStore(client, args.prefix)
    bodies = [
        WatchlistBody.model_validate({"plate": p, "reason": "wanted", "priority": "high"}) for p in wanted
    ]
    entries = [store.create(body, "bench") for body in bodies]
    port = free_port()
    client.index(index=webhooks_index(args.prefix), id="b" * 32, refresh="wait_for", document={
        "id": "b" * 32, "url": f"http://127.0.0.1:{port}/hook", "secret": SECRET, "active": True,
        "priorities": [], "cameras": []})  # fmt: skip
    arrivals = Arrivals()
    receiver = start_receiver(arrivals, port)
    with tempfile.TemporaryDirectory() as tmp:
        broker = start_broker(settings, port=free_port(), root=Path(tmp) / "mosquitto")
        subscriber = subscribe_alerts(broker, arrivals, "bench-sub")
        url, _, password = resolve_connection(settings)
        env = {**os.environ, "ANPR_ELASTICSEARCH__URL": url, "ANPR_ELASTICSEARCH__PASSWORD": password,
               "ANPR_ELASTICSEARCH__INDEX_PREFIX": args.prefix, "ANPR_PATHS__VAR_DIR": tmp,
               **broker.env()}  # fmt: skip
        indexer = Process("indexer", anpr_command("indexer", "--metrics-port", "0"), env=env,
                          log_dir=Path(tmp) / "logs")  # fmt: skip
        indexer.start()
        journal = ReadJournal(Path(tmp) / "journal")
        time.sleep(5)  # the indexer's start-up (indices, watchlist, broker connection)
        accepted: dict[str, float] = {}
        stop = threading.Event()
        rng = random.Random(7)

        def background() -> None:
            serial = 0
            while not stop.is_set():
                serial += 1
                journal.append(
                    _read(f"{rng.randint(10, 99)}가{rng.randint(0, 9999):04d}", f"C{serial % 45:02d}", serial)
                )
                time.sleep(1 / args.reads_per_s)

        filler = threading.Thread(target=background, daemon=True)
        filler.start()
        started = time.time()
        for i in range(args.alerts):
            entry = entries[i % len(entries)]
            read = _read(entry["plate"], f"C{i % 45:02d}", 1_000_000 + i)
            journal.append(read)
            accepted[alert_id(read.read_id, entry["id"])] = time.time()
            time.sleep(args.alert_every)
        deadline = time.time() + 30
        while time.time() < deadline and (
            len(arrivals.webhook) < len(accepted) or len(arrivals.mqtt) < len(accepted)
        ):
            time.sleep(0.2)
        stop.set()
        duration = time.time() - started
        load = os.getloadavg()[0]
        indexer.stop()
        subscriber.loop_stop()
        broker.stop()
    receiver.shutdown()
    web = [min(arrivals.webhook[k]) - t for k, t in accepted.items() if k in arrivals.webhook]
    mq = [min(arrivals.mqtt[k]) - t for k, t in accepted.items() if k in arrivals.mqtt]
    outbox = [min(arrivals.webhook[k]) - arrivals.queued[k] for k in accepted if k in arrivals.queued]
    dup_web = sum(len(v) - 1 for v in arrivals.webhook.values())
    dup_mq = sum(len(v) - 1 for v in arrivals.mqtt.values())
    print(f"load: {args.alerts} alerts, one every {args.alert_every} s, over {args.reads_per_s:.0f} "
          f"background reads/s, {duration:.0f} s; load average {load:.1f} at the end")  # fmt: skip
    print(
        f"journal → webhook received: {_stats(web)}; missing {len(accepted) - len(web)}, duplicates {dup_web}"
    )
    print(f"journal → MQTT received:    {_stats(mq)}; missing {len(accepted) - len(mq)}, duplicates {dup_mq}")
    print(f"outbox → webhook received:  {_stats(outbox)}")
    return 0 if len(web) == len(mq) == len(accepted) else 1
