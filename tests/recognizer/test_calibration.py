"""The isotonic calibration of beam shares and the recogniser's use of it."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from lpr.recognizer import load_recognizer
from lpr.recognizer.calibration import Calibration


def test_fitted_map_is_monotone_and_matches_observed_precision() -> None:
    rng = np.random.default_rng(3)
    shares = rng.uniform(0, 1, 2000)
    # Ground truth: a read with share s is right with probability s**2 (over-confident shares).
    correct = rng.uniform(0, 1, 2000) < shares**2
    mapping = Calibration.fit(shares.tolist(), correct.tolist())
    grid = [mapping(s) for s in np.linspace(0, 1, 101)]
    assert all(b >= a for a, b in itertools.pairwise(grid))
    assert mapping(0.0) == 0.0
    for s in (0.3, 0.6, 0.9):
        assert abs(mapping(s) - s**2) < 0.1


def test_a_few_lucky_top_reads_do_not_make_the_top_certain() -> None:
    shares = [0.5] * 60 + [0.99] * 95 + [1.0] * 5
    correct = [True] * 40 + [False] * 20 + [True] * 93 + [False] * 2 + [True] * 5
    assert Calibration.fit(shares, correct)(1.0) < 0.99


def test_calibration_round_trips_through_its_file(tmp_path: Path) -> None:
    mapping = Calibration.fit([0.1, 0.5, 0.9] * 20, [False, True, True] * 20, note="test")
    mapping.save(tmp_path / "calibration.json")
    assert Calibration.load(tmp_path / "calibration.json") == mapping
    assert Calibration.load(tmp_path / "absent.json")(0.7) == 0.7  # identity when none was fitted


def test_committed_recogniser_confidences_are_probabilities_and_alternatives_are_ranked() -> None:
    noise = np.random.default_rng(0).integers(0, 255, (60, 200, 3), dtype=np.uint8)
    for reading in load_recognizer().read([noise, np.full((50, 180, 3), 255, np.uint8)]):
        assert 0.0 <= reading.confidence <= 1.0
        confidences = [reading.confidence] + [c for _, c in reading.alternatives]
        assert confidences == sorted(confidences, reverse=True)
        assert reading.text is None or reading.confidence < 0.5


def test_tied_shares_share_one_knot_whatever_their_order() -> None:
    # 100 reads tie at share 1.0, 90 right: the map must say 0.9 however the ties are sorted.
    shares = [0.2] * 50 + [1.0] * 100
    correct = [False] * 40 + [True] * 10 + [True] * 45 + [False] * 10 + [True] * 45
    assert abs(Calibration.fit(shares, correct)(1.0) - 0.9) < 1e-6
