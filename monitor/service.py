"""`anpr people-monitor`: the people analytics service, one loop over the analytics cameras.

Per camera at its own rate: frame → persons → ByteTrack → zone rules. Each event is appended as
one JSON line to `<var>/people/events.jsonl` (fsync'd before it counts, like the plate journal)
with a JPEG snapshot, the zone drawn, under `<var>/people/snapshots/`; the live count and
density level of every camera go to `<var>/people/status.json` (replaced atomically) each round.
Storing the events in Elasticsearch and on the live board is the indexer's part (not yet done).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from anpr_core.settings import Settings
from monitor.analytics import CameraAnalytics, load_analytics
from monitor.cli import IMAGE_SUFFIXES, detector_from
from monitor.people.density import DensityCounter
from monitor.people.detector import PersonDetector
from monitor.rules import CameraRules, PeopleEvent
from monitor.tracking import PersonTracker

log = logging.getLogger(__name__)


def frames_of(camera: CameraAnalytics) -> Iterator[np.ndarray]:
    source = Path(camera.source or "")
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for path in files:
            image = cv2.imread(str(path))
            if image is not None:
                yield image
        return
    capture = cv2.VideoCapture(str(camera.source))
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                return
            yield image
    finally:
        capture.release()


class EventLog:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "snapshots").mkdir(parents=True, exist_ok=True, mode=0o700)
        self._file = open(root / "events.jsonl", "a", encoding="utf-8")  # noqa: SIM115 (kept open)

    def append(self, event: PeopleEvent, frame: np.ndarray, camera: CameraAnalytics) -> Path:
        name = f"{camera.id}-{event.zone}-{event.kind}-{int(event.at * 1000)}.jpg"
        snapshot = self.root / "snapshots" / name
        cv2.imwrite(str(snapshot), draw(frame, camera, event))
        record = {**event.as_json(), "snapshot": name}
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        return snapshot

    def write_status(self, status: dict) -> None:
        tmp = self.root / "status.json.tmp"
        tmp.write_text(json.dumps(status, ensure_ascii=False))
        tmp.replace(self.root / "status.json")


def draw(frame: np.ndarray, camera: CameraAnalytics, event: PeopleEvent) -> np.ndarray:
    image = frame.copy()
    for zone in camera.zone:
        colour = (0, 0, 255) if zone.name == event.zone else (0, 200, 255)
        cv2.polylines(image, [np.asarray(zone.polygon, np.int32)], True, colour, 2)
    if event.foot is not None:
        cv2.circle(image, tuple(int(v) for v in event.foot), 6, (0, 0, 255), -1)
    return image


class CameraAnalyticsLoop:
    def __init__(
        self,
        camera: CameraAnalytics,
        detector: PersonDetector,
        clock=time.time,
        density: DensityCounter | None = None,
    ) -> None:
        self.camera, self.detector, self.density = camera, detector, density
        self.tracker, self.rules = PersonTracker(camera.fps), CameraRules(camera)
        self.frames = frames_of(camera)
        self.clock = clock
        self.count = 0

    def step(self, log_: EventLog) -> list[PeopleEvent]:
        frame = next(self.frames, None)
        if frame is None:  # a replayed directory or file starts again; a stream reconnects
            self.frames = frames_of(self.camera)
            frame = next(self.frames, None)
            if frame is None:
                return []
        persons = self.detector.detect(frame)
        self.count = len(persons)
        zone_counts = None
        if self.density is not None and self.camera.crowd_counter == "density":
            polygons = {z.name: z.polygon for z in self.camera.zone if z.density_levels}
            zone_counts = self.density.zone_counts(frame, polygons)
        events = self.rules.update(self.clock(), self.tracker.update(persons), zone_counts)
        for event in events:
            log_.append(event, frame, self.camera)
        return events


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("people-monitor", help="people analytics on the analytics cameras")
    parser.add_argument("--rounds", type=int, default=None, help="stop after this many rounds (tests)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    config = load_analytics(settings.people.analytics_path)
    cameras = [c for c in config.camera if c.source]
    if not cameras:
        log.error("no analytics camera with a source in %s", settings.people.analytics_path)
        return 2
    detector = detector_from(settings)
    density = None
    if any(c.crowd_counter == "density" for c in cameras):
        density = DensityCounter(detector_from(settings), settings.people.model)
    loops = [CameraAnalyticsLoop(c, detector, density=density) for c in cameras]
    events = EventLog(settings.paths.var_dir / "people")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    due = {loop.camera.id: 0.0 for loop in loops}
    rounds = 0
    while not stopping and (args.rounds is None or rounds < args.rounds):
        for loop in loops:
            now = time.monotonic()
            if now < due[loop.camera.id]:
                continue
            due[loop.camera.id] = now + 1.0 / loop.camera.fps
            for event in loop.step(events):
                log.info("people event %s", event.as_json())
        events.write_status(
            {loop.camera.id: {"count": loop.count, "levels": loop.rules.levels()} for loop in loops}
        )
        rounds += 1
        time.sleep(max(0.0, min(due.values()) - time.monotonic()))
    return 0
