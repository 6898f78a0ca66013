"""Vehicles that drive a route through several cameras.

A journey is one vehicle (one plate, one body colour) passing cameras in order. Between two
cameras it is out of view for a travel time: given (`PLATE:C01,C02,C03@SECONDS`), or the
straight-line distance between the cameras (registry lat/lon) over a speed, multiplied by a time
scale so that tests can compress a ten-minute drive into seconds. Each camera gets the journey's
passes booked ahead (`CameraScene.reserve`), so its ground truth row carries `journey_id` and
`leg`, and a benchmark can check a plate's route against it.

Generated journeys follow roads: cameras on the same road in config/cameras.toml, ordered along
it, driven between consecutive cameras in one direction.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from anpr.simulator.scene import PLATE_WIDTH, CameraScene, Pass, PassConflict, sized_plate
from anpr_core.cameras import Camera
from anpr_core.plates import InvalidPlate, parse_plate, random_plate
from anpr_core.render.plate import render_plate

EARTH_RADIUS_M = 6_371_000.0
DEFAULT_SPEED_KMH = 50.0  # an urban arterial road


class JourneyError(ValueError):
    """A journey that cannot be driven: bad spec, unknown camera, or no free slot."""


@dataclass(frozen=True)
class JourneySpec:
    plate: str
    cameras: tuple[str, ...]
    travel_s: float | None = None  # from leaving one camera to entering the next; None: distance/speed


def parse_journey(text: str) -> JourneySpec:
    """`PLATE:CAM1,CAM2[,...][@SECONDS]`, e.g. `123가4567:C01,C02,C03@4`."""
    plate_part, sep, rest = text.partition(":")
    if not sep:
        raise JourneyError(f"journey {text!r}: expected PLATE:CAM1,CAM2[,...][@SECONDS]")
    try:
        plate = parse_plate(plate_part.strip()).text
    except InvalidPlate as exc:
        raise JourneyError(f"journey {text!r}: {exc}") from None
    route, at, seconds = rest.partition("@")
    travel_s = None
    if at:
        try:
            travel_s = float(seconds)
        except ValueError:
            raise JourneyError(f"journey {text!r}: travel time {seconds!r} is not a number") from None
        if not math.isfinite(travel_s) or travel_s < 0:
            raise JourneyError(f"journey {text!r}: travel time must be 0 or more seconds")
    cameras = tuple(c.strip() for c in route.split(",") if c.strip())
    if len(cameras) < 2:
        raise JourneyError(f"journey {text!r}: a route needs at least two cameras")
    for a, b in itertools.pairwise(cameras):
        if a == b:
            raise JourneyError(f"journey {text!r}: {a} twice in a row")
    return JourneySpec(plate, cameras, travel_s)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def travel_times(
    spec: JourneySpec,
    positions: Mapping[str, tuple[float, float]],
    speed_kmh: float = DEFAULT_SPEED_KMH,
    time_scale: float = 1.0,
) -> list[float]:
    """Seconds out of view between consecutive cameras (one fewer than the cameras)."""
    legs = list(itertools.pairwise(spec.cameras))
    if spec.travel_s is not None:
        return [spec.travel_s] * len(legs)
    if speed_kmh <= 0 or time_scale <= 0:
        raise JourneyError("speed and time scale must be positive")
    out = []
    for a, b in legs:
        missing = [c for c in (a, b) if c not in positions]
        if missing:
            raise JourneyError(
                f"journey of {spec.plate}: no position for {', '.join(missing)}; give @SECONDS instead"
            )
        out.append(distance_m(positions[a], positions[b]) / (speed_kmh / 3.6) * time_scale)
    return out


def schedule_journey(
    scenes: Mapping[str, CameraScene],
    spec: JourneySpec,
    start: datetime,
    travel_s: list[float],
    journey_id: str,
    rng: random.Random,
) -> list[Pass]:
    """Book the journey's pass on each camera; the first enters at `start`.

    All or nothing: a conflict on any camera (another vehicle in view) books none and raises
    `JourneyError`.
    """
    unknown = [c for c in spec.cameras if c not in scenes]
    if unknown:
        raise JourneyError(f"journey {journey_id} ({spec.plate}): no simulated camera {', '.join(unknown)}")
    if len(travel_s) != len(spec.cameras) - 1:
        raise JourneyError(f"journey {journey_id}: one travel time per pair of cameras, not {len(travel_s)}")
    # One vehicle: the same plate and body on every camera; only its size and lane change.
    rendered = render_plate(parse_plate(spec.plate), None, rng).image
    colour = (rng.randint(20, 230), rng.randint(20, 230), rng.randint(20, 230))
    passes, at = [], start
    for leg, camera_id in enumerate(spec.cameras, 1):
        scene = scenes[camera_id]
        leave = at + timedelta(seconds=rng.uniform(*scene.crossing_s))
        passes.append(
            Pass(
                pass_id="",  # numbered by the scene when the pass comes up
                camera_id=camera_id,
                plate=spec.plate,
                enter=at,
                leave=leave,
                plate_image=sized_plate(rendered, rng.randint(*PLATE_WIDTH)),
                vehicle_colour=colour,
                lane_x=rng.uniform(0.3, 0.7),
                journey_id=journey_id,
                leg=leg,
            )
        )
        if leg < len(spec.cameras):
            at = leave + timedelta(seconds=travel_s[leg - 1])
    # The same camera twice on one route is allowed (a loop), but not at overlapping times.
    by_camera: dict[str, list[Pass]] = defaultdict(list)
    for p in passes:
        by_camera[p.camera_id].append(p)
    for p in passes:
        problem = scenes[p.camera_id].conflict(p.enter, p.leave)
        if problem is None and len(by_camera[p.camera_id]) > 1:
            problem = _self_overlap(by_camera[p.camera_id])
        if problem:
            raise JourneyError(f"journey {journey_id} ({spec.plate}) at {p.camera_id}: {problem}")
    for p in passes:
        try:
            scenes[p.camera_id].reserve(p)
        except PassConflict as exc:  # pragma: no cover - checked above
            raise JourneyError(str(exc)) from None
    return passes


def _self_overlap(passes: list[Pass]) -> str | None:
    ordered = sorted(passes, key=lambda p: p.enter)
    for a, b in itertools.pairwise(ordered):
        if (b.enter - a.leave).total_seconds() < 1.0:
            return "the route comes back to this camera while the vehicle is still in view"
    return None


def road_routes(cameras: Iterable[Camera]) -> list[tuple[str, ...]]:
    """Cameras on the same road (two or more), in order along it.

    The order is by position along the road's longest extent (north–south or east–west), which
    is what a straight arterial road gives; driving it means consecutive cameras in that order.
    """
    by_road: dict[str, list[Camera]] = defaultdict(list)
    for camera in cameras:
        if camera.enabled:
            by_road[camera.road].append(camera)
    routes = []
    for road in sorted(by_road):
        group = by_road[road]
        if len(group) < 2:
            continue
        lat_span_m = (max(c.lat for c in group) - min(c.lat for c in group)) * 111_000
        mean_lat = math.radians(sum(c.lat for c in group) / len(group))
        lon_span_m = (max(c.lon for c in group) - min(c.lon for c in group)) * 111_000 * math.cos(mean_lat)
        key = (lambda c: c.lat) if lat_span_m >= lon_span_m else (lambda c: c.lon)
        routes.append(tuple(c.id for c in sorted(group, key=key)))
    return routes


def random_road_journey(rng: random.Random, routes: list[tuple[str, ...]]) -> JourneySpec:
    """A random vehicle driving two or more consecutive cameras of one road, either way."""
    route = rng.choice(routes)
    if rng.random() < 0.5:
        route = route[::-1]
    first = rng.randrange(0, len(route) - 1)
    last = rng.randrange(first + 2, len(route) + 1)
    return JourneySpec(random_plate(rng).text, route[first:last])


class RoadTraffic:
    """Generated journeys along roads, `per_hour` on average, booked `lead_s` ahead of time.

    Booking ahead keeps a journey clear of random passes already on the road; a journey that
    finds a camera busy at its time is tried again a little later.
    """

    def __init__(
        self,
        routes: list[tuple[str, ...]],
        positions: Mapping[str, tuple[float, float]],
        per_hour: float,
        seed: int,
        start: datetime,
        speed_kmh: float = DEFAULT_SPEED_KMH,
        time_scale: float = 1.0,
        lead_s: float = 10.0,
    ) -> None:
        if per_hour <= 0 or not routes:
            raise JourneyError("road traffic needs a positive rate and a road with two or more cameras")
        self.routes, self.positions, self.per_hour = routes, positions, per_hour
        self.speed_kmh, self.time_scale, self.lead_s = speed_kmh, time_scale, lead_s
        self._rng = random.Random(f"roads:{seed}")
        self._next_at = start + timedelta(seconds=lead_s + self._rng.expovariate(per_hour / 3600))
        self.scheduled: list[tuple[str, JourneySpec]] = []

    def schedule_until(self, scenes: Mapping[str, CameraScene], now: datetime) -> list[Pass]:
        """Book every journey that starts within `lead_s` of `now`."""
        booked: list[Pass] = []
        while self._next_at <= now + timedelta(seconds=self.lead_s):
            spec = random_road_journey(self._rng, self.routes)
            journey_id = f"R{len(self.scheduled) + 1:05d}"
            travel = travel_times(spec, self.positions, self.speed_kmh, self.time_scale)
            start = max(self._next_at, now + timedelta(seconds=self.lead_s))
            for attempt in range(5):
                try:
                    at = start + timedelta(seconds=5 * attempt)
                    booked += schedule_journey(scenes, spec, at, travel, journey_id, self._rng)
                    self.scheduled.append((journey_id, spec))
                    break
                except JourneyError:
                    continue  # a camera on the way is busy then: leave a little later
            self._next_at += timedelta(seconds=self._rng.expovariate(self.per_hour / 3600))
        return booked
