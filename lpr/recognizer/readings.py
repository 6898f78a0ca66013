"""From the network's per-step log-probabilities to `PlateReading`s (shared by every engine)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lpr.recognizer.calibration import Calibration
from lpr.recognizer.confidence import reading_features
from lpr.recognizer.decode import constrained_readings
from lpr.recognizer.types import PlateReading

# Alternatives below this share are search debris (a doubled digit, say), not readings.
MIN_ALTERNATIVE_SHARE = 1e-4


def alternative_confidences(
    best_confidence: float, best_share: float, alternative_shares: Sequence[float]
) -> list[float]:
    """The chance each alternative is the plate: what the best reading leaves (1 − confidence),
    split among the other beams in proportion to their shares, never above the best reading."""
    rest = max(1.0 - best_share, sum(alternative_shares), 1e-12)
    return [min(best_confidence, (1.0 - best_confidence) * s / rest) for s in alternative_shares]


def readings_from_log_probs(
    log_probs: np.ndarray,
    charset: Sequence[str],
    calibration: Calibration,
    crop_heights: Sequence[int] | None = None,
) -> list[PlateReading]:
    """One reading per crop. `crop_heights` (pixels, before resizing) feed the confidence model;
    without them the network's input height stands in."""
    readings = []
    for i, row in enumerate(log_probs):
        valid, raw = constrained_readings(row, charset)
        if not valid:
            readings.append(PlateReading(None, 0.0, (), raw))
            continue
        (best, share), rest = valid[0], valid[1:]
        rest = [(t, p) for t, p in rest if p >= MIN_ALTERNATIVE_SHARE]
        if calibration.model is not None:
            height = crop_heights[i] if crop_heights is not None else 48
            confidence = calibration.model(reading_features(row, charset, valid, raw, height))
            others = alternative_confidences(confidence, share, [p for _, p in rest])
        else:
            confidence = calibration(share)
            others = [calibration(p) for _, p in rest]
        alternatives = tuple((t, round(c, 6)) for (t, _), c in zip(rest, others, strict=True))
        readings.append(PlateReading(best, round(confidence, 6), alternatives, raw))
    return readings
