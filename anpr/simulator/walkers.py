"""Simulated walkers for the people rules' ground truth (issue 23).

People walk on a 20 m × 15 m ground plane seen by a 640×480 camera through a known homography.
Each walker has a part: passing through, passing close by a zone without entering, intruding into
the closed zone for a few seconds, or lingering in the loitering zone for clearly less or clearly
more than its threshold. Every frame gives the detector's view of them, with a detector's faults:
missed boxes, jittered boxes, weak scores (ByteTrack's second pass), short false boxes. The truth
is each walker's time inside each zone, from its true ground position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from monitor.analytics import CameraAnalytics, Zone
from monitor.people.types import Person

GROUND = (20.0, 15.0)  # metres
IMAGE_POINTS = [(0.0, 480.0), (640.0, 480.0), (500.0, 90.0), (140.0, 90.0)]
GROUND_POINTS = [(0.0, 0.0), (20.0, 0.0), (20.0, 15.0), (0.0, 15.0)]
CLOSED_ZONE = [(12.0, 8.0), (18.0, 8.0), (18.0, 13.0), (12.0, 13.0)]  # ground metres
LOITER_ZONE = [(2.0, 2.0), (8.0, 2.0), (8.0, 7.0), (2.0, 7.0)]
LOITER_S = 20.0
PERSON_HEIGHT_M, PERSON_WIDTH_M = 1.7, 0.55
# Two bodies cannot overlap: no one stands (lingers, pauses in the closed zone) with another
# person's centre within one body width of their own. A realism fix of the ground truth (the
# spots were drawn independently, and two simulated persons could stand 0.1 m apart, one inside
# the other); not a change to what is scored.
MIN_SEPARATION_M = PERSON_WIDTH_M


def camera(loiter_s: float = LOITER_S, fps: float = 5.0) -> CameraAnalytics:
    base = CameraAnalytics(id="SIM1", fps=fps, image_points=IMAGE_POINTS, ground_points=GROUND_POINTS)
    to_image = np.linalg.inv(base.ground_matrix())

    def image_polygon(ground: list[tuple[float, float]]) -> list[tuple[float, float]]:
        pts = np.c_[np.asarray(ground), np.ones(len(ground))] @ to_image.T
        return [(float(x), float(y)) for x, y in pts[:, :2] / pts[:, 2:]]

    return base.model_copy(
        update={
            "zone": [
                Zone(name="closed", polygon=image_polygon(CLOSED_ZONE), closed=["always"]),
                Zone(name="lobby", polygon=image_polygon(LOITER_ZONE), loiter_s=loiter_s),
            ]
        }
    )


def _inside(point: np.ndarray, rect: list[tuple[float, float]]) -> bool:
    (x1, y1), (x2, y2) = rect[0], rect[2]
    return x1 <= point[0] <= x2 and y1 <= point[1] <= y2


@dataclass
class Walker:
    id: int
    role: str
    waypoints: list[tuple[float, float, float]]  # (t, x, y): piecewise-linear path in time

    def at(self, t: float) -> np.ndarray | None:
        times = [w[0] for w in self.waypoints]
        if t < times[0] or t > times[-1]:
            return None
        return np.array(
            [
                np.interp(t, times, [w[1] for w in self.waypoints]),
                np.interp(t, times, [w[2] for w in self.waypoints]),
            ]
        )


@dataclass
class Episode:
    walker: int
    kind: str  # "intrusion" | "loitering"
    zone: str
    start: float  # first frame inside
    end: float  # last frame inside
    due: float  # when the rule's condition holds (intrusion: start; loitering: start + loiter_s)
    required: bool = True  # borderline (a graze of the edge): neither required nor a false alarm
    matched: bool = field(default=False, compare=False)


def _edge_point(rng: np.random.Generator) -> tuple[float, float]:
    side = rng.integers(4)
    u = float(rng.uniform(0.05, 0.95) * (GROUND[0] if side % 2 == 0 else GROUND[1]))
    return [(u, 0.3), (19.7, u), (u, 14.7), (0.3, u)][side]


def _walk(t: float, points: list[tuple[float, float]], speed: float, pauses: dict[int, float]):
    out = [(t, *points[0])]
    for i in range(1, len(points)):
        t += float(np.hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1])) / speed
        out.append((t, *points[i]))
        if i in pauses:
            t += pauses[i]
            out.append((t, *points[i]))
    return out


def _crowded(path: list[tuple[float, float, float]], others: list[Walker]) -> bool:
    """Whether anyone in `others` comes within MIN_SEPARATION_M of the spot where `path` pauses
    (its waypoints 1 and 2), while it stands there."""
    (t0, x, y), (t1, _, _) = path[1], path[2]
    ts = np.arange(t0, t1 + 0.1, 0.1)
    for other in others:
        times = [w[0] for w in other.waypoints]
        when = ts[(ts >= times[0]) & (ts <= times[-1])]
        if len(when) == 0:
            continue
        ox = np.interp(when, times, [w[1] for w in other.waypoints])
        oy = np.interp(when, times, [w[2] for w in other.waypoints])
        if np.any(np.hypot(ox - x, oy - y) < MIN_SEPARATION_M):
            return True
    return False


def make_walkers(seed: int, minutes: float, rate_per_min: float = 12.0) -> list[Walker]:
    rng = np.random.default_rng(seed)
    walkers: list[Walker] = []
    t = 0.0
    while True:
        t += float(rng.exponential(60.0 / rate_per_min))
        if t > minutes * 60:
            return walkers
        role = str(
            rng.choice(
                ["pass", "near", "intrude", "linger_short", "linger_long"], p=[0.35, 0.15, 0.2, 0.15, 0.15]
            )
        )
        speed = float(rng.uniform(0.9, 1.5))
        start, end = _edge_point(rng), _edge_point(rng)
        if role == "pass":  # straight across, wherever it goes (its zone visits are truth too)
            path, pauses = [start, end], {}
        elif role == "near":  # along the closed zone's front edge, 1 m outside it
            y = CLOSED_ZONE[0][1] - 1.0
            path, pauses = [(10.0, y), (19.5, y)] if rng.random() < 0.5 else [(19.5, y), (10.0, y)], {}
        elif role == "intrude":
            inside = (float(rng.uniform(13, 17)), float(rng.uniform(9, 12)))
            path, pauses = [start, inside, end], {1: float(rng.uniform(1.0, 8.0))}
        else:
            spot = (float(rng.uniform(3, 7)), float(rng.uniform(3, 6)))
            # clearly under or over the threshold (the walk in and out adds a few seconds)
            stay = (
                rng.uniform(2.0, 0.5 * LOITER_S)
                if role == "linger_short"
                else rng.uniform(1.3, 3.0) * LOITER_S
            )
            path, pauses = [start, spot, end], {1: float(stay)}
        waypoints = _walk(t, path, speed, pauses)
        if pauses:
            # A spot taken by someone else is drawn again, from the walker's own generator so
            # every other walker (and the seed's walkers without a conflict) stays as it was.
            spots = np.random.default_rng((seed, len(walkers)))
            low, high = ((13, 9), (17, 12)) if role == "intrude" else ((3, 3), (7, 6))
            for _ in range(100):
                if not _crowded(waypoints, walkers):
                    break
                path[1] = (float(spots.uniform(low[0], high[0])), float(spots.uniform(low[1], high[1])))
                waypoints = _walk(t, path, speed, pauses)
        walkers.append(Walker(len(walkers), role, waypoints))


def episodes(walkers: list[Walker], times: np.ndarray, loiter_s: float = LOITER_S) -> list[Episode]:
    found = []
    for walker in walkers:
        for zone, rect in (("closed", CLOSED_ZONE), ("lobby", LOITER_ZONE)):
            inside = [t for t in times if (p := walker.at(t)) is not None and _inside(p, rect)]
            if not inside:
                continue
            # one visit = frames inside with gaps under 3 s (the rules' clear_s)
            visits, current = [], [inside[0]]
            for t in inside[1:]:
                if t - current[-1] > 3.0:
                    visits.append(current)
                    current = []
                current.append(t)
            visits.append(current)
            for visit in visits:
                start, end = visit[0], visit[-1]
                if zone == "closed":
                    found.append(Episode(walker.id, "intrusion", zone, start, end, start, end - start >= 1.0))
                elif end - start > loiter_s:
                    found.append(
                        Episode(
                            walker.id,
                            "loitering",
                            zone,
                            start,
                            end,
                            start + loiter_s,
                            end - start > loiter_s + 2,
                        )
                    )
    return found


@dataclass
class Frame:
    t: float
    persons: list[Person]
    truth: dict[int, tuple[float, float]]  # walker id → true foot point in the image


def frames(
    walkers: list[Walker], cam: CameraAnalytics, fps: float, minutes: float, seed: int, miss: float = 0.08
):
    rng = np.random.default_rng(seed + 1)
    to_image = np.linalg.inv(cam.ground_matrix())

    def project(x: float, y: float) -> np.ndarray:
        p = to_image @ np.array([x, y, 1.0])
        return p[:2] / p[2]

    for i in range(int(minutes * 60 * fps)):
        t = i / fps
        persons, truth = [], {}
        for walker in walkers:
            p = walker.at(t)
            if p is None:
                continue
            foot = project(*p)
            truth[walker.id] = (float(foot[0]), float(foot[1]))
            if rng.random() < miss:
                continue
            metre = float(np.linalg.norm(project(p[0] + 1.0, p[1]) - foot))  # pixels per metre here
            h, w = PERSON_HEIGHT_M * metre, PERSON_WIDTH_M * metre
            jitter = rng.normal(0, 0.03 * h, 4)
            box = (
                foot[0] - w / 2 + jitter[0],
                foot[1] - h + jitter[1],
                foot[0] + w / 2 + jitter[2],
                foot[1] + jitter[3],
            )
            score = float(rng.uniform(0.3, 0.45) if rng.random() < 0.1 else rng.uniform(0.5, 0.9))
            persons.append(Person(tuple(float(v) for v in box), score))
        for _ in range(rng.poisson(0.3)):  # false boxes: weak, anywhere
            x, y = float(rng.uniform(0, 600)), float(rng.uniform(100, 470))
            persons.append(Person((x, y - 60, x + 20, y), float(rng.uniform(0.25, 0.5))))
        yield Frame(t, persons, truth)
