"""A vehicle crosses the frame over several frames; the worker must make exactly one good read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lpr.workers.tracker import IouTracker, Observation
from lpr.workers.voter import vote

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _obs(i: int, text: str | None, conf: float, x: float = 100.0, dx: float = 12.0) -> Observation:
    box = (x + i * dx, 300.0, x + i * dx + 150, 340.0)
    return Observation(T0 + timedelta(seconds=i / 8), box, 0.9, text, conf)


def test_one_vehicle_over_ten_frames_is_one_track_that_ends_when_it_leaves() -> None:
    tracker = IouTracker(max_missed_s=0.6)
    for i in range(10):
        assert tracker.update(T0 + timedelta(seconds=i / 8), [_obs(i, "12가3456", 0.9)]) == []
    assert tracker.update(T0 + timedelta(seconds=1.2), []) == []  # 0.075 s gone: maybe occluded
    ended = tracker.update(T0 + timedelta(seconds=2.0), [])
    assert len(ended) == 1 and len(ended[0].observations) == 10
    assert tracker.active == []


def test_a_seldom_sampled_camera_does_not_split_one_pass_in_two() -> None:
    tracker = IouTracker(max_missed_s=0.6)
    for i in range(0, 16, 5):  # the worker is busy: this camera is processed every 0.6 s
        assert tracker.update(T0 + timedelta(seconds=i / 8), [_obs(i, "12가3456", 0.9)]) == []
    assert tracker.expire(T0 + timedelta(seconds=3)) == []  # no frame processed since: not gone yet
    assert len(tracker.expire(T0 + timedelta(seconds=8))) == 1  # the feed stalled: stale, ended


def test_two_vehicles_side_by_side_stay_two_tracks() -> None:
    tracker = IouTracker()
    for i in range(5):
        at = T0 + timedelta(seconds=i / 8)
        tracker.update(at, [_obs(i, "12가3456", 0.9, x=50), _obs(i, "34나5678", 0.9, x=700)])
    ended = tracker.flush()
    assert sorted({o.text for o in t.observations}.pop() for t in ended) == ["12가3456", "34나5678"]


def test_a_fast_vehicle_whose_boxes_do_not_overlap_is_still_one_track() -> None:
    tracker = IouTracker()
    for i in range(4):
        tracker.update(T0 + timedelta(seconds=i / 8), [_obs(i, "12가3456", 0.9, dx=120)])
    assert len(tracker.flush()) == 1


def test_character_vote_fixes_single_misreads_and_keeps_alternatives() -> None:
    tracker = IouTracker()
    texts = ["12가3456", "12가3458", "12거3456", "12가3456", "72가3456"]
    for i, text in enumerate(texts):
        tracker.update(T0 + timedelta(seconds=i / 8), [_obs(i, text, 0.8)])
    (track,) = tracker.flush()
    result = vote(track)
    assert result is not None and result.plate == "12가3456"
    assert {alt for alt, _ in result.alternatives} <= set(texts) - {"12가3456"}
    assert 0 < result.confidence <= 0.8


def test_a_confident_reading_outvotes_several_unsure_ones() -> None:
    tracker = IouTracker()
    for i, (text, conf) in enumerate([("123가4567", 0.95), ("123가4561", 0.2), ("123가4561", 0.2)]):
        tracker.update(T0 + timedelta(seconds=i / 8), [_obs(i, text, conf)])
    result = vote(tracker.flush()[0])
    assert result is not None and result.plate == "123가4567"


def test_a_track_with_no_valid_plate_emits_nothing() -> None:
    tracker = IouTracker()
    for i, text in enumerate([None, "ABC", "1234"]):
        tracker.update(T0 + timedelta(seconds=i / 8), [_obs(i, text, 0.5)])
    assert vote(tracker.flush()[0]) is None


def test_best_frame_is_the_most_confident_reading_of_the_winning_plate() -> None:
    tracker = IouTracker()
    for i, conf in enumerate([0.5, 0.97, 0.6]):
        tracker.update(T0 + timedelta(seconds=i / 8), [_obs(i, "12가3456", conf)])
    result = vote(tracker.flush()[0])
    assert result is not None and result.best.at == T0 + timedelta(seconds=1 / 8)


def test_readings_with_zero_confidence_still_vote() -> None:
    tracker = IouTracker()
    for i in range(3):
        tracker.update(T0 + timedelta(seconds=i / 8), [_obs(i, "12가3456", 0.0)])
    result = vote(tracker.flush()[0])
    assert result is not None and result.plate == "12가3456"


def test_a_far_jump_of_the_same_plate_in_the_same_lane_is_the_same_vehicle() -> None:
    tracker = IouTracker()
    near = Observation(T0, (200, 40, 300, 60), 0.9, "12가3456", 0.9)
    far = Observation(T0 + timedelta(seconds=1), (201, 240, 301, 260), 0.9, "12가3458", 0.8)
    other = Observation(T0 + timedelta(seconds=1), (201, 380, 301, 400), 0.9, "34나5678", 0.8)
    tracker.update(near.at, [near])
    tracker.update(far.at, [far])
    assert len(tracker.active) == 1
    tracker.update(other.at + timedelta(seconds=0.1), [other])
    assert len(tracker.active) == 2  # a different plate is a different vehicle
