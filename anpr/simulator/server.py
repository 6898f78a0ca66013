"""Serve simulated cameras over HTTP MJPEG on 127.0.0.1: GET /cam/<id>.mjpg.

One producer thread draws and encodes every camera's frame once per tick, whatever the number
of viewers; an idle camera re-sends its cached background JPEG. Ground truth is appended
(JSONL) for every pass once it has left the frame; a journey's passes carry its id and leg.
Journeys can be booked while the feeds run (`FeedHub.add_journey`).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2

from anpr.simulator.journeys import JourneySpec, RoadTraffic, schedule_journey
from anpr.simulator.scene import CameraScene, Pass

log = logging.getLogger(__name__)
BOUNDARY = "anprframe"


class FeedHub:
    """Latest JPEG per camera; viewers wait on one condition for the next tick."""

    def __init__(
        self,
        scenes: dict[str, CameraScene],
        fps: float,
        truth_path: Path | None,
        road_traffic: RoadTraffic | None = None,
        seed: int = 1,
    ) -> None:
        self.scenes, self.fps, self.truth_path = scenes, fps, truth_path
        self.road_traffic = road_traffic
        self.frames: dict[str, bytes] = {}
        self.tick = 0
        self.cond = threading.Condition()
        self.stop = threading.Event()
        self._idle_jpeg: dict[str, bytes] = {}
        self._pending: list[Pass] = []
        self.passes_written = 0
        # Scheduling and drawing happen under one lock, so journeys can be booked at any time.
        self._lock = threading.Lock()
        self._journey_rng = random.Random(f"journeys:{seed}")
        self.journeys: list[tuple[str, JourneySpec, list[Pass]]] = []

    def add_journey(
        self, spec: JourneySpec, start: datetime, travel_s: Sequence[float], journey_id: str | None = None
    ) -> list[Pass]:
        """Book a vehicle driving `spec`'s cameras in order, at the first one at `start`.

        Raises `JourneyError` if a camera is unknown or busy then (nothing is booked).
        """
        with self._lock:
            journey_id = journey_id or f"J{len(self.journeys) + 1:04d}"
            passes = schedule_journey(self.scenes, spec, start, list(travel_s), journey_id, self._journey_rng)
            self.journeys.append((journey_id, spec, passes))
        log.info(
            "journey %s: %s via %s from %s", journey_id, spec.plate, ",".join(spec.cameras), start.isoformat()
        )
        return passes

    def _encode(self, camera_id: str, now: datetime) -> bytes:
        scene = self.scenes[camera_id]
        if not scene.active(now) and not scene.conditions.rain:
            if camera_id not in self._idle_jpeg:
                self._idle_jpeg[camera_id] = _jpeg(scene.frame_at(now))
            return self._idle_jpeg[camera_id]
        return _jpeg(scene.frame_at(now))

    def step(self, now: datetime) -> None:
        frames = {}
        with self._lock:
            if self.road_traffic is not None:
                self.road_traffic.schedule_until(self.scenes, now)
            for camera_id, scene in self.scenes.items():
                self._pending += scene.passes_until(now)
                frames[camera_id] = self._encode(camera_id, now)
        with self.cond:
            self.frames = frames
            self.tick += 1
            self.cond.notify_all()
        self._write_truth(now)

    def _write_truth(self, now: datetime) -> None:
        done = [p for p in self._pending if p.leave <= now]
        if not done or self.truth_path is None:
            return
        self._pending = [p for p in self._pending if p.leave > now]
        with open(self.truth_path, "a", encoding="utf-8") as f:
            for p in done:
                f.write(json.dumps(p.truth(), ensure_ascii=False) + "\n")
        self.passes_written += len(done)

    def run(self) -> None:
        period = 1.0 / self.fps
        next_at = time.monotonic()
        while not self.stop.is_set():
            self.step(datetime.now(UTC))
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
            else:
                next_at = time.monotonic()  # behind: skip ticks rather than burst

    def wait_frame(self, camera_id: str, last_tick: int, timeout: float = 5.0) -> tuple[int, bytes | None]:
        with self.cond:
            self.cond.wait_for(lambda: self.tick != last_tick or self.stop.is_set(), timeout)
            return self.tick, self.frames.get(camera_id)


def _jpeg(frame: object) -> bytes:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return data.tobytes()


def make_handler(hub: FeedHub) -> type[BaseHTTPRequestHandler]:
    class MjpegHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

        def do_GET(self) -> None:
            camera_id = self.path.removeprefix("/cam/").removesuffix(".mjpg")
            if not self.path.startswith("/cam/") or camera_id not in hub.scenes:
                self.send_error(404, "no such camera")
                return
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            tick = -1
            try:
                while not hub.stop.is_set():
                    tick, jpeg = hub.wait_frame(camera_id, tick)
                    if jpeg is None:
                        continue
                    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                    self.wfile.write(head.encode() + jpeg + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the viewer went away

    return MjpegHandler


class SimulatorServer:
    def __init__(self, hub: FeedHub, host: str = "127.0.0.1", port: int = 8554) -> None:
        self.hub = hub
        self.httpd = ThreadingHTTPServer((host, port), make_handler(hub))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._threads = [
            threading.Thread(target=hub.run, name="sim-producer", daemon=True),
            threading.Thread(target=self.httpd.serve_forever, name="sim-http", daemon=True),
        ]

    def url(self, camera_id: str) -> str:
        return f"http://127.0.0.1:{self.port}/cam/{camera_id}.mjpg"

    def start(self) -> SimulatorServer:
        for t in self._threads:
            t.start()
        return self

    def close(self) -> None:
        self.hub.stop.set()
        with self.hub.cond:
            self.hub.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()
