"""Person tracks across frames: roboflow's ByteTrack (`trackers`, on supervision.Detections)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.people.types import Person


@dataclass(frozen=True)
class TrackedPerson:
    track_id: int
    person: Person


class PersonTracker:
    def __init__(self, fps: float, *, lost_s: float = 2.0, min_score: float = 0.25) -> None:
        from trackers import ByteTrackTracker

        # ByteTrack's two passes: boxes over `high` start and keep tracks, the weaker ones only
        # keep tracks going through an occlusion.
        self._tracker = ByteTrackTracker(
            lost_track_buffer=max(1, round(lost_s * fps)),
            frame_rate=fps,
            track_activation_threshold=max(min_score, 0.4),
            minimum_consecutive_frames=2,
            # 0.2 rather than 0.1: fewer id swaps between a passer and a person standing still
            # (chosen on walker seeds 1–3; the benchmark reports seeds 4–6)
            minimum_iou_threshold=0.2,
            high_conf_det_threshold=max(min_score, 0.4),
        )

    def update(self, persons: list[Person]) -> list[TrackedPerson]:
        """One frame's persons → those on a confirmed track. Frames are taken at the camera's
        analytics rate, so the tracker counts frames: trackers 2.6.1 given per-frame timestamps
        ends tracks of people standing still within a second or two (measured: a still person
        got a new id every ~2 s), by frame count it keeps them."""
        import supervision as sv

        if persons:
            detections = sv.Detections(
                xyxy=np.array([p.box for p in persons], np.float32),
                confidence=np.array([p.score for p in persons], np.float32),
                class_id=np.zeros(len(persons), int),
            )
        else:
            detections = sv.Detections.empty()
        tracked = self._tracker.update(detections)
        return [
            TrackedPerson(int(tid), Person(tuple(float(v) for v in box), float(score)))
            for box, score, tid in zip(tracked.xyxy, tracked.confidence, tracked.tracker_id, strict=True)
            if tid >= 0
        ]
