"""Vote over a track's readings: one plate per pass, character by character.

Each reading votes with its confidence. The winning length is chosen first (readings of other
lengths are usually a dropped or doubled character), then each position's character; the
result must parse as a Korean plate, otherwise the best whole reading that does parse wins.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from anpr_core.plates import InvalidPlate, parse_plate
from lpr.workers.tracker import Observation, Track


@dataclass(frozen=True)
class Vote:
    plate: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]
    best: Observation


def _canonical(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return parse_plate(text).text
    except InvalidPlate:
        return None


def _weight(o: Observation) -> float:
    return max(o.confidence, 0.01)


def vote(track: Track, min_readings: int = 1, max_alternatives: int = 3) -> Vote | None:
    """The plate of one pass, or None when no reading in the track is a valid plate."""
    readings = [(o, _canonical(o.text)) for o in track.observations]
    # A reading with confidence 0 still counts a little, so weights never sum to zero.
    valid = [(o, text) for o, text in readings if text is not None]
    if len(valid) < min_readings:
        return None
    by_length: dict[int, float] = defaultdict(float)
    for o, text in valid:
        by_length[len(text)] += _weight(o)
    length = max(by_length, key=lambda n: by_length[n])
    positions: list[dict[str, float]] = [defaultdict(float) for _ in range(length)]
    for o, text in valid:
        if len(text) == length:
            for i, ch in enumerate(text):
                positions[i][ch] += _weight(o)
    voted = "".join(max(p, key=lambda ch: p[ch]) for p in positions)
    whole: dict[str, float] = defaultdict(float)
    for o, text in valid:
        whole[text] += _weight(o)
    plate = _canonical(voted) or max(whole, key=lambda t: whole[t])
    total = sum(whole.values())
    # Per-character agreement, so one unsure glyph lowers the read's confidence.
    agreement = min(
        (p[plate[i]] / sum(p.values()) if i < len(plate) and len(plate) == length else 0.0)
        for i, p in enumerate(positions)
    )
    winners = [o.confidence for o, t in valid if t == plate]
    mean_conf = sum(winners) / len(winners) if winners else 0.0
    confidence = round(max(0.0, min(1.0, agreement * (mean_conf or max(o.confidence for o, _ in valid)))), 4)
    alternatives = tuple(
        (text, round(weight / total, 4))
        for text, weight in sorted(whole.items(), key=lambda kv: -kv[1])
        if text != plate
    )[:max_alternatives]
    best = max(
        (o for o, t in valid if t == plate),
        default=max(valid, key=lambda v: v[0].confidence)[0],
        key=lambda o: o.confidence * o.score,
    )
    return Vote(plate, confidence, alternatives, best)
