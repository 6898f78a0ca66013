"""A plate that drives out of the picture ends its track on the first frame without it; a plate
missed in the middle of the picture waits out `max_missed_s` as before (maybe an occlusion)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lpr.workers.tracker import IouTracker, Observation

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SIZE = (640, 360)


def _at(i: float) -> datetime:
    return T0 + timedelta(seconds=i / 8)


def _obs(i: int, top: float) -> Observation:
    return Observation(_at(i), (270.0, top, 370.0, min(360.0, top + 50)), 0.9, "서울12가3456", 0.9)


def test_a_plate_leaving_at_the_bottom_ends_at_the_first_frame_without_it() -> None:
    tracker = IouTracker(max_missed_s=0.4)
    tops = [120, 160, 200, 240, 280, 320]  # 40 px a frame downwards; the last box is cut at 360
    for i, top in enumerate(tops):
        assert tracker.update(_at(i), [_obs(i, top)], SIZE) == []
    ended = tracker.update(_at(len(tops)), [], SIZE)  # 1/8 s later: predicted at 360, out
    assert len(ended) == 1 and len(ended[0].observations) == len(tops)


def test_a_plate_missed_in_mid_picture_is_not_ended_early() -> None:
    tracker = IouTracker(max_missed_s=0.4)
    for i, top in enumerate([40, 60, 80, 100]):
        tracker.update(_at(i), [_obs(i, top)], SIZE)
    assert tracker.update(_at(4), [], SIZE) == []  # predicted at 120: still well in view
    assert tracker.update(_at(5), [], SIZE) == []  # two misses but only 0.25 s gone
    assert len(tracker.update(_at(8), [], SIZE)) == 1  # 0.625 s gone: ended as before


def test_without_a_frame_size_the_old_rule_applies() -> None:
    tracker = IouTracker(max_missed_s=0.4)
    for i, top in enumerate([200, 240, 280, 320]):
        tracker.update(_at(i), [_obs(i, top)])
    assert tracker.update(_at(4), []) == []


def test_a_plate_seen_once_waits_even_at_the_edge() -> None:
    # It may have just entered: ending it now would make one reading the pass's read.
    tracker = IouTracker(max_missed_s=0.4)
    tracker.update(_at(0), [_obs(0, 0)], SIZE)
    assert tracker.update(_at(1), [], SIZE) == []


def test_a_fast_plate_sampled_four_times_a_second_stays_one_track_and_another_plate_gets_its_own() -> None:
    """Between sightings 0.25 s apart the plate moves 1.5 of its widths (no overlap, misread each
    time): its motion carries the track. A plate five widths away is another vehicle."""
    t0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    tracker = IouTracker()
    texts = ["12가3456", "72나8456", "12다3450", "19가5456"]  # readings too far apart to agree
    for k, text in enumerate(texts):
        at = t0 + timedelta(seconds=0.25 * k)
        y = 100 + 90 * k  # 60 px wide plate, 90 px further down each time
        seen = [Observation(at, (600, y, 660, y + 14), 0.9, text, 0.5)]
        if k == 2:
            seen.append(Observation(at, (300, y, 360, y + 14), 0.9, "33무1234", 0.9))
        assert tracker.update(at, seen, (1280, 720)) == []
    tracks = sorted(tracker.active, key=lambda t: len(t.observations))
    assert [len(t.observations) for t in tracks] == [1, 4]
    assert [o.text for o in tracks[1].observations] == texts
