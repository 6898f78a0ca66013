"""`anpr people-monitor`: the people analytics service, one loop over the analytics cameras.

Per camera at its own rate: frame → persons → ByteTrack → zone rules. Each event's snapshot (the
frame, zones drawn) is written and fsync'd under `<paths.people>/snapshots/`, then the event is
appended to the people journal `<paths.people>/events/` (`anpr_core.journal`: fsync'd before it
counts, like the plate reads) with an id made from what it is (`anpr_core.people_events`); the
indexer ships it to Elasticsearch, the live board and the alert outbox (indexer/people_events.py).
The live count, density levels and zone outlines of every camera go to
`<paths.people>/status.json` (replaced atomically) each round.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import cv2
import numpy as np
from prometheus_client import Counter, Gauge, Histogram, start_http_server
from pydantic import ValidationError

from anpr_core.journal import ReadJournal, private_directory
from anpr_core.people_events import (
    STATUS_FILE,
    PeopleEventRecord,
    events_dir,
    people_event_id,
    snapshots_dir,
)
from anpr_core.settings import Settings
from monitor.analytics import CameraAnalytics, density_head_path, load_analytics
from monitor.cli import IMAGE_SUFFIXES, detector_from
from monitor.people.density import DensityCounter
from monitor.people.detector import PersonDetector
from monitor.people.types import Person
from monitor.rules import CameraRules, PeopleEvent
from monitor.tracking import PersonTracker

log = logging.getLogger(__name__)

FRAMES = Counter("anpr_people_frames_total", "frames analysed", ["camera"])
EVENTS = Counter("anpr_people_events_total", "people events written to the journal", ["camera", "kind"])
PEOPLE = Gauge("anpr_people_count", "people in the camera's last analysed frame", ["camera"])
FRAME_SECONDS = Histogram(
    "anpr_people_frame_seconds", "one frame: detection, tracking, rules and event writes",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2),
)  # fmt: skip


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


_SNAPSHOT_NAME = re.compile(rb'"snapshot": ?"(pe-[0-9a-f]{20}\.jpg)"')


class EventLog:
    """The monitor's side of the people journal: snapshot first, then the record, both fsync'd."""

    def __init__(self, root: Path) -> None:
        self.root = root
        private_directory(root)
        self.snapshots = snapshots_dir(root)
        private_directory(self.snapshots)
        self.journal = ReadJournal(events_dir(root))
        if removed := self.sweep_orphans():
            log.info("removed %d snapshots no people event names", removed)

    def sweep_orphans(self) -> int:
        """At start: delete snapshots no record in the journal names (the monitor died between a
        snapshot and its record, or the indexer between its commit and the delete). Records the
        indexer has not shipped are all in the journal's segments, so theirs are kept."""
        named: set[str] = set()
        for segment in events_dir(self.root).glob("seg-*.jsonl"):
            named |= {m.decode() for m in _SNAPSHOT_NAME.findall(segment.read_bytes())}
        removed = 0
        for path in self.snapshots.glob("*.jpg"):
            if path.name not in named:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def append(self, event: PeopleEvent, frame: np.ndarray, camera: CameraAnalytics) -> Path:
        event_id = people_event_id(
            event.camera_id, event.zone, event.kind, event.at, event.track_id, event.level
        )
        snapshot = self.snapshots / f"{event_id}.jpg"
        ok, jpeg = cv2.imencode(".jpg", draw(frame, camera, event), [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not ok:
            raise RuntimeError(f"snapshot of {event_id} could not be encoded")
        # The record must never name a snapshot that a crash left unwritten.
        fd = os.open(snapshot, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(jpeg.tobytes())
            f.flush()
            os.fsync(f.fileno())
        record = PeopleEventRecord(event_id=event_id, snapshot=snapshot.name, **event.as_json())
        self.journal.append(record)
        return snapshot

    def write_status(self, status: dict) -> None:
        tmp = self.root / f"{STATUS_FILE}.tmp"
        tmp.write_text(json.dumps(status, ensure_ascii=False))
        tmp.replace(self.root / STATUS_FILE)

    def close(self) -> None:
        self.journal.close()


def draw(frame: np.ndarray, camera: CameraAnalytics, event: PeopleEvent) -> np.ndarray:
    image = frame.copy()
    for zone in camera.zone:
        colour = (0, 0, 255) if zone.name == event.zone else (0, 200, 255)
        cv2.polylines(image, [np.asarray(zone.polygon, np.int32)], True, colour, 2)
    if event.foot is not None:
        cv2.circle(image, tuple(int(v) for v in event.foot), 6, (0, 0, 255), -1)
    return image


# A feed that knows its persons (simulated walkers): frame and persons, no detector needed.
Feed = Callable[[CameraAnalytics], Iterator[tuple[np.ndarray, list[Person]]]]


class CameraAnalyticsLoop:
    def __init__(
        self,
        camera: CameraAnalytics,
        detector: PersonDetector,
        clock=time.time,
        density: DensityCounter | None = None,
        feed: Feed | None = None,
    ) -> None:
        self.camera, self.detector, self.density = camera, detector, density
        self.tracker, self.rules = PersonTracker(camera.fps), CameraRules(camera)
        self.feed = feed
        self.frames = self._open()
        self.clock = clock
        self.count = 0
        self.zone_counts: dict[str, float] | None = None  # density zones, from the density head
        self.frame_size: tuple[int, int] | None = None

    def _open(self) -> Iterator[tuple[np.ndarray, list[Person] | None]]:
        if self.feed is not None:
            return iter(self.feed(self.camera))
        return ((frame, None) for frame in frames_of(self.camera))

    def step(self, log_: EventLog) -> list[PeopleEvent]:
        item = next(self.frames, None)
        if item is None:  # a replayed directory or file starts again; a stream reconnects
            self.frames = self._open()
            item = next(self.frames, None)
            if item is None:
                return []
        frame, known = item
        self.frame_size = (int(frame.shape[1]), int(frame.shape[0]))
        persons = known if known is not None else self.detector.detect(frame)
        self.count = len(persons)
        zone_counts = None
        if self.density is not None and self.camera.crowd_counter == "density":
            polygons = {z.name: z.polygon for z in self.camera.zone if z.density_levels}
            zone_counts = self.density.zone_counts(frame, polygons)
        self.zone_counts = zone_counts
        events = self.rules.update(self.clock(), self.tracker.update(persons), zone_counts)
        for event in events:
            log_.append(event, frame, self.camera)
        return events


def camera_status(loop: CameraAnalyticsLoop, now: float) -> dict:
    """What the page shows live: aggregated counts and levels, and the zone outlines (no images);
    the people in each density zone where the camera's density head counts them."""
    status = {
        "count": loop.count,
        "levels": loop.rules.levels(),
        "at": now,
        "frame": list(loop.frame_size) if loop.frame_size else None,
        "zones": [
            {"name": z.name, "polygon": [list(p) for p in z.polygon],
             "rules": [r for r, on in (("intrusion", bool(z.closed)), ("loitering", bool(z.loiter_s)),
                                       ("density", bool(z.density_levels))) if on]}
            for z in loop.camera.zone
        ],
    }  # fmt: skip
    if loop.zone_counts is not None:
        status["zone_counts"] = {name: round(n, 1) for name, n in loop.zone_counts.items()}
    return status


def density_counters(cameras: list[CameraAnalytics], settings: Settings) -> dict[str, DensityCounter]:
    """Each density-counted camera's head (`density_head`, read at its own input size), one
    counter per head file shared by the cameras naming it, all on one detector of their own."""
    wanted = [c for c in cameras if c.crowd_counter == "density"]
    if not wanted:
        return {}
    detector = detector_from(settings)
    by_file: dict[Path, DensityCounter] = {}
    for camera in wanted:
        path = density_head_path(camera.density_head, settings.people.model)
        if path not in by_file:
            by_file[path] = DensityCounter(detector, path.parent, path.name)
    return {c.id: by_file[density_head_path(c.density_head, settings.people.model)] for c in wanted}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("people-monitor", help="people analytics on the analytics cameras")
    parser.add_argument("--rounds", type=int, default=None, help="stop after this many rounds (tests)")
    parser.add_argument("--metrics-port", type=int, default=9320, help="Prometheus /metrics (0 = off)")


def run(args: argparse.Namespace, settings: Settings, feeds: Mapping[str, Feed] | None = None) -> int:
    """`feeds`: sources the monitor cannot open itself, by the camera's `source` (the demo's
    simulated walkers, given by the `anpr` layer)."""
    feeds = feeds or {}
    try:
        config = load_analytics(settings.people.analytics_path, settings.people.model)
    except ValidationError as exc:  # names the camera and field (e.g. camera.0.density_head)
        log.error("bad analytics file %s: %s", settings.people.analytics_path, exc)
        return 2
    cameras = [c for c in config.camera if c.source]
    if not cameras:
        log.error("no analytics camera with a source in %s", settings.people.analytics_path)
        return 2
    detector = detector_from(settings)
    heads = density_counters(cameras, settings)
    loops = [
        CameraAnalyticsLoop(c, detector, density=heads.get(c.id), feed=feeds.get(c.source or ""))
        for c in cameras
    ]
    events = EventLog(settings.paths.people)
    metrics_port = getattr(args, "metrics_port", 0)
    if metrics_port:
        try:
            start_http_server(metrics_port, addr="127.0.0.1")
        except OSError as exc:  # a second monitor on the host: analytics matter more than metrics
            log.warning("no /metrics on port %d: %s", metrics_port, exc)
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
            with FRAME_SECONDS.time():
                written = loop.step(events)
            FRAMES.labels(loop.camera.id).inc()
            PEOPLE.labels(loop.camera.id).set(loop.count)
            for event in written:
                EVENTS.labels(loop.camera.id, event.kind).inc()
                log.info("people event %s", event.as_json())
        events.write_status({loop.camera.id: camera_status(loop, time.time()) for loop in loops})
        rounds += 1
        time.sleep(max(0.0, min(due.values()) - time.monotonic()))
    events.close()
    return 0
