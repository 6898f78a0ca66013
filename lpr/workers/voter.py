"""Vote over a track's readings: one plate per pass, field by field, character by character.

Each reading votes with its confidence. Readings are aligned by the plate's grammar, not by
string position: `서울12가3456` and `12가3456` (the same regional plate with its small top row
missed) share the class digits `12`, the use character `가` and the serial `3456`, so both vote
for those, and only the region is in dispute. Fields: the region (or none), the class digits
(their length first: 1–2 after a region, 2–3 without), the use character and each serial digit.
Diplomatic plates (`외교123045`) have their own layout and vote position by position among
themselves. The result must parse as a Korean plate, otherwise the best whole reading wins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from anpr_core.plates import InvalidPlate, Plate, PlateFormat, parse_plate
from lpr.workers.tracker import Observation, Track


@dataclass(frozen=True)
class Vote:
    plate: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]
    best: Observation


def _parse(text: str | None) -> Plate | None:
    if not text:
        return None
    try:
        return parse_plate(text)
    except InvalidPlate:
        return None


def _canonical(text: str | None) -> str | None:
    plate = _parse(text)
    return plate.text if plate else None


def _weight(o: Observation) -> float:
    # A reading with confidence 0 still counts a little, so weights never sum to zero.
    return max(o.confidence, 0.01)


class _Ballot:
    """Weighted votes for one field; `share` is the winner's part of all votes cast."""

    def __init__(self, votes: Iterable[tuple[Hashable, float]]) -> None:
        self.weights: dict[Hashable, float] = defaultdict(float)
        for value, weight in votes:
            self.weights[value] += weight

    def winner(self) -> Hashable:
        return max(self.weights, key=lambda v: self.weights[v])

    def share(self) -> float:
        total = sum(self.weights.values())
        return self.weights[self.winner()] / total if total else 0.0


def _by_position(texts: list[tuple[str, float]]) -> tuple[str, float]:
    """Character-wise vote among texts of the same length: (text, lowest share of a position)."""
    if not texts:
        return "", 1.0
    ballots = [_Ballot((t[i], w) for t, w in texts) for i in range(len(texts[0][0]))]
    return "".join(str(b.winner()) for b in ballots), min((b.share() for b in ballots), default=1.0)


def _by_field(valid: list[tuple[Observation, Plate]]) -> tuple[str, float]:
    """Korean national plates, aligned by field: (voted text, lowest share of a field)."""
    region = _Ballot((p.region, _weight(o)) for o, p in valid)
    chosen_region = region.winner()
    allowed = {1, 2} if chosen_region else {2, 3}
    lengths = _Ballot((len(p.class_digits), _weight(o)) for o, p in valid if len(p.class_digits) in allowed)
    if not lengths.weights:  # nobody read a class length that fits: take the region's readings' view
        lengths = _Ballot((len(p.class_digits), _weight(o)) for o, p in valid if p.region == chosen_region)
    length = lengths.winner()
    class_digits, class_share = _by_position(
        [(p.class_digits, _weight(o)) for o, p in valid if len(p.class_digits) == length]
    )
    use = _Ballot((p.use_char, _weight(o)) for o, p in valid)
    serial, serial_share = _by_position([(p.serial, _weight(o)) for o, p in valid])
    text = f"{chosen_region or ''}{class_digits}{use.winner()}{serial}"
    return text, min(region.share(), lengths.share(), class_share, use.share(), serial_share)


def vote(track: Track, min_readings: int = 1, max_alternatives: int = 3) -> Vote | None:
    """The plate of one pass, or None when no reading in the track is a valid plate."""
    parsed = [(o, _parse(o.text)) for o in track.observations]
    valid = [(o, p) for o, p in parsed if p is not None]
    if len(valid) < min_readings or not valid:
        return None
    diplomatic = [(o, p) for o, p in valid if p.format is PlateFormat.DIPLOMATIC]
    national = [(o, p) for o, p in valid if p.format is not PlateFormat.DIPLOMATIC]
    if sum(_weight(o) for o, _ in diplomatic) > sum(_weight(o) for o, _ in national):
        voted, agreement = _by_position([(p.text, _weight(o)) for o, p in diplomatic])
    else:
        voted, agreement = _by_field(national)
    whole: dict[str, float] = defaultdict(float)
    for o, p in valid:
        whole[p.text] += _weight(o)
    plate = _canonical(voted)
    if plate is None:
        plate, agreement = max(whole, key=lambda t: whole[t]), 0.0
    total = sum(whole.values())
    winners = [o.confidence for o, p in valid if p.text == plate]
    mean_conf = sum(winners) / len(winners) if winners else 0.0
    # Per-field agreement, so one unsure glyph lowers the read's confidence.
    confidence = round(max(0.0, min(1.0, agreement * (mean_conf or max(o.confidence for o, _ in valid)))), 4)
    alternatives = tuple(
        (text, round(weight / total, 4))
        for text, weight in sorted(whole.items(), key=lambda kv: -kv[1])
        if text != plate
    )[:max_alternatives]
    best = max(
        (o for o, p in valid if p.text == plate),
        default=max(valid, key=lambda v: v[0].confidence)[0],
        key=lambda o: o.confidence * o.score,
    )
    return Vote(plate, confidence, alternatives, best)
