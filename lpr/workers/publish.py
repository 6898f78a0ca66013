"""Publish camera health: to Elasticsearch (one doc per camera, every few seconds) and over HTTP
(/health JSON, /metrics Prometheus). Elasticsearch being away never affects frame processing:
the publisher runs on its own thread and only logs and counts its failures.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from elasticsearch import Elasticsearch, helpers
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from lpr.workers.health import CameraHealth

log = logging.getLogger(__name__)
COUNTERS = ("frames", "processed_frames", "dropped_frames", "bad_frames", "errors", "reconnects", "reads")


class HealthPublisher(threading.Thread):
    def __init__(
        self,
        healths: dict[str, CameraHealth],
        client_factory: Callable[[], Elasticsearch] | None,
        index: str,
        every_s: float = 5.0,
    ) -> None:
        super().__init__(name="health-publisher", daemon=True)
        self.healths, self.client_factory, self.index, self.every_s = healths, client_factory, index, every_s
        self.stop_event = threading.Event()
        self.failures = 0
        self.published = 0
        self._client: Elasticsearch | None = None

    def publish_once(self) -> bool:
        if self.client_factory is None:
            return False
        try:
            if self._client is None:
                self._client = self.client_factory()
            actions = [
                {"_index": self.index, "_id": cid, "_source": h.document()} for cid, h in self.healths.items()
            ]
            helpers.bulk(self._client.options(request_timeout=3), actions)
            self.published += 1
            return True
        except Exception as exc:  # any ES failure: log, count, retry next round
            self.failures += 1
            self._client = None
            log.warning("camera health not published", extra={"reason": f"{type(exc).__name__}: {exc}"})
            return False

    def run(self) -> None:
        while not self.stop_event.wait(self.every_s):
            self.publish_once()


def metrics_text(healths: dict[str, CameraHealth]) -> bytes:
    registry = CollectorRegistry()
    up = Gauge("anpr_camera_up", "1 when the camera's feed delivers frames", ["camera"], registry=registry)
    fps = Gauge("anpr_camera_fps", "frames per second received", ["camera"], registry=registry)
    gauges = {
        name: Gauge(
            f"anpr_camera_{name}_total",
            f"camera {name.replace('_', ' ')} so far",
            ["camera"],
            registry=registry,
        )
        for name in COUNTERS
    }
    for cid, h in healths.items():
        up.labels(cid).set(1 if h.state == "up" else 0)
        fps.labels(cid).set(h.fps)
        for name, gauge in gauges.items():
            gauge.labels(cid).set(getattr(h, name))
    return generate_latest(registry)


def serve_health(
    healths: dict[str, CameraHealth],
    port: int,
    host: str = "127.0.0.1",
    stages: Callable[[], dict[str, float]] | None = None,
) -> ThreadingHTTPServer:
    """/health (JSON: cameras, and the worker's CPU seconds per stage), /metrics (Prometheus)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

        def do_GET(self) -> None:
            if self.path == "/metrics":
                body, ctype = metrics_text(healths), CONTENT_TYPE_LATEST
            elif self.path == "/health":
                cams = [h.document() for h in healths.values()]
                payload = {
                    "cameras": cams,
                    "up": sum(c["state"] == "up" for c in cams),
                    "stage_cpu_s": dict(stages()) if stages else {},
                }
                body, ctype = json.dumps(payload, ensure_ascii=False).encode(), "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health-http", daemon=True).start()
    return server
