"""CTC decoding: greedy, and grammar-constrained beam search over valid Korean plates."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from anpr_core.plates import try_parse_plate


def greedy_decode(log_probs: np.ndarray, charset: Sequence[str]) -> tuple[str, float]:
    """Best path: argmax per step, collapse repeats, drop blanks. Returns (text, path prob)."""
    best = log_probs.argmax(axis=1)
    text, previous = [], 0
    for index in best:
        if index != previous and index != 0:
            text.append(charset[index - 1])
        previous = index
    return "".join(text), float(math.exp(log_probs.max(axis=1).sum()))


def _logaddexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    high, low = (a, b) if a > b else (b, a)
    return high + math.log1p(math.exp(low - high))


def beam_search(
    log_probs: np.ndarray, charset: Sequence[str], beam_width: int = 10, prune: float = -6.0
) -> list[tuple[str, float]]:
    """CTC prefix beam search; returns (text, log-probability) for the final beams, best first.

    Characters below `prune` (log-probability) at a step are ignored: with a well-trained
    model most steps offer one or two candidates, which keeps the search around a millisecond.
    """
    beams: dict[str, tuple[float, float]] = {"": (0.0, -math.inf)}  # prefix → (blank, non-blank)
    # At most the 4 likeliest classes per step, and only those above `prune`.
    top = np.argsort(-log_probs, axis=1)[:, :4]
    steps = [
        [(int(i), float(row[i])) for i in order if row[i] > prune]
        for row, order in zip(log_probs, top, strict=True)
    ]
    for candidates in steps:
        if len(candidates) == 1 and candidates[0][0] == 0:
            # Only blank is plausible here (most steps): every beam just absorbs it.
            blank = candidates[0][1]
            beams = {prefix: (_logaddexp(b, nb) + blank, -math.inf) for prefix, (b, nb) in beams.items()}
            continue
        next_beams: dict[str, list[float]] = {}
        for prefix, (p_blank, p_non_blank) in beams.items():
            total = _logaddexp(p_blank, p_non_blank)
            for index, p in candidates:
                if index == 0:
                    entry = next_beams.setdefault(prefix, [-math.inf, -math.inf])
                    entry[0] = _logaddexp(entry[0], total + p)
                    continue
                char = charset[index - 1]
                extended = prefix + char
                entry = next_beams.setdefault(extended, [-math.inf, -math.inf])
                if prefix and prefix[-1] == char:
                    # A repeated character needs a blank in between; otherwise it continues.
                    entry[1] = _logaddexp(entry[1], p_blank + p)
                    same = next_beams.setdefault(prefix, [-math.inf, -math.inf])
                    same[1] = _logaddexp(same[1], p_non_blank + p)
                else:
                    entry[1] = _logaddexp(entry[1], total + p)
        ranked = sorted(next_beams.items(), key=lambda kv: -_logaddexp(kv[1][0], kv[1][1]))[:beam_width]
        beams = {prefix: (b, nb) for prefix, (b, nb) in ranked}
    final = [(prefix, _logaddexp(b, nb)) for prefix, (b, nb) in beams.items()]
    return sorted(final, key=lambda item: -item[1])


def constrained_readings(
    log_probs: np.ndarray, charset: Sequence[str], beam_width: int = 24, top_k: int = 5
) -> tuple[list[tuple[str, float]], str]:
    """Valid plates among the beams with their posterior share, and the unconstrained best.

    A plate's confidence is its probability divided by the probability of all beams found
    (valid or not): when the model's belief sits on strings that are not plates, every valid
    reading gets a low share, so an unreadable crop never yields a confident plate.
    """
    beams = beam_search(log_probs, charset, beam_width)
    raw = beams[0][0] if beams else ""
    norm = -math.inf
    for _, lp in beams:
        norm = _logaddexp(norm, lp)
    valid: list[tuple[str, float]] = []
    for text, lp in beams:
        plate = try_parse_plate(text)
        if plate is not None and plate.text == text:
            valid.append((text, math.exp(lp - norm)))
    return valid[:top_k], raw
