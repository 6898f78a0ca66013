from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in original-image pixels
    score: float


class DetectorUnavailable(RuntimeError):
    """The detector cannot run (weights missing); the message says why."""
