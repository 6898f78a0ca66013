"""The recogniser's contract: what a reading is, what a recogniser does, how it says it cannot run.

Its own module (like `lpr/detector/types.py`) so the engines and the package's face both import
it and neither imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class PlateReading:
    text: str | None  # canonical valid plate, or None when the crop is unreadable
    confidence: float  # probability that `text` is exactly right, 0..1
    alternatives: tuple[tuple[str, float], ...]  # other valid plates, most likely first
    raw_text: str  # the unconstrained best decode, for debugging


class RecognizerUnavailable(RuntimeError):
    """The recogniser cannot run (weights missing, engine not installed); the message says why."""


class PlateRecognizer(Protocol):
    def read(self, crops: Sequence[np.ndarray]) -> list[PlateReading]: ...
