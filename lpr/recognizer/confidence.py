"""Honest confidence: the probability that a reading is exactly right, from signals that tell
right reads from wrong ones.

The beam share alone (a plate's part of the probability of all beams) saturates: v2 gives
most misreads, like most right reads, a share above 0.998, so any map of the share alone tops
out at the precision of that crowd (0.98). What does separate them is local: a misread almost
always hangs on one glyph (우/두/루, 무/부, 오/호 ...) that the network saw with a lower peak
probability, a smaller margin over the runner-up class, or a second valid plate close behind,
and it happens more on small crops. `reading_features` measures those per reading; a logistic
model over them (`ConfidenceModel`, fitted on held-out real crops by
`training/recognizer/fit_confidence.py`, stored in `calibration.json` next to the weights)
turns them into a probability.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Feature order is part of the stored model (calibration.json names them).
FEATURE_NAMES = (
    "share_logit",  # logit of the best valid plate's beam share
    "gap",  # log(share of best) - log(share of the next valid plate)
    "min_peak_logit",  # logit of the lowest per-glyph peak probability on the best path
    "min_margin",  # lowest per-glyph (peak - runner-up class) probability
    "hangul_peak_logit",  # logit of the peak probability of the use character (한글) glyph
    "greedy_agrees",  # 1 when the unconstrained best path is the plate itself
    "log_height",  # log2 of the crop height in pixels (small crops are misread more)
)
_EPS = 1e-6
_CLIP = 12.0


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1 - _EPS)
    return max(-_CLIP, min(_CLIP, math.log(p / (1 - p))))


def glyph_peaks(log_probs: np.ndarray) -> list[tuple[int, float, float]]:
    """The glyphs of the best (greedy) path: (class, peak probability, margin).

    A glyph is a run of steps whose argmax is the same non-blank class; its peak is the
    highest probability that class reaches in the run, and its margin the largest gap, at one
    of the run's steps, between that class and the next most likely class (blank included: a
    glyph barely above blank is as doubtful as one barely above another glyph). Vectorised:
    it runs on every crop the workers read.
    """
    best = log_probs.argmax(axis=1)
    busy = np.flatnonzero(best != 0)  # most of the 80 steps are blank: only these matter
    if busy.size == 0:
        return []
    classes = best[busy]
    # A new glyph starts where the class changes or a blank came in between.
    starts = np.flatnonzero(np.r_[True, (np.diff(busy) > 1) | (np.diff(classes) != 0)])
    rows = np.exp(log_probs[busy])
    top2 = np.partition(rows, -2, axis=1)[:, -2:]  # runner-up, best (probabilities)
    peaks = np.maximum.reduceat(top2[:, 1], starts)
    margins = np.maximum.reduceat(top2[:, 1] - top2[:, 0], starts)
    return list(zip(classes[starts].tolist(), peaks.tolist(), margins.tolist(), strict=True))


def reading_features(
    log_probs: np.ndarray,
    charset: Sequence[str],
    valid: Sequence[tuple[str, float]],
    raw_text: str,
    crop_height: int,
) -> np.ndarray:
    """The `FEATURE_NAMES` of one reading (the best valid plate `valid[0]`)."""
    text, share = valid[0]
    second = valid[1][1] if len(valid) > 1 else 0.0
    glyphs = glyph_peaks(log_probs)
    peaks = [p for _, p, _ in glyphs] or [0.0]
    margins = [m for _, _, m in glyphs] or [0.0]
    hangul = [p for c, p, _ in glyphs if not charset[c - 1].isdigit()]
    return np.array(
        [
            _logit(share),
            min(math.log(max(share, _EPS)) - math.log(max(second, _EPS)), _CLIP),
            _logit(min(peaks)),
            min(margins),
            _logit(min(hangul)) if hangul else -_CLIP,
            1.0 if raw_text == text else 0.0,
            math.log2(max(crop_height, 4)),
        ],
        dtype=np.float64,
    )


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic regression on standardised features: P(reading exactly right)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    note: str = ""

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for a (n, features) array (or one feature vector)."""
        z = (np.atleast_2d(x) - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.bias)))

    def __call__(self, x: Sequence[float]) -> float:
        """One reading's probability, in plain floats (the workers call this for every crop)."""
        logit = self.bias + sum(
            w * (v - m) / s for v, m, s, w in zip(x, self.mean, self.scale, self.weights, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        correct: Sequence[bool],
        l2: float = 1.0,
        sample_weight: Sequence[float] | None = None,
        note: str = "",
        features: tuple[str, ...] = FEATURE_NAMES,
    ) -> ConfidenceModel:
        """Maximum-likelihood logistic regression with an L2 penalty (Newton's method).

        The penalty keeps the weights modest: the fitting sets hold a few dozen misreads, and
        an unpenalised fit would push the top of the scale to a certainty they cannot show.
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(correct, dtype=np.float64)
        w_s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-9] = 1.0
        z = np.hstack([(x - mean) / scale, np.ones((len(y), 1))])
        beta = np.zeros(z.shape[1])
        beta[-1] = math.log((y.mean() + 1e-3) / (1 - y.mean() + 1e-3))
        penalty = np.full(z.shape[1], l2)
        penalty[-1] = 0.0  # the bias is not shrunk
        for _ in range(100):
            p = 1.0 / (1.0 + np.exp(-(z @ beta)))
            gradient = z.T @ (w_s * (y - p)) - penalty * beta
            hessian = (z * (w_s * p * (1 - p))[:, None]).T @ z + np.diag(penalty)
            step = np.linalg.solve(hessian, gradient)
            beta += step
            if np.abs(step).max() < 1e-8:
                break
        return cls(
            features,
            tuple(round(float(v), 6) for v in mean),
            tuple(round(float(v), 6) for v in scale),
            tuple(round(float(v), 6) for v in beta[:-1]),
            round(float(beta[-1]), 6),
            note,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "bias": self.bias,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, payload: dict[str, object]) -> ConfidenceModel:
        features = tuple(payload["features"])  # type: ignore[arg-type]
        if features != FEATURE_NAMES:
            raise ValueError(f"confidence model features {features} are not this decoder's {FEATURE_NAMES}")
        return cls(
            features,
            tuple(payload["mean"]),  # type: ignore[arg-type]
            tuple(payload["scale"]),  # type: ignore[arg-type]
            tuple(payload["weights"]),  # type: ignore[arg-type]
            float(payload["bias"]),  # type: ignore[arg-type]
            str(payload.get("note", "")),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
