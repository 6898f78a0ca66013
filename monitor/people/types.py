"""What the person detector returns: immutable values, boxes in frame pixels."""

from __future__ import annotations

from dataclasses import dataclass


class PersonDetectorUnavailable(RuntimeError):
    """The person model is missing or cannot be opened."""


@dataclass(frozen=True)
class Person:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels
    score: float

    @property
    def foot(self) -> tuple[float, float]:
        """Where the person stands: the bottom centre of the box (for zones and the ground plane)."""
        x1, _, x2, y2 = self.box
        return ((x1 + x2) / 2, y2)

    def as_json(self) -> dict:
        return {"box": [round(v, 1) for v in self.box], "score": round(self.score, 3)}
