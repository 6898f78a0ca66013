"""Plates that do not move: a parked car in view of a lane camera (or a plate-like patch of the
scene). Read once, then left alone.

Without this, a parked plate is found again whenever motion wakes the camera's detector: each
time a new track and a new read of a vehicle that passed nobody (the feeds benchmark's C03 read a
plate-like patch as `47누5441`, `47수1441`, `47아1741`… every 30 s, and counted each against the
pass driving by), and while its track lives the detector runs on that camera at every frame.
Frigate treats stationary objects the same way: noticed once, not processed again while they stay.

A track is parked when, over at least `PARKED_MIN_S`, its plate's centre moved less than
`PARKED_MAX_SHIFT` of the plate's width: a passing vehicle's plate moves that far in a tenth of a
second, and a car waiting at a light moves off later (then its track follows it, no longer parked). Its
box and its look become a spot. A later sighting is screened out (not tracked, not read) when it
is on the spot (IoU >= `SPOT_IOU`) *and* looks like the same plate: the normalised correlation of
the two crops at 48×12 grey is at least `SAME_LOOK` (held-out real crops: the same plate moved by
2 px and rescaled >= 0.87 in 95 % of cases, two different plates < 0.61 in 95 %, < 0.77 in 99 %).
So the next car to stop at the same stop line is read, whatever its position. A plate the
detector finds only now and then makes short tracks instead; each that did not move is kept a
while as a candidate, and one that comes back to the candidate's place with its look, at least
`PARKED_MIN_S` after it began, makes the spot (no second read). A spot is forgotten
when the detector has looked at the camera `FORGET_FRAMES` times over at least `FORGET_S` without
seeing its plate; at most `MAX_SPOTS` are kept per camera, the most recently seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import cv2
import numpy as np

from lpr.geometry import iou
from lpr.workers.tracker import Box, Observation, Track

PARKED_MIN_S = 1.5
PARKED_MAX_SHIFT = 0.2
SPOT_IOU = 0.5
SAME_LOOK = 0.8
SIGNATURE_SIZE = (48, 12)
FORGET_FRAMES = 24
FORGET_S = 60.0
MAX_SPOTS = 16


def signature(crop: np.ndarray | None) -> np.ndarray | None:
    """The crop at 48×12 grey, zero mean, unit norm; None for no crop or a flat one."""
    if crop is None or crop.size == 0:
        return None
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    small = cv2.resize(grey, SIGNATURE_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    small -= small.mean()
    norm = float(np.linalg.norm(small))
    return small / norm if norm > 1e-3 else None


def _stood_still(track: Track) -> bool:
    """The plate's centre moved less than `PARKED_MAX_SHIFT` of its width over the track."""
    first, last = track.observations[0], track.observations[-1]
    width = max(first.box[2] - first.box[0], last.box[2] - last.box[0])
    dx = (last.box[0] + last.box[2] - first.box[0] - first.box[2]) / 2
    dy = (last.box[1] + last.box[3] - first.box[1] - first.box[3]) / 2
    return (dx * dx + dy * dy) ** 0.5 < PARKED_MAX_SHIFT * width


def is_parked(track: Track) -> bool:
    return (track.last_seen - track.first_seen).total_seconds() >= PARKED_MIN_S and _stood_still(track)


class _Seen(Protocol):
    last_seen: datetime


@dataclass
class Spot:
    box: Box
    last_seen: datetime
    look: np.ndarray | None  # `signature` of the plate's crop
    misses: int = 0  # detector frames since the plate was last seen here
    read: _Seen | None = None  # the worker's recent read of this plate, kept recent while seen

    def holds(self, obs: Observation, look: np.ndarray | None) -> bool:
        if iou(self.box, obs.box) < SPOT_IOU:
            return False
        # Without a crop on either side (a sighting cut by the picture's edge) position decides.
        return self.look is None or look is None or float((self.look * look).sum()) >= SAME_LOOK


def _look_of(track: Track) -> np.ndarray | None:
    return signature(next((o.crop for o in reversed(track.observations) if o.crop is not None), None))


class ParkedSpots:
    """One camera's parked plates, and the short still tracks that may turn out to be one."""

    def __init__(self) -> None:
        self.spots: list[Spot] = []
        # Short tracks that did not move, kept a while: a plate the detector finds only now and
        # then (score near the threshold, a passing car in front) never makes one track of
        # PARKED_MIN_S, but keeps coming back at the same place with the same look.
        self.stills: list[Spot] = []

    def add(self, track: Track) -> Spot:
        spot = Spot(track.box, track.last_seen, _look_of(track))
        self._keep(self.spots, spot)
        return spot

    def settle(self, track: Track) -> tuple[Spot | None, bool]:
        """Where an ended track stands: (the place whose `read` the worker should set, whether
        this plate was read there before and the track makes no read).

        A parked track makes a spot. A short still track at the place and with the look of an
        earlier one that began at least PARKED_MIN_S before it ended is that plate standing
        there: a spot, read before. Any other still track is remembered as a candidate."""
        if is_parked(track):
            return self.add(track), False
        if not _stood_still(track):
            return None, False
        look = _look_of(track)
        if look is None:  # nothing to tell one plate from another at the same place by
            return None, False
        earlier = next(
            (c for c in self.stills if c.look is not None and c.holds(track.observations[-1], look)), None
        )
        if earlier is not None and (track.last_seen - earlier.last_seen).total_seconds() >= PARKED_MIN_S:
            self.stills.remove(earlier)
            spot = Spot(track.box, track.last_seen, look, read=earlier.read)
            self._keep(self.spots, spot)
            return spot, earlier.read is not None
        if earlier is not None:  # the same short stay, broken up: one candidate
            return earlier, earlier.read is not None
        still = Spot(track.box, track.first_seen, look)  # last_seen here: when it began to stand
        self.stills = [c for c in self.stills if (track.last_seen - c.last_seen).total_seconds() < FORGET_S]
        self._keep(self.stills, still)
        return still, False

    @staticmethod
    def _keep(places: list[Spot], place: Spot) -> None:
        places.append(place)
        if len(places) > MAX_SPOTS:
            places.remove(min(places, key=lambda s: s.last_seen))

    def screen(self, at: datetime, observations: list[Observation]) -> list[Observation]:
        """One detector frame's sightings less those on a parked plate's spot; spots not seen in
        this frame count a miss, and those long unseen are forgotten."""
        if not self.spots:
            return observations
        kept, seen = [], set()
        for obs in observations:
            look = signature(obs.crop)
            spot = next((s for s in self.spots if s.holds(obs, look)), None)
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
