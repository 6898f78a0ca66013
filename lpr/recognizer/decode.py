"""CTC decoding: greedy, and grammar-constrained beam search over valid Korean plates."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from anpr_core.plates import try_parse_plate

CANDIDATES_PER_STEP = 4  # classes a step may contribute to the search (the likeliest ones)


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


def _search_steps(log_probs: np.ndarray, prune: float) -> list[list[tuple[int, float]]]:
    """The steps the search must visit, each as (class, log-prob) candidates.

    Steps where only the blank is plausible (most of the 80) are merged with their neighbours
    into one blank-only step whose log-probability is the sum: absorbing blanks one after the
    other does exactly that to every beam, and it saves the Python loop most of its work.
    """
    plausible = log_probs > prune
    blank_only = plausible[:, 0] & (plausible.sum(axis=1) == 1)
    steps: list[list[tuple[int, float]]] = []
    pending_blank = 0.0
    busy = np.flatnonzero(~blank_only)
    top = np.argsort(-log_probs[busy], axis=1)[:, :CANDIDATES_PER_STEP] if busy.size else None
    blank_column = log_probs[:, 0]
    previous = 0
    for k, t in enumerate(busy):
        pending_blank += float(blank_column[previous:t][blank_only[previous:t]].sum())
        if pending_blank:
            steps.append([(0, pending_blank)])
            pending_blank = 0.0
        assert top is not None
        row = log_probs[t]
        steps.append([(int(i), float(row[i])) for i in top[k] if row[i] > prune])
        previous = t + 1
    tail = float(blank_column[previous:][blank_only[previous:]].sum())
    if tail:
        steps.append([(0, tail)])
    return steps


def beam_search(
    log_probs: np.ndarray, charset: Sequence[str], beam_width: int = 10, prune: float = -6.0
) -> list[tuple[str, float]]:
    """CTC prefix beam search; returns (text, log-probability) for the final beams, best first.

    Characters below `prune` (log-probability) at a step are ignored: with a well-trained
    model most steps offer one or two candidates, which keeps the search well under a
    millisecond.
    """
    beams: dict[str, tuple[float, float]] = {"": (0.0, -math.inf)}  # prefix → (blank, non-blank)
    for candidates in _search_steps(log_probs, prune):
        if len(candidates) == 1 and candidates[0][0] == 0:
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

    A plate's share is its probability divided by the probability of all beams found
    (valid or not): when the model's belief sits on strings that are not plates, every valid
    reading gets a low share, so an unreadable crop never yields a confident plate. The share
    is turned into a calibrated probability by `lpr.recognizer.calibration`.
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
