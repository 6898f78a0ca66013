"""Plates that do not move: a parked car in view of a lane camera (or a plate-like patch of the
scene). Read once, then left alone.

Without this, a parked plate is found again whenever motion wakes the camera's detector: each
time a new track and a new read of a vehicle that passed nobody (the feeds benchmark's C03 read a
parked plate as `47누5441`, `47수1441`, `47아1741`… every 30 s, and counted each against the pass
driving by), and while its track lives the detector runs on that camera at every frame. Frigate
treats stationary objects the same way: noticed once, not processed again while they stay.

A track is parked when, over at least `PARKED_MIN_S`, its plate's centre moved less than
`PARKED_MAX_SHIFT` of the plate's width: a passing vehicle crosses the picture in 1.6-3 s, and a
car waiting at a light moves off later (then its track follows it and is no longer parked). Its
box becomes a spot; later sightings on a spot (IoU >= `SPOT_IOU`) are not tracked and not read.
A spot is forgotten when the detector has looked at the camera `FORGET_FRAMES` times over at
least `FORGET_S` without seeing the plate there: the car has left (a vehicle passing in front of
it hides it for less).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lpr.geometry import iou
from lpr.workers.tracker import Box, Observation, Track

PARKED_MIN_S = 2.0
PARKED_MAX_SHIFT = 0.2
SPOT_IOU = 0.5
FORGET_FRAMES = 8
FORGET_S = 5.0


def is_parked(track: Track) -> bool:
    first, last = track.observations[0], track.observations[-1]
    if (last.at - first.at).total_seconds() < PARKED_MIN_S:
        return False
    width = max(first.box[2] - first.box[0], last.box[2] - last.box[0])
    dx = (last.box[0] + last.box[2] - first.box[0] - first.box[2]) / 2
    dy = (last.box[1] + last.box[3] - first.box[1] - first.box[3]) / 2
    return (dx * dx + dy * dy) ** 0.5 < PARKED_MAX_SHIFT * width


class _Seen(Protocol):
    last_seen: datetime


@dataclass
class Spot:
    box: Box
    last_seen: datetime
    misses: int = 0  # detector frames since the plate was last seen here
    read: _Seen | None = None  # the worker's recent read of this plate, kept recent while seen


class ParkedSpots:
    """One camera's parked plates."""

    def __init__(self) -> None:
        self.spots: list[Spot] = []

    def add(self, track: Track) -> Spot:
        spot = Spot(track.box, track.last_seen)
        self.spots.append(spot)
        return spot

    def screen(self, at: datetime, observations: list[Observation]) -> list[Observation]:
        """One detector frame's sightings less those on a parked plate's spot; spots not seen in
        this frame count a miss, and those long unseen are forgotten."""
        if not self.spots:
            return observations
        kept, seen = [], set()
        for obs in observations:
            spot = next((s for s in self.spots if iou(s.box, obs.box) >= SPOT_IOU), None)
            if spot is None:
                kept.append(obs)
                continue
            spot.last_seen, spot.misses = at, 0
            if spot.read is not None:
                spot.read.last_seen = max(spot.read.last_seen, at)
            seen.add(id(spot))
        for spot in self.spots:
            if id(spot) not in seen:
                spot.misses += 1
        self.spots = [
            s for s in self.spots if s.misses < FORGET_FRAMES or (at - s.last_seen).total_seconds() < FORGET_S
        ]
        return kept
