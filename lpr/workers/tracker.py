"""A simple IoU tracker over plate boxes: one track per vehicle pass.

Plates move a few pixels between frames at ANPR frame rates (5–10 fps), so greedy IoU
matching is enough; a track ends when it has not been seen for `max_missed_s`, which is the
moment the vehicle has left and its read can be emitted.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from lpr.geometry import iou

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Observation:
    """One sighting of a plate in one frame: the tracker's and the voter's input."""

    at: datetime
    box: Box
    score: float
    text: str | None
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()
    crop: np.ndarray | None = None
    frame_jpeg: bytes | None = None  # the whole frame, small (lpr.workers.crops.frame_thumbnail)


@dataclass
class Track:
    key: str
    observations: list[Observation] = field(default_factory=list)
    misses: int = 0  # processed frames since the last sighting

    @property
    def first_seen(self) -> datetime:
        return self.observations[0].at

    @property
    def last_seen(self) -> datetime:
        return self.observations[-1].at

    @property
    def box(self) -> Box:
        return self.observations[-1].box


def _centre_close(a: Box, b: Box) -> bool:
    """Fallback when a fast vehicle's boxes no longer overlap: centres within one plate width."""
    width = max(a[2] - a[0], b[2] - b[0])
    dx = (a[0] + a[2] - b[0] - b[2]) / 2
    dy = (a[1] + a[3] - b[1] - b[3]) / 2
    return (dx * dx + dy * dy) ** 0.5 < width


# A camera sampled a few times a second sees a fast plate move further than its own width between
# sightings (a 12 fps H.264 feed under a detect-rate cap, or a busy worker): the track's motion
# predicts where it will be; a track seen once has no motion yet and gets a wider gate, for a
# short gap only (0.6 s: at 1 s the feeds benchmark lost recall 0.91 -> 0.83 and p95 0.7 -> 3.4 s,
# neighbouring passes merged; lane cameras rarely show two plates that close together).
PREDICTED_GATE_WIDTHS = 1.0
UNKNOWN_MOTION_GATE_WIDTHS = 2.5
UNKNOWN_MOTION_MAX_GAP_S = 0.6


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _follows_motion(track: Track, obs: Observation) -> bool:
    """The sighting is where the track's motion puts the plate now (or, for a track seen once
    moments ago, near enough)."""
    last = track.observations[-1]
    dt = (obs.at - last.at).total_seconds()
    if dt <= 0:
        return False
    width = max(last.box[2] - last.box[0], obs.box[2] - obs.box[0])
    (lx, ly), (ox, oy) = _centre(last.box), _centre(obs.box)
    first = track.observations[0]
    span = (last.at - first.at).total_seconds()
    if span > 0:
        fx, fy = _centre(first.box)
        px, py = lx + (lx - fx) / span * dt, ly + (ly - fy) / span * dt
        return ((ox - px) ** 2 + (oy - py) ** 2) ** 0.5 < PREDICTED_GATE_WIDTHS * width
    if dt > UNKNOWN_MOTION_MAX_GAP_S:
        return False
    return ((ox - lx) ** 2 + (oy - ly) ** 2) ** 0.5 < UNKNOWN_MOTION_GATE_WIDTHS * width


def readings_agree(a: str, b: str) -> bool:
    """Two readings of one plate: at most one character apart, aligned from the end (the use
    character and serial), so a regional plate read without its small top row (`12가3456` for
    `서울12가3456`) still agrees with a full reading. The shorter must keep 7 characters."""
    short, long = sorted((a, b), key=len)
    if len(short) < 7 and len(short) != len(long):
        return False
    return sum(x != y for x, y in zip(short, long[len(long) - len(short) :], strict=True)) <= 1


def _same_plate(track: Track, obs: Observation) -> bool:
    """The plate text is the vehicle's identity: when a busy worker samples a camera seldom, the
    box may have moved far, but the same (or one-character-off) reading in the same lane is the
    same vehicle."""
    last = next((o.text for o in reversed(track.observations) if o.text), None)
    if not last or not obs.text or not readings_agree(last, obs.text):
        return False
    a, b = track.box, obs.box
    overlap = min(a[2], b[2]) - max(a[0], b[0])
    return overlap > 0.5 * min(a[2] - a[0], b[2] - b[0])


# A plate with less than this share of its box still in the picture cannot be read or detected.
MIN_VISIBLE_SHARE = 0.6


def _left_frame(track: Track, now: datetime, frame_size: tuple[int, int]) -> bool:
    """Whether the plate, moving as it did over its track, is now (mostly) out of the picture.

    Then a processed frame without it means the vehicle has gone, not that the detector missed
    it once, and the read can be made without waiting out `max_missed_s`. A plate seen once has
    no motion to go by: it may just have entered at the edge, so it waits like any other (ended
    early, its one reading would be the pass's read and the better rest a suppressed repeat).
    """
    width, height = frame_size
    first, last = track.observations[0], track.observations[-1]
    span = (last.at - first.at).total_seconds()
    if span <= 0:
        return False
    dt = (now - last.at).total_seconds()
    vx = ((last.box[0] + last.box[2]) - (first.box[0] + first.box[2])) / 2 / span
    vy = ((last.box[1] + last.box[3]) - (first.box[1] + first.box[3])) / 2 / span
    dx, dy = vx * dt, vy * dt
    x1, y1, x2, y2 = last.box[0] + dx, last.box[1] + dy, last.box[2] + dx, last.box[3] + dy
    area = (x2 - x1) * (y2 - y1)
    inside = max(0.0, min(x2, width) - max(x1, 0.0)) * max(0.0, min(y2, height) - max(y1, 0.0))
    return area > 0 and inside < MIN_VISIBLE_SHARE * area


class IouTracker:
    def __init__(
        self, min_iou: float = 0.2, max_missed_s: float = 0.6, min_misses: int = 2, stale_s: float = 5.0
    ) -> None:
        # A track ends after `min_misses` processed frames without it spanning `max_missed_s`:
        # under load a camera is sampled seldom, and wall time alone would split one pass in two.
        # `stale_s` ends tracks of a camera that stopped sending frames at all.
        self.min_iou, self.max_missed_s = min_iou, max_missed_s
        self.min_misses, self.stale_s = min_misses, stale_s
        self.active: list[Track] = []
        self.frame_size: tuple[int, int] | None = None
        self._ids = itertools.count(1)

    def update(
        self, at: datetime, observations: list[Observation], frame_size: tuple[int, int] | None = None
    ) -> list[Track]:
        """Add one frame's sightings; return the tracks that have ended (vehicle gone).
        `frame_size` (width, height) lets a track that has driven out of the picture end at once."""
        if frame_size is not None:
            self.frame_size = frame_size
        pairs = sorted(
            (
                (iou(t.box, o.box), ti, oi)
                for ti, t in enumerate(self.active)
                for oi, o in enumerate(observations)
            ),
            reverse=True,
        )
        used_t: set[int] = set()
        used_o: set[int] = set()
        for overlap, ti, oi in pairs:
            if ti in used_t or oi in used_o:
                continue
            track, obs = self.active[ti], observations[oi]
            if (
                overlap >= self.min_iou
                or _centre_close(track.box, obs.box)
                or _same_plate(track, obs)
                or _follows_motion(track, obs)
            ):
                self.active[ti].observations.append(observations[oi])
                self.active[ti].misses = 0
                used_t.add(ti)
                used_o.add(oi)
        for ti, track in enumerate(self.active):
            if ti not in used_t:
                track.misses += 1
        for oi, obs in enumerate(observations):
            if oi not in used_o:
                self.active.append(Track(key=f"t{next(self._ids)}", observations=[obs]))
        return self.expire(at)

    def expire(self, now: datetime) -> list[Track]:
        ended = [t for t in self.active if self._ended(t, now)]
        self.active = [t for t in self.active if t not in ended]
        return ended

    def _ended(self, track: Track, now: datetime) -> bool:
        gone_s = (now - track.last_seen).total_seconds()
        if gone_s > self.stale_s or (track.misses >= self.min_misses and gone_s > self.max_missed_s):
            return True
        # Missed in a processed frame where its motion puts it outside the picture: it has left.
        return track.misses >= 1 and self.frame_size is not None and _left_frame(track, now, self.frame_size)

    def flush(self) -> list[Track]:
        ended, self.active = self.active, []
        return ended
