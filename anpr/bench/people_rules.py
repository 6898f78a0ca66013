"""Rules on simulated walkers (issue 23): events of the real tracker + rules against the truth.

An event matches the walker whose true foot point is nearest its own at that frame (within a
person's height) and that walker's episode of the same kind and zone that is due by then; a
matched episode counts once (a second event for it is a false alarm: a storm). Latency = event
time − when the condition began to hold (intrusion: entry; loitering: entry + loiter_s).
"""

from __future__ import annotations

import numpy as np

from anpr.simulator import walkers as sim
from monitor.rules import CameraRules
from monitor.tracking import PersonTracker


def _pixels_per_metre(cam, foot: tuple[float, float]) -> float:
    to_ground = cam.ground_matrix()
    g = to_ground @ np.array([foot[0], foot[1], 1.0])
    g = g[:2] / g[2]
    to_image = np.linalg.inv(to_ground)
    a, b = to_image @ np.array([g[0], g[1], 1.0]), to_image @ np.array([g[0] + 1.0, g[1], 1.0])
    return float(np.hypot(*(a[:2] / a[2] - b[:2] / b[2])))


def evaluate_rules(
    seed: int = 1, minutes: float = 10.0, fps: float = 5.0, miss: float = 0.08, overlap_m: float = 0.0
) -> dict:
    cam = sim.camera(fps=fps)
    people = sim.make_walkers(seed, minutes)
    times = np.arange(int(minutes * 60 * fps)) / fps
    truth = sim.episodes(people, times)
    tracker = PersonTracker(fps)
    rules = CameraRules(cam)
    events, matched_latency, false_alarms = (
        [],
        {"intrusion": [], "loitering": []},
        {"intrusion": 0, "loitering": 0},
    )
    for frame in sim.frames(people, cam, fps, minutes, seed, miss=miss):
        for event in rules.update(frame.t, tracker.update(frame.persons)):
            events.append(event)
            distance = {
                walker: float(np.hypot(foot[0] - event.foot[0], foot[1] - event.foot[1]))
                for walker, foot in frame.truth.items()
            }
            # The nearest walker, and any other standing as near within `overlap_m` on the ground:
            # people that close overlap in the image, and no position tells which one the event is.
            nearest = min(distance.values(), default=0.0)
            near = {
                w
                for w, d in distance.items()
                if d <= nearest + overlap_m * _pixels_per_metre(cam, event.foot)
            }
            candidates = [
                ep
                for ep in truth
                if ep.walker in near
                and ep.kind == event.kind
                and ep.zone == event.zone
                and ep.due - 1.0 <= event.at <= ep.end + 3.0
                and not ep.matched
            ]
            if not candidates:
                false_alarms[event.kind] += 1
                continue
            episode = candidates[0]
            episode.matched = True
            if episode.required:
                matched_latency[event.kind].append(event.at - episode.due)
    report = {}
    for kind in ("intrusion", "loitering"):
        required = [ep for ep in truth if ep.kind == kind and ep.required]
        found = [ep for ep in required if ep.matched]
        raised = len([e for e in events if e.kind == kind])
        optional_hits = len([ep for ep in truth if ep.kind == kind and not ep.required and ep.matched])
        latency = np.array(matched_latency[kind]) if matched_latency[kind] else np.zeros(1)
        report[kind] = {
            "episodes": len(required),
            "events": raised,
            "recall": round(len(found) / max(1, len(required)), 4),
            "precision": round(
                (raised - false_alarms[kind] - optional_hits) / max(1, raised - optional_hits), 4
            ),
            "false_alarms": false_alarms[kind],
            "latency_p50_s": round(float(np.percentile(latency, 50)), 2),
            "latency_p95_s": round(float(np.percentile(latency, 95)), 2),
            "latency_max_s": round(float(latency.max()), 2),
        }
    report["walkers"] = len(people)
    report["frames"] = len(times)
    return report
