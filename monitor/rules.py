"""The zone rules of one camera, fed tracked persons frame by frame: intrusion, loitering and
crowd density. One event per episode: a condition must hold `confirm_s` before it is an event, and
an episode ends only after `clear_s` without it, so a missed detection or a tracker that gives the
same walker a new id does not raise a second event (a new track that starts where a lost one was,
within `clear_s`, takes over the lost one's episode and its time in the zone).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from monitor.analytics import DENSITY_LEVEL_NAMES, CameraAnalytics, Zone
from monitor.tracking import TrackedPerson

# Two tracks whose feet are within REACH of a person's height for TOGETHER_S stand at one spot:
# a loitering alert for one counts for both (chosen on walker seeds 1–3 and 11–16, the benchmark
# reports seeds 4–6; a reach of half a height lost a sixth of the loiterers standing near others).
TOGETHER_S, REACH = 2.0, 0.15
# Frame times are floats (at 5 fps, 1.4 − 1.0 < 0.4): a condition that has held its time up to
# this slack has held it, or half the events would wait one frame more than the rule says.
SLACK_S = 1e-3


def _held(t: float, since: float, seconds: float) -> bool:
    return t - since >= seconds - SLACK_S


@dataclass(frozen=True)
class PeopleEvent:
    camera_id: str
    zone: str
    kind: str  # "intrusion" | "loitering" | "density"
    at: float  # epoch seconds of the frame that raised it
    since: float  # when the condition began (first frame inside; density: first frame at the level)
    track_id: int | None = None
    foot: tuple[float, float] | None = None  # image pixels, where the person stood
    level: str | None = None  # density: 관심/주의/경계/심각
    count: int | None = None
    density: float | None = None  # persons per m²

    def as_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class _Presence:
    since: float  # first frame inside (inherited through an id switch)
    last: float
    foot: tuple[float, float]
    height: float
    alerted: set[str] = field(default_factory=set)


@dataclass
class _DensityState:
    level: int = -1
    candidate: int = -1
    candidate_since: float = 0.0
    below_since: float | None = None
    samples: deque = field(default_factory=lambda: deque(maxlen=8))


class CameraRules:
    def __init__(self, camera: CameraAnalytics, tz: timezone | None = None) -> None:
        self.camera = camera
        self.tz = tz
        self._presence: dict[tuple[str, int], _Presence] = {}
        self._density: dict[str, _DensityState] = {z.name: _DensityState() for z in camera.zone}
        self._areas = {z.name: camera.zone_area_m2(z) for z in camera.zone if z.density_levels}
        self._seen: dict[int, float] = {}  # track id → last frame it was in (any zone or none)
        self._frame_s = 1.0 / camera.fps
        self._together: dict[tuple[str, int, int], list[float]] = {}  # zone, ids → [first, last] frame

    def update(
        self, t: float, tracks: list[TrackedPerson], zone_counts: dict[str, float] | None = None
    ) -> list[PeopleEvent]:
        """One frame: its tracked persons, and for density zones counted by the density head,
        their people counts (otherwise the feet inside the zone are counted)."""
        events: list[PeopleEvent] = []
        feet = np.array([tp.person.foot for tp in tracks], np.float64).reshape(-1, 2)
        when = datetime.fromtimestamp(t, self.tz)
        new_tracks = {tp.track_id for tp in tracks if tp.track_id not in self._seen}
        for zone in self.camera.zone:
            inside = zone.contains(feet) if len(feet) else np.zeros(0, bool)
            if zone.closed or zone.loiter_s:
                events += self._presence_rules(zone, t, when, tracks, inside, new_tracks)
            if zone.density_levels:
                count = (zone_counts or {}).get(zone.name, float(inside.sum()))
                events += self._density_rule(zone, t, count)
        for tp in tracks:
            self._seen[tp.track_id] = t
        if len(self._seen) > 4096:
            self._seen = {k: v for k, v in self._seen.items() if t - v < 600}
        return events

    def _presence_rules(self, zone, t, when, tracks, inside, new_tracks) -> list[PeopleEvent]:
        events = []
        # Episodes whose track has been out of the zone longer than clear_s are over.
        for key in [k for k, p in self._presence.items() if k[0] == zone.name and t - p.last > zone.clear_s]:
            del self._presence[key]
        self._share_alerts(zone, t, tracks, inside)
        for tp, is_in in zip(tracks, inside, strict=True):
            if not is_in:
                continue
            key = (zone.name, tp.track_id)
            foot = tp.person.foot
            height = tp.person.box[3] - tp.person.box[1]
            state = self._presence.get(key)
            if state is None:
                # Only a track the tracker has just started can be a lost one under a new id; one
                # that walked in from outside the zone is a new episode.
                taken = self._take_over(zone.name, t, foot, height) if tp.track_id in new_tracks else None
                state = taken or _Presence(t, t, foot, height)
                self._presence[key] = state
            state.last, state.foot, state.height = t, foot, height
            closed = zone.is_closed(when)
            if closed and "intrusion" not in state.alerted and _held(t, state.since, zone.confirm_s):
                state.alerted.add("intrusion")
                events.append(self._event(zone, "intrusion", t, state, tp.track_id))
            if zone.loiter_s and "loitering" not in state.alerted and _held(t, state.since, zone.loiter_s):
                state.alerted.add("loitering")
                events.append(self._event(zone, "loitering", t, state, tp.track_id))
        return events

    def _share_alerts(self, zone: Zone, t: float, tracks: list[TrackedPerson], inside: np.ndarray) -> None:
        """Two tracks standing together in the zone (feet within REACH of a height) for TOGETHER_S:
        a loitering alert for one is the alert for both. A tracker can swap the ids of people that
        close (ByteTrack does), and the id that kept the spot would start the timer again and alert a
        second time for the same loiterer; a group loitering at one spot is one episode anyway."""
        if not zone.loiter_s:
            return
        here = [tp for tp, is_in in zip(tracks, inside, strict=True) if is_in]
        for i, a in enumerate(here):
            for b in here[i + 1 :]:
                (ax, ay), (bx, by) = a.person.foot, b.person.foot
                reach = REACH * max(a.person.box[3] - a.person.box[1], b.person.box[3] - b.person.box[1])
                if np.hypot(ax - bx, ay - by) > reach:
                    continue
                key = (zone.name, *sorted((a.track_id, b.track_id)))
                span = self._together.get(key)
                if span is None or t - span[1] > 1.0:
                    span = self._together[key] = [t, t]
                span[1] = t
                sa, sb = (
                    self._presence.get((zone.name, a.track_id)),
                    self._presence.get((zone.name, b.track_id)),
                )
                if (
                    _held(span[1], span[0], TOGETHER_S)
                    and sa is not None
                    and sb is not None
                    and "loitering" in sa.alerted | sb.alerted
                ):
                    sa.alerted.add("loitering")
                    sb.alerted.add("loitering")
        if len(self._together) > 4096:
            self._together = {k: v for k, v in self._together.items() if t - v[1] < 60}

    def _take_over(self, zone: str, t: float, foot, height: float) -> _Presence | None:
        """A lost track's episode in this zone near where a new track appears (an id switch):
        its track is in neither this frame nor the last (a missed box is not a lost track), and
        it was last near the new foot point (half a person's height, more the longer it was unseen)."""
        candidates: dict[int, tuple[float, _Presence]] = {}
        for (name, track_id), state in self._presence.items():
            if name != zone or t - self._seen.get(track_id, state.last) < 1.5 * self._frame_s:
                continue
            d = float(np.hypot(foot[0] - state.foot[0], foot[1] - state.foot[1]))
            # half a height, plus what a walker covers while unseen (~1 height a second)
            reach = max(state.height, height) * (0.5 + min(1.5, t - state.last))
            if d <= reach:
                candidates[id(state)] = (d, state)
        # Two lost people near the new track: which one it is cannot be told, and taking the wrong
        # one's time in the zone would raise a loitering alert early; start afresh instead.
        if len(candidates) != 1:
            return None
        return next(iter(candidates.values()))[1]  # shared: if the old id returns, same episode

    def _event(self, zone: Zone, kind: str, t: float, state: _Presence, track_id: int) -> PeopleEvent:
        since = state.since if kind == "intrusion" else state.since + (zone.loiter_s or 0)
        return PeopleEvent(self.camera.id, zone.name, kind, t, since, track_id, state.foot)

    def _density_rule(self, zone: Zone, t: float, count: float) -> list[PeopleEvent]:
        state = self._density[zone.name]
        levels = zone.density_levels or []
        state.samples.append(count)
        density = float(np.median(state.samples)) / self._areas[zone.name]
        target = max((i for i, thr in enumerate(levels) if density >= thr), default=-1)
        events = []
        if target > state.level:
            if state.candidate != target:
                state.candidate, state.candidate_since = target, t
            if _held(t, state.candidate_since, zone.confirm_s):
                state.level = target
                events.append(
                    PeopleEvent(
                        self.camera.id,
                        zone.name,
                        "density",
                        t,
                        state.candidate_since,
                        level=DENSITY_LEVEL_NAMES[target],
                        count=round(count),
                        density=round(density, 3),
                    )
                )
            state.below_since = None
        else:
            state.candidate = -1
            # Down a level only after clear_s below the level's threshold × (1 − hysteresis).
            if state.level >= 0 and density < levels[state.level] * (1 - zone.hysteresis):
                state.below_since = t if state.below_since is None else state.below_since
                if _held(t, state.below_since, zone.clear_s):
                    kept = (i for i, thr in enumerate(levels) if density >= thr * (1 - zone.hysteresis))
                    state.level = max(kept, default=-1)
                    state.below_since = None
            else:
                state.below_since = None
        return events

    def levels(self) -> dict[str, str | None]:
        """Each density zone's current level (None below 관심)."""
        return {
            name: (DENSITY_LEVEL_NAMES[s.level] if s.level >= 0 else None)
            for name, s in self._density.items()
            if name in self._areas
        }
