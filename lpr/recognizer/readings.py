"""From the network's per-step log-probabilities to `PlateReading`s (shared by every engine)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lpr.recognizer.calibration import Calibration
from lpr.recognizer.decode import constrained_readings
from lpr.recognizer.types import PlateReading

# Alternatives below this share are search debris (a doubled digit, say), not readings.
MIN_ALTERNATIVE_SHARE = 1e-4


def readings_from_log_probs(
    log_probs: np.ndarray, charset: Sequence[str], calibration: Calibration
) -> list[PlateReading]:
    readings = []
    for row in log_probs:
        valid, raw = constrained_readings(row, charset)
        if not valid:
            readings.append(PlateReading(None, 0.0, (), raw))
            continue
        (best, share), rest = valid[0], valid[1:]
        alternatives = tuple((t, round(calibration(p), 6)) for t, p in rest if p >= MIN_ALTERNATIVE_SHARE)
        readings.append(PlateReading(best, round(calibration(share), 6), alternatives, raw))
    return readings
