"""The recogniser's confidence: features that tell right reads from wrong ones, the logistic
model over them, and what the committed model gives on held-out real crops."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr_core.splits import real_crops
from lpr.recognizer import load_recognizer
from lpr.recognizer.calibration import CALIBRATION_FILE, Calibration
from lpr.recognizer.charset import INDEX_OF, NUM_CLASSES
from lpr.recognizer.confidence import FEATURE_NAMES, ConfidenceModel, glyph_peaks, reading_features
from lpr.recognizer.readings import alternative_confidences

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "recognizer"
needs_data = pytest.mark.skipif(not (SHARED_DATA / "plates").is_dir(), reason="../shared/data is absent")


def _log_probs(path: list[tuple[str | None, float]], steps: int = 80) -> np.ndarray:
    """Per-step distributions: each (char or None for blank, probability) puts that probability
    on the char and the rest on blank (or, for a blank step, on nothing else)."""
    probs = np.full((steps, NUM_CLASSES), 1e-9)
    probs[:, 0] = 1.0
    for t, (char, p) in enumerate(path):
        if char is not None:
            probs[t, INDEX_OF[char]] = p
            probs[t, 0] = 1.0 - p
    return np.log(probs / probs.sum(axis=1, keepdims=True))


def test_the_weakest_glyph_sets_the_minimum_peak_and_margin() -> None:
    # 12가3456 where 가 is seen at 0.6 over two steps (peak 0.6) and every digit at 0.99.
    path = [("1", 0.99), (None, 1), ("2", 0.99), (None, 1), ("가", 0.5), ("가", 0.6), (None, 1)]
    path += [(c, 0.99) for c in "3"] + [
        (None, 1),
        ("4", 0.99),
        (None, 1),
        ("5", 0.99),
        (None, 1),
        ("6", 0.99),
    ]
    glyphs = glyph_peaks(_log_probs(path))
    assert len(glyphs) == 7
    cls, peak, margin = min(glyphs, key=lambda g: g[1])
    assert cls == INDEX_OF["가"]
    assert abs(peak - 0.6) < 1e-6 and abs(margin - 0.2) < 1e-6  # runner-up is the blank at 0.4


def test_a_doubled_char_is_two_glyphs_only_with_a_blank_between() -> None:
    assert len(glyph_peaks(_log_probs([("5", 0.9), ("5", 0.9)]))) == 1
    assert len(glyph_peaks(_log_probs([("5", 0.9), (None, 1), ("5", 0.9)]))) == 2
    assert glyph_peaks(_log_probs([])) == []


def test_features_follow_their_names() -> None:
    charset = tuple(sorted(INDEX_OF, key=INDEX_OF.__getitem__))
    lp = _log_probs([("1", 0.99), (None, 1), ("2", 0.99), (None, 1), ("가", 0.7)])
    x = reading_features(lp, charset, [("12가", 0.9), ("12거", 0.09)], "12가", 64)
    named = dict(zip(FEATURE_NAMES, x, strict=True))
    assert abs(named["share_logit"] - math.log(0.9 / 0.1)) < 1e-9
    assert abs(named["gap"] - math.log(10)) < 1e-9
    assert abs(named["hangul_peak_logit"] - math.log(0.7 / 0.3)) < 1e-6
    assert named["greedy_agrees"] == 1.0 and named["log_height"] == 6.0


def test_logistic_fit_recovers_a_known_relationship_and_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4000, len(FEATURE_NAMES)))
    truth = 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0 * x[:, 2] + 0.5)))
    correct = rng.uniform(size=4000) < truth
    model = ConfidenceModel.fit(x, correct, l2=0.1)
    assert abs(model.weights[0] - 2.0) < 0.25 and abs(model.weights[2] + 1.0) < 0.25
    assert abs(model.weights[1]) < 0.2
    assert np.abs(model.probability(x[:200]) - truth[:200]).max() < 0.1
    calibration = Calibration.fit([0.1, 0.9] * 30, [False, True] * 30).with_model(model)
    calibration.save(tmp_path / CALIBRATION_FILE)
    assert Calibration.load(tmp_path / CALIBRATION_FILE) == calibration


def test_alternatives_share_what_the_best_reading_leaves() -> None:
    others = alternative_confidences(0.7, 0.8, [0.15, 0.05])
    assert abs(sum(others) - 0.3) < 1e-9 and abs(others[0] - 3 * others[1]) < 1e-9
    assert alternative_confidences(0.2, 0.3, [0.6]) == [0.2]  # never above the best reading
    assert sum(alternative_confidences(0.999, 1.0, [1e-4])) <= 0.001 + 1e-12


@needs_data
def test_held_out_crops_confident_reads_are_right_and_misreads_are_not_confident() -> None:
    """On real crops the model never trained on, reads at ≥ 0.95 are right (the confidence
    model was fitted on these crops, so this checks the shipped map, not generalisation: the
    cross-fitted figures are in the model card), and misreads sit far below right reads."""
    calibration = Calibration.load(MODEL_DIR / CALIBRATION_FILE)
    assert calibration.model is not None
    _, val = real_crops(SHARED_DATA / "plates")
    readings = load_recognizer().read([cv2.imread(str(c.path)) for c in val])
    confident = [(r.text == c.text) for r, c in zip(readings, val, strict=True) if r.confidence >= 0.95]
    assert len(confident) > 0.7 * len(val) and sum(confident) / len(confident) >= 0.99
    wrong = [r.confidence for r, c in zip(readings, val, strict=True) if r.text != c.text]
    right = [r.confidence for r, c in zip(readings, val, strict=True) if r.text == c.text]
    assert np.mean(wrong) < 0.7 and np.median(right) > 0.99
    assert max(r.confidence for r in readings) > 0.99  # v2's share map stopped at 0.98
