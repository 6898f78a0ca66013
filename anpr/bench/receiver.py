"""The alert benchmarks' receiving end: an HTTP endpoint standing in for the 112/119 centre's
webhook receiver, and the record of when each alert arrived (webhook and MQTT)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "bench-secret-0123456789"


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.webhook: dict[str, list[float]] = {}
        self.queued: dict[str, float] = {}
        self.mqtt: dict[str, list[float]] = {}

    def add(self, kind: dict[str, list[float]], key: str, at: float) -> None:
        with self.lock:
            kind.setdefault(key, []).append(at)


def start_receiver(
    arrivals: Arrivals, port: int, on_alert: Callable[[dict[str, Any]], None] | None = None
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            now = time.time()
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            key = self.headers["Idempotency-Key"]
            arrivals.add(arrivals.webhook, key, now)
            if on_alert is not None:
                on_alert(body["alert"])
            if body.get("queued_at"):
                arrivals.queued.setdefault(key, datetime.fromisoformat(body["queued_at"]).timestamp())
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
