"""Grammar-constrained CTC decoding against exact path sums and the plate grammar."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lpr.recognizer.charset import CHARSET, INDEX_OF
from lpr.recognizer.decode import beam_search, constrained_readings, greedy_decode

TOY = ("1", "2", "3")  # with the blank, 4 classes: every class is a search candidate


def exact_ctc(log_probs: np.ndarray) -> dict[str, float]:
    """Probability of every string, summed over all CTC paths (brute force)."""
    totals: dict[str, float] = defaultdict(float)
    for path in itertools.product(range(log_probs.shape[1]), repeat=log_probs.shape[0]):
        text, previous = [], 0
        for index in path:
            if index != previous and index != 0:
                text.append(TOY[index - 1])
            previous = index
        totals["".join(text)] += math.exp(sum(log_probs[t, i] for t, i in enumerate(path)))
    return totals


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.floats(0.2, 3.0))
def test_beam_search_equals_the_exact_path_sum(seed: int, steps: int, concentration: float) -> None:
    rng = np.random.default_rng(seed)
    log_probs = np.log(rng.dirichlet(np.full(4, concentration), size=steps))
    exact = exact_ctc(log_probs)
    # A beam wide enough for every prefix and no pruning: the search must be exact.
    for text, lp in beam_search(log_probs, TOY, beam_width=10_000, prune=-math.inf):
        assert math.isclose(math.exp(lp), exact[text], rel_tol=1e-6, abs_tol=1e-12)


def spell(text: str, steps: int = 80, sure: float = 0.98) -> np.ndarray:
    """Log-probabilities that spell `text` with blanks around every character."""
    probs = np.full((steps, len(CHARSET) + 1), (1 - sure) / len(CHARSET))
    probs[:, 0] = sure
    for k, ch in enumerate(text):
        t = 4 + k * (steps - 8) // max(1, len(text))
        probs[t, :] = (1 - sure) / len(CHARSET)
        probs[t, INDEX_OF[ch]] = sure
    return np.log(probs / probs.sum(axis=1, keepdims=True))


def test_a_clearly_spelled_plate_is_read_with_a_high_share() -> None:
    valid, raw = constrained_readings(spell("12가3456"), CHARSET)
    assert raw == "12가3456"
    assert valid[0][0] == "12가3456"
    assert valid[0][1] > 0.9
    assert greedy_decode(spell("123가4567"), CHARSET)[0] == "123가4567"


def test_an_invalid_string_never_becomes_a_confident_plate() -> None:
    # Six characters with a Hangul class mark cannot complete into any Korean plate.
    valid, raw = constrained_readings(spell("12가345"), CHARSET)
    assert raw == "12가345"
    assert all(share < 0.5 for _, share in valid)


def test_a_doubt_between_two_characters_yields_both_as_alternatives() -> None:
    log_probs = np.exp(spell("34나7788"))
    t = 4 + 2 * 72 // 7  # the step carrying the Hangul class mark
    log_probs[t, :] = 0.0005
    log_probs[t, INDEX_OF["나"]], log_probs[t, INDEX_OF["너"]] = 0.6, 0.35
    valid, _ = constrained_readings(np.log(log_probs / log_probs.sum(axis=1, keepdims=True)), CHARSET)
    texts = [text for text, _ in valid]
    assert texts[:2] == ["34나7788", "34너7788"]
    assert valid[0][1] > valid[1][1] > 0.2


def test_repeated_characters_need_a_blank_between_them() -> None:
    # "7788" spelled as 7,7 on adjacent steps collapses to one 7: the search must keep both apart.
    valid, _ = constrained_readings(spell("34나7788"), CHARSET)
    assert valid[0][0] == "34나7788"


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 5))
def test_runs_of_certain_blanks_are_merged_without_changing_the_result(seed: int, busy: int) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(busy):
        rows.append(rng.dirichlet(np.full(4, 0.7)))
        rows += [np.array([1.0, 1e-12, 1e-12, 1e-12])] * int(rng.integers(0, 3))
    log_probs = np.log(np.array(rows) / np.array(rows).sum(axis=1, keepdims=True))
    exact = exact_ctc(log_probs) if len(rows) <= 8 else None
    merged = dict(beam_search(log_probs, TOY, beam_width=10_000, prune=-20.0))
    unpruned = dict(beam_search(log_probs, TOY, beam_width=10_000, prune=-math.inf))
    for text, lp in merged.items():
        # Pruning drops only paths through classes of probability 1e-12, nothing more.
        assert math.isclose(math.exp(lp), math.exp(unpruned[text]), abs_tol=1e-9)
        if exact is not None:
            assert math.isclose(math.exp(lp), exact[text], abs_tol=1e-9)
