"""The worker loop: frames from many cameras → motion gate → one batched detector+recogniser
call → per-camera tracker → vote when the vehicle leaves → crop, then journal (durable).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from anpr_core.cameras import Camera
from anpr_core.reads import GeoPoint, PlateAlternative, PlateRead, make_read_id
from lpr.workers.crops import frame_thumbnail, store_crop, store_frame
from lpr.workers.feeds import FeedReader, Frame, as_image
from lpr.workers.health import CameraHealth
from lpr.workers.motion import MotionGate
from lpr.workers.parked import ParkedSpots, is_parked
from lpr.workers.tracker import IouTracker, Observation, Track, readings_agree
from lpr.workers.voter import vote

log = logging.getLogger(__name__)


class FramePlateLike(Protocol):
    box: tuple[float, float, float, float]
    score: float
    text: str | None
    confidence: float | None
    alternatives: tuple[tuple[str, float], ...]
    crop: np.ndarray


class BatchPlateReader(Protocol):
    """`lpr.pipeline.PlateReader`: detector and recogniser, batched across cameras."""

    def read_frames(self, frames: Sequence[np.ndarray]) -> Sequence[Sequence[FramePlateLike]]: ...


class _TimedDetector:
    """The reader's detector, its CPU time counted: `read_frames` runs detection and reading in
    one call, and the benchmark wants the two apart."""

    def __init__(self, detector: object, stages: Counter[str]) -> None:
        self.detector, self.stages = detector, stages

    def detect(self, frames: Sequence[np.ndarray]) -> object:
        start = time.thread_time()
        try:
            return self.detector.detect(frames)  # type: ignore[attr-defined]
        finally:
            self.stages["detect"] += time.thread_time() - start

    def __getattr__(self, name: str) -> object:
        return getattr(self.detector, name)


class Journal(Protocol):
    def append_many(self, records: list[PlateRead]) -> None: ...


@dataclass
class _RecentRead:
    plate: str
    plates: frozenset[str]  # the plate and its alternatives
    last_seen: datetime
    last_box: tuple[float, float, float, float] | None = None


# A track that starts within this long after a read's last sighting, in the same lane (centres
# within 1.5 plate widths across), is the rest of that vehicle whatever it reads: at a few
# detector frames a second a misread sighting can break a track, and the two halves' readings
# need not agree. A following vehicle is in view before the one ahead leaves (tracks overlap),
# so it is never taken for a fragment; a vehicle in the next lane is further across.
FRAGMENT_GAP_S = 0.8
FRAGMENT_LANE_WIDTHS = 1.5
# A track of one sighting is held to a longer gap: at 4 detector frames a second the plate of a
# vehicle that is leaving shows once more, cut or blurred, 0.8-0.9 s after its track ended (the
# feeds benchmark's 35무4844 after 35로6866, 44저4954 after 46하4954). A vehicle that follows in
# the lane is seen in several frames, so it is never one sighting.
LONE_SIGHTING_GAP_S = 1.5


def _same_lane(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    width = max(a[2] - a[0], b[2] - b[0])
    return abs((a[0] + a[2]) - (b[0] + b[2])) / 2 <= FRAGMENT_LANE_WIDTHS * width


@dataclass
class _CameraState:
    camera: Camera
    health: CameraHealth
    gate: MotionGate
    tracker: IouTracker
    recent: deque[_RecentRead] = field(default_factory=lambda: deque(maxlen=64))
    parked: ParkedSpots = field(default_factory=ParkedSpots)
    waiting_since: int = 0  # the round in which the detector last ran on this camera
    detected_at: datetime | None = None  # capture time of the last frame the detector saw


def _is_repeat(state: _CameraState, plate: str, alternatives: frozenset[str], first_seen: datetime,
               last_seen: datetime, window_s: float,
               first_box: tuple[float, float, float, float] | None = None,
               sightings: int = 2) -> bool:  # fmt: skip
    """The same vehicle read again at the same camera moments later: a track that broke up
    (occlusion, a missed detection) or a car waiting at a light. No car passes one camera twice
    within the window, so the later read is a repeat, not a second pass (the usual "duplicate
    read suppression" of ANPR products)."""
    for recent in state.recent:
        gap = (first_seen - recent.last_seen).total_seconds()
        if gap > window_s:
            continue
        if (
            0 <= gap <= (LONE_SIGHTING_GAP_S if sightings == 1 else FRAGMENT_GAP_S)
            and recent.last_box
            and first_box
            and _same_lane(recent.last_box, first_box)
        ):
            recent.last_seen, recent.last_box = max(recent.last_seen, last_seen), None
            return True  # the rest of a broken track (see FRAGMENT_GAP_S)
        same = plate in recent.plates or recent.plate in alternatives
        if same or readings_agree(plate, recent.plate):
            recent.last_seen = max(recent.last_seen, last_seen)  # still there: keep suppressing
            return True
    return False


def _cut_by_edge(box: tuple[float, float, float, float], size: tuple[int, int]) -> bool:
    """A plate box that reaches the picture's edge (the detector clips boxes to the frame) may
    be cut off: entering or leaving. Its reading is unreliable (`부산19부1525` for the last third
    of 부산19배4535), so it keeps the track going but does not vote; a track of such sightings
    only (the tail of a vehicle whose track has just ended) makes no read."""
    x1, y1, x2, y2 = box
    return x1 <= 1 or y1 <= 1 or x2 >= size[0] - 1 or y2 >= size[1] - 1


class PlateWorker:
    def __init__(
        self,
        cameras: Sequence[Camera],
        reader: BatchPlateReader,
        journal: Journal,
        crop_root: Path,
        worker_name: str = "worker-1",
        max_missed_s: float = 0.4,
        healths: dict[str, CameraHealth] | None = None,
        repeat_window_s: float = 10.0,
        max_batch: int = 16,
        detect_fps: float | None = None,
    ) -> None:
        healths = healths or {}
        self.states = {
            c.id: _CameraState(
                c,
                healths.get(c.id) or CameraHealth(c.id),
                MotionGate(),
                IouTracker(max_missed_s=max_missed_s),
            )
            for c in cameras
        }
        self.reader, self.journal, self.crop_root, self.worker_name = reader, journal, crop_root, worker_name
        self.emit_latency_s: list[float] = []
        self.repeat_window_s = repeat_window_s
        self.max_batch = max_batch  # frames per detector call
        # At most this many detector frames per camera per second (None: every frame it gets).
        # A 12–25 fps H.264 camera shows a plate for dozens of frames; a few a second are enough
        # to track and vote, and the detector would otherwise cost more than the decoding.
        self.min_detect_gap_s = 1.0 / detect_fps if detect_fps else 0.0
        self._rounds = itertools.count(1)
        # CPU seconds of this thread per stage: gate, convert (YUV/JPEG → BGR), detect, read
        # (recogniser, crops, voting), journal. Decoding is counted per camera by its feed thread.
        self.stage_cpu_s: Counter[str] = Counter()
        detector = getattr(reader, "detector", None)
        if detector is not None and not isinstance(detector, _TimedDetector):
            reader.detector = _TimedDetector(detector, self.stage_cpu_s)  # type: ignore[attr-defined]

    def process(
        self, batch: Sequence[tuple[str, datetime, Frame]], max_new: int | None = None
    ) -> list[PlateRead]:
        """One round of (camera id, capture time, frame); returns the reads made durable.

        Cameras with a vehicle in view go first and always run, so a departure is seen at once
        and reads are not late. Of the cameras where motion has just started, at most `max_new`
        run this round, longest waiting first; the others' frames are deferred (counted) — their
        next frame is a fraction of a second away and the vehicle stays in view for seconds.
        """
        tracked, moving = [], []
        stages = self.stage_cpu_s
        for item in batch:
            state = self.states[item[0]]
            last = state.detected_at
            if last is not None and (item[1] - last).total_seconds() < self.min_detect_gap_s:
                continue  # detect-rate cap: this camera's next frame will do
            if state.tracker.active:
                tracked.append(item)
                continue
            start = time.thread_time()
            is_moving = state.gate.moving(item[2])
            spent = time.thread_time() - start
            state.health.gate_cpu_s += spent
            stages["gate"] += spent
            if is_moving:
                moving.append(item)
        if max_new is not None and len(moving) > max_new:
            # Longest waiting first: a camera deferred this round is ahead of any that ran, so
            # in a burst of new motion none waits more than a round or two (a rotating start
            # could pass over the same camera for the whole of its vehicle's 2–3 s in view).
            moving.sort(key=lambda item: self.states[item[0]].waiting_since)
            for camera_id, _, _ in moving[max_new:]:
                self.states[camera_id].health.deferred_frames += 1
            moving = moving[:max_new]
        round_no = next(self._rounds)
        wanted = []
        start = time.thread_time()
        for camera_id, at, frame in tracked + moving:
            self.states[camera_id].waiting_since = round_no
            self.states[camera_id].detected_at = at
            image = as_image(frame)  # JPEG frames are decoded only here, when they are looked at
            if image is None:
                self.states[camera_id].health.bad_frames += 1
                continue
            wanted.append((camera_id, at, image))
        stages["convert"] += time.thread_time() - start
        results: list[Sequence[FramePlateLike]] = []
        start, detect_before = time.thread_time(), stages["detect"]
        for first in range(0, len(wanted), self.max_batch):
            results += self.reader.read_frames([f for _, _, f in wanted[first : first + self.max_batch]])
        # Reading: the reader's call less its detector's share (recogniser, crops, plate colour).
        stages["read"] += time.thread_time() - start - (stages["detect"] - detect_before)
        stages["detect_frames"] += len(wanted)
        ended: list[tuple[_CameraState, Track]] = []
        for (camera_id, at, frame), plates in zip(wanted, results, strict=True):
            state = self.states[camera_id]
            state.health.processed_frames += 1
            size = (frame.shape[1], frame.shape[0])
            readable = [not _cut_by_edge(p.box, size) for p in plates]
            # One small JPEG of the frame, shared by its plates: the best one's is kept with the read.
            scene = frame_thumbnail(frame) if any(readable) else None
            observations = [
                Observation(
                    at, tuple(p.box), p.score, p.text, p.confidence or 0.0, p.alternatives, p.crop, scene
                )
                if ok
                else Observation(at, tuple(p.box), p.score, None, 0.0)  # tracked, but not read
                for p, ok in zip(plates, readable, strict=True)
            ]
            moving_plates = state.parked.screen(at, observations)
            state.health.parked_sightings += len(observations) - len(moving_plates)
            ended += [(state, t) for t in state.tracker.update(at, moving_plates, size)]
            # A plate that has stood still for PARKED_MIN_S is a parked car: read it now, once,
            # rather than keep its track (and the detector on this camera) alive while it stays.
            for track in [t for t in state.tracker.active if is_parked(t)]:
                state.tracker.active.remove(track)
                ended.append((state, track))
        return self._emit(ended)

    def tick(self, now: datetime | None = None) -> list[PlateRead]:
        """End tracks of cameras that sent no frame lately (stalled feed or gated idle frames)."""
        now = now or datetime.now(UTC)
        return self._emit([(s, t) for s in self.states.values() for t in s.tracker.expire(now)])

    def flush(self) -> list[PlateRead]:
        return self._emit([(s, t) for s in self.states.values() for t in s.tracker.flush()])

    def _emit(self, ended: list[tuple[_CameraState, Track]]) -> list[PlateRead]:
        reads: list[PlateRead] = []
        for state, track in ended:
            # A parked plate's later sightings are screened out (lpr/workers/parked.py); its read,
            # if it makes one, stays "recent" while it is seen there, so a car that waited at a
            # light and drives off is not read a second time.
            place, read_there = state.parked.settle(track)
            if read_there:  # a plate standing where it was read, its track broken up
                state.health.parked_sightings += len(track.observations)
                continue
            try:
                result = vote(track)
            except Exception:  # a bug in one track's vote must not stop 45 cameras
                state.health.errors += 1
                log.exception("vote failed", extra={"camera_id": state.camera.id, "track": track.key})
                continue
            if result is None:
                continue
            alternatives = frozenset(p for p, _ in result.alternatives)
            if _is_repeat(state, result.plate, alternatives, track.first_seen, track.last_seen,
                          self.repeat_window_s, track.observations[0].box,
                          len(track.observations)):  # fmt: skip
                state.health.repeats_suppressed += 1
                continue
            recent = _RecentRead(result.plate, alternatives | {result.plate}, track.last_seen, track.box)
            state.recent.append(recent)
            if place is not None:
                place.read = recent
            camera = state.camera
            read_id = make_read_id(camera.id, track.first_seen, track.key)
            crop_ref = frame_ref = None
            if result.best.crop is not None and result.best.crop.size:
                crop_ref = store_crop(self.crop_root, read_id, result.best.at, result.best.crop)
            if result.best.frame_jpeg:
                frame_ref = store_frame(self.crop_root, read_id, result.best.at, result.best.frame_jpeg)
            reads.append(
                PlateRead(
                    read_id=read_id,
                    plate=result.plate,
                    confidence=result.confidence,
                    alternatives=tuple(
                        PlateAlternative(plate=p, confidence=c) for p, c in result.alternatives
                    ),
                    camera_id=camera.id,
                    first_seen=track.first_seen,
                    last_seen=track.last_seen,
                    best_seen=result.best.at,
                    direction=camera.direction,
                    box=result.best.box,
                    crop_ref=crop_ref,
                    frame_ref=frame_ref,
                    location=GeoPoint(lat=camera.lat, lon=camera.lon),
                    frames=len(track.observations),
                    worker=self.worker_name,
                )
            )
        if reads:
            start = time.thread_time()
            self.journal.append_many(reads)  # returns only when durable: now the reads are accepted
            self.stage_cpu_s["journal"] += time.thread_time() - start
            now = datetime.now(UTC)
            for read in reads:
                state = self.states[read.camera_id]
                state.health.reads += 1
                state.health.last_read_at = now
                self.emit_latency_s.append((now - read.last_seen).total_seconds())
        return reads


def run_loop(
    worker: PlateWorker,
    feeds: dict[str, FeedReader],
    stop: threading.Event,
    max_new: int = 8,
    idle_sleep_s: float = 0.01,
) -> None:
    """Rounds over the feed readers: the newest buffered frame of every camera, one
    `process` call per round (cameras with a vehicle in view first)."""
    while not stop.is_set():
        batch: list[tuple[str, datetime, Frame]] = []
        for camera_id, feed in feeds.items():
            item = feed.take_latest()
            if item is not None:
                batch.append((camera_id, item[0], item[1]))
        if batch:
            _process_safely(worker, batch, max_new)
        worker.tick()
        if not batch:
            time.sleep(idle_sleep_s)


def _process_safely(worker: PlateWorker, batch: list[tuple[str, datetime, Frame]], max_new: int) -> None:
    """A failing batch is logged and counted against its cameras; the loop goes on."""
    try:
        worker.process(batch, max_new)
    except Exception:
        log.exception("batch failed", extra={"cameras": [c for c, _, _ in batch]})
        for camera_id, _, _ in batch:
            worker.states[camera_id].health.errors += 1
