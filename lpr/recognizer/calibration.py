"""Calibration of the decoder's output into the probability that a reading is exactly right.

The beam share (a plate's part of the probability of all beams found) ranks readings well but
is over-confident: the network is sure of itself on many crops it gets wrong. Two maps, stored
next to the weights (`calibration.json`) because they belong to them:

* `model` (v3 onwards): a logistic model over per-reading features (beam share, gap to the next
  valid plate, the weakest glyph's peak and margin, crop size; `lpr.recognizer.confidence`),
  fitted on held-out real crops by `training/recognizer/fit_confidence.py`. When present it
  gives the best reading's confidence.
* `shares`/`probabilities`: an isotonic (monotone, non-parametric) map of the share alone, the
  older calibration, used when no model is stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lpr.recognizer.confidence import ConfidenceModel

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    shares: tuple[float, ...]  # increasing knots of beam share
    probabilities: tuple[float, ...]  # non-decreasing precision observed at each knot
    note: str = ""
    model: ConfidenceModel | None = None  # the feature model; None: the share map alone

    def __call__(self, share: float) -> float:
        if not self.shares:
            return share
        return float(np.interp(share, self.shares, self.probabilities))

    @classmethod
    def identity(cls) -> Calibration:
        return cls((), (), "identity: no calibration fitted")

    @classmethod
    def fit(
        cls, shares: Sequence[float], correct: Sequence[bool], note: str = "", min_group: int = 25
    ) -> Calibration:
        """Pool-adjacent-violators isotonic regression of correctness on share.

        Reads are first grouped (at least `min_group` consecutive ones by share) so that no knot
        rests on a handful of crops: without it the top few reads, all right by chance, would
        map the highest share to a certainty the data cannot show. Each pooled block becomes one
        knot at its mean share; (0, 0) anchors the bottom: a zero share is never right.
        """
        order = np.argsort(np.asarray(shares, dtype=np.float64), kind="stable")
        xs = np.asarray(shares, dtype=np.float64)[order]
        ys = np.asarray(correct, dtype=np.float64)[order]
        blocks: list[list[float]] = []  # [sum share, sum correct, count]
        start = 0
        while start < len(xs):
            stop = len(xs) if len(xs) - start < 2 * min_group else start + min_group
            # Equal shares stay in one group (many reads tie at a share of exactly 1.0): splitting
            # ties would let the sort order, not the data, decide a knot's precision.
            while 0 < stop < len(xs) and xs[stop] == xs[stop - 1]:
                stop += 1
            blocks.append([float(xs[start:stop].sum()), float(ys[start:stop].sum()), float(stop - start)])
            start = stop
        if len(blocks) > 1 and blocks[-1][2] < min_group:  # a short tail left behind by ties
            tail = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], tail, strict=True)]
        pooled: list[list[float]] = []
        for block in blocks:
            pooled.append(block)
            while len(pooled) > 1 and pooled[-2][1] / pooled[-2][2] >= pooled[-1][1] / pooled[-1][2]:
                x2, y2, n2 = pooled.pop()
                pooled[-1] = [pooled[-1][0] + x2, pooled[-1][1] + y2, pooled[-1][2] + n2]
        knots = [(0.0, 0.0)] + [(sx / n, sy / n) for sx, sy, n in pooled]
        # Blocks at the same mean share (ties) keep the higher precision, then stay monotone.
        merged: dict[float, float] = {}
        for x, y in knots:
            merged[x] = max(y, merged.get(x, 0.0))
        xs_out = sorted(merged)
        ys_out = np.maximum.accumulate([merged[x] for x in xs_out]).tolist()
        return cls(tuple(round(float(x), 6) for x in xs_out), tuple(round(float(y), 6) for y in ys_out), note)

    def with_model(self, model: ConfidenceModel | None) -> Calibration:
        return Calibration(self.shares, self.probabilities, self.note, model)

    def save(self, path: Path) -> None:
        payload: dict[str, object] = {
            "shares": self.shares, "probabilities": self.probabilities, "note": self.note
        }  # fmt: skip
        if self.model is not None:
            payload["model"] = self.model.to_json()
        path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Calibration:
        if not path.is_file():
            return cls.identity()
        payload = json.loads(path.read_text(encoding="utf-8"))
        model = ConfidenceModel.from_json(payload["model"]) if "model" in payload else None
        return cls(tuple(payload["shares"]), tuple(payload["probabilities"]), payload.get("note", ""), model)
