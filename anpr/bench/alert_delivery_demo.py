"""Alert delivery measured on the running demo (issue 21): `scripts/bench/alert_delivery --demo`.

The demo's services as the demo starts them — `anpr simulate` (45 cameras, 8 fps, the demo's
traffic), `anpr workers` (real detector and recogniser), `anpr indexer` and `anpr api` (gunicorn)
— and a Mosquitto broker, on free ports with their own index prefix and var dir (so a demo
already running on this machine is left alone). The administrator subscribes a webhook through
the API (`POST /api/v1/webhooks`) to an HTTP receiver in this process, and puts suffix patterns
on the watchlist through the API (the demo's own three plus `*d7`: about a tenth of the passes);
an MQTT client subscribes to `anpr/alerts/#` at QoS 1 with the broker's credentials.

For every alert that arrives, measured on this machine's one clock:

* alert → webhook received: from the alert's `created_at` (set by the indexer when it matched the
  read) to the signed POST arriving at the receiver;
* alert → MQTT subscriber received: the same start to the message arriving at the subscriber;
* vehicle leaves → webhook / MQTT, end to end: from the moment the simulator's ground truth says
  the vehicle left the frame (its read matched to the pass as in `scripts/bench/load`), so the
  workers' vote, the journal and the indexer's pick-up are included; and leave → alert created,
  the part before delivery.

Also counted: alerts on each path, duplicates (same alert id twice), and alerts that reached one
path but not the other by the end of the drain.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from anpr.bench import machine, write_report
from anpr.bench.demo_stack import prepare
from anpr.bench.load import JournalWatcher, spread
from anpr.bench.receiver import SECRET, Arrivals, start_receiver, subscribe_alerts
from anpr.broker import start_broker
from anpr.demo import DEMO_WATCHLIST
from anpr.harness import Api, Services, camera_health, free_port
from anpr.simulator.truth import load_truth, match
from anpr_core.settings import PROJECT_ROOT

TARGET_P95_S = 1.0
STARTUP_S = 240.0  # model load, 45 feeds, gunicorn, on two shared cores
DRAIN_S = 15.0
EXTRA_PATTERNS = [f"*{d}7" for d in range(10) if f"*{d}7" not in {p for p, _ in DEMO_WATCHLIST}]


class AlertTimes:
    """Each alert's `created_at` and read id, from whichever path brought it first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.created: dict[str, float] = {}
        self.read_of: dict[str, str] = {}

    def note(self, alert: dict[str, Any]) -> None:
        with self.lock:
            key = str(alert["alert_id"])
            self.created.setdefault(key, datetime.fromisoformat(str(alert["created_at"])).timestamp())
            self.read_of.setdefault(key, str(alert["read_id"]))


def run(args: argparse.Namespace) -> dict[str, Any]:
    stack = prepare("demo")
    work, prefix, es, env = stack.work, stack.prefix, stack.es, stack.env
    broker = start_broker(stack.settings, port=free_port(), root=work / "mosquitto")
    env.update(broker.env())
    sim_port, api_port, health_port, hook_port = stack.sim_port, stack.api_port, free_port(), free_port()
    arrivals, times = Arrivals(), AlertTimes()
    receiver = start_receiver(arrivals, hook_port, on_alert=times.note)
    services = Services(work / "logs", env)
    journal = JournalWatcher(work / "var" / "journal")
    subscriber: mqtt.Client | None = None
    loads: list[float] = [os.getloadavg()[0]]
    started = time.monotonic()
    try:
        # The demo's commands (anpr/demo.py `services`), on this run's ports.
        services.start("simulator", "simulate", "--cameras", "45", "--fps", "8", "--port", str(sim_port),
                       "--truth", str(work / "truth.jsonl"))  # fmt: skip
        services.start("workers", "workers", "--health-port", str(health_port))
        services.start("indexer", "indexer", "--metrics-port", "0")
        services.start("api", "api", env={"PROMETHEUS_MULTIPROC_DIR": str(stack.metrics_dir)}, grace_s=3.0)
        api = Api(api_port)
        services.wait_ready("the API", lambda: api.call("GET", "/ready")[0] == 200, STARTUP_S)

        def feeds_up() -> bool:
            cams = camera_health(health_port)
            return bool(cams) and all(c["state"] == "up" and c["processed_frames"] > 0 for c in cams)

        services.wait_ready("the workers' feeds", feeds_up, STARTUP_S)
        admin = api.login("admin")
        status, body = api.call("POST", "/api/v1/webhooks", admin, {
            "url": f"http://127.0.0.1:{hook_port}/hooks/anpr", "secret": SECRET,
            "description": "benchmark: the 112 centre's receiver"})  # fmt: skip
        if status != 201:
            raise RuntimeError(f"webhook subscription: {status} {body}")
        for pattern, reason in [*DEMO_WATCHLIST, *((p, "other") for p in EXTRA_PATTERNS)]:
            entry = {"plate": pattern, "reason": reason, "priority": "high", "case_number": "BENCH-21"}
            status, body = api.call("POST", "/api/v1/watchlist", admin, entry)
            if status != 201:
                raise RuntimeError(f"watchlist {pattern}: {status} {body}")
        subscriber = subscribe_alerts(broker, arrivals, f"bench-demo-{uuid.uuid4().hex[:8]}", times.note)
        journal.start()
        time.sleep(5)  # the indexer reloads the watchlist and subscriptions every 2 s
        startup_s = time.monotonic() - started
        window_start = time.time()
        end = time.monotonic() + args.minutes * 60
        next_report = time.monotonic() + 60
        while time.monotonic() < end:
            time.sleep(1.0)
            services.check_alive()
            if time.monotonic() >= next_report:
                next_report += 60
                loads.append(os.getloadavg()[0])
                counts = (
                    f"{len(journal.reads)} reads, {len(arrivals.webhook)} webhooks, {len(arrivals.mqtt)} MQTT"
                )
                print(f"  {counts}, load {loads[-1]:.2f}", file=sys.stderr, flush=True)
        window_end = time.time()
        deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < deadline and (
            set(times.created) - set(arrivals.webhook) or set(times.created) - set(arrivals.mqtt)
        ):
            time.sleep(0.5)
        journal.poll()
        health = camera_health(health_port)
        cpu = services.cpu_seconds()
        loads.append(os.getloadavg()[0])
    finally:
        journal.stopped.set()
        if subscriber is not None:
            subscriber.loop_stop()
            subscriber.disconnect()
        services.stop()
        broker.stop()
        receiver.shutdown()
    reads = [record for record, _ in journal.snapshot().values()]
    passes = load_truth(work / "truth.jsonl")
    left_at = {
        r["read_id"]: p.leave.timestamp() for p in passes for r in match(passes, reads).reads_of[p.pass_id]
    }
    in_window = [k for k, t in times.created.items() if window_start <= t <= window_end]
    web = [min(arrivals.webhook[k]) - times.created[k] for k in in_window if k in arrivals.webhook]
    mq = [min(arrivals.mqtt[k]) - times.created[k] for k in in_window if k in arrivals.mqtt]
    matched = [k for k in in_window if times.read_of[k] in left_at]
    from_leave = {
        kind: [min(got[k]) - left_at[times.read_of[k]] for k in matched if k in got]
        for kind, got in (("webhook", arrivals.webhook), ("mqtt", arrivals.mqtt))
    }
    result = {
        "machine": {**machine(), "load_average_1min": loads},
        "config": {
            "minutes": args.minutes,
            "cameras": 45,
            "fps": 8,
            "index_prefix": prefix,
            "watchlist": [p for p, _ in DEMO_WATCHLIST] + EXTRA_PATTERNS,
            "work_dir": str(work),
        },
        "startup_s": round(startup_s, 1),
        "reads": len(reads),
        "cameras_up": sum(c["state"] == "up" for c in health),
        "cpu_seconds": {k: round(v, 1) for k, v in cpu.items()},
        "alerts_in_window": len(in_window),
        "alert_to_webhook_s": spread(web),
        "alert_to_mqtt_s": spread(mq),
        "leave_to_alert_s": spread([times.created[k] - left_at[times.read_of[k]] for k in matched]),
        "leave_to_webhook_s": spread(from_leave["webhook"]),
        "leave_to_mqtt_s": spread(from_leave["mqtt"]),
        "alerts_not_matched_to_a_pass": len(in_window) - len(matched),
        "per_alert": [  # wall times (Unix seconds), for checking the figures above
            {
                "alert_id": k,
                "read_id": times.read_of[k],
                "left": left_at.get(times.read_of[k]),
                "created": times.created[k],
                "webhook": arrivals.webhook.get(k),
                "mqtt": arrivals.mqtt.get(k),
            }
            for k in in_window
        ],
        "missing_webhook": sum(k not in arrivals.webhook for k in in_window),
        "missing_mqtt": sum(k not in arrivals.mqtt for k in in_window),
        "duplicates_webhook": sum(len(v) - 1 for v in arrivals.webhook.values()),
        "duplicates_mqtt": sum(len(v) - 1 for v in arrivals.mqtt.values()),
    }
    p95s = [result["alert_to_webhook_s"].get("p95"), result["alert_to_mqtt_s"].get("p95")]
    result["target_met"] = all(p is not None and p <= TARGET_P95_S for p in p95s)
    if not args.keep:
        stack.drop_indices()
    es.close()
    return result


def report(r: dict[str, Any]) -> str:
    def line(label: str, s: dict[str, Any]) -> str:
        if not s.get("n"):
            return f"{label}: n=0"
        ms = {k: f"{s[k] * 1000:.0f} ms" for k in ("p50", "p95", "max")}
        return f"{label}: n={s['n']} p50 {ms['p50']}, p95 {ms['p95']}, max {ms['max']}"

    return "\n".join([
        f"machine: {r['machine']}",
        f"demo: 45 cameras at 8 fps, {r['reads']} reads, {r['cameras_up']} cameras up at the end,"
        f" start-up {r['startup_s']} s, CPU s {r['cpu_seconds']}",
        f"alerts in the {r['config']['minutes']} min window: {r['alerts_in_window']}; missing webhook"
        f" {r['missing_webhook']}, MQTT {r['missing_mqtt']}; duplicates webhook {r['duplicates_webhook']},"
        f" MQTT {r['duplicates_mqtt']}",
        line("alert → webhook received  ", r["alert_to_webhook_s"]),
        line("alert → MQTT received     ", r["alert_to_mqtt_s"]),
        line("leave → alert created     ", r["leave_to_alert_s"]),
        line("leave → webhook received  ", r["leave_to_webhook_s"]),
        line("leave → MQTT received     ", r["leave_to_mqtt_s"]),
        f"p95 ≤ {TARGET_P95_S:g} s on both paths: {'yes' if r['target_met'] else 'NO'}",
    ])  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/alert_delivery --demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--minutes", type=float, default=10.0, help="measured window (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the run's indices")
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "var" / "bench" / "alert_delivery_demo.json"
    )
    args = parser.parse_args(argv)
    result = run(args)
    write_report(result, args.out, report(result))
    return 0 if result["target_met"] and not (result["missing_webhook"] or result["missing_mqtt"]) else 1
