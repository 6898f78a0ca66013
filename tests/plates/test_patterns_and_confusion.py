"""Patterns for search and the watchlist, and the OCR-confusion model."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anpr_core.plates import ConfusionModel, InvalidPattern, PatternKind, PlatePattern, random_plate


@pytest.mark.parametrize(
    ("pattern", "kind", "matches", "misses"),
    [
        ("12가34??", PatternKind.WILDCARD, ["12가3456", "12가3400"], ["12가3556", "123가3456"]),
        ("*3456", PatternKind.SUFFIX, ["12가3456", "서울12가3456"], ["12가3457"]),
        ("12가*", PatternKind.PREFIX, ["12가3456", "12가0000"], ["13가3456"]),
        ("12 가 3456", PatternKind.EXACT, ["12가3456"], ["12가3457"]),
    ],
)
def test_patterns_match_what_they_say(
    pattern: str, kind: PatternKind, matches: list[str], misses: list[str]
) -> None:
    compiled = PlatePattern.compile(pattern)
    assert compiled.kind is kind
    assert all(compiled.matches(m) for m in matches)
    assert not any(compiled.matches(m) for m in misses)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("", "empty"), ("*", "at least two fixed characters"), ("?1*", "at least two"), ("12가#456", "#")],
)
def test_invalid_patterns_are_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(InvalidPattern) as err:
        PlatePattern.compile(pattern)
    assert reason in err.value.reason


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32), st.data())
def test_a_plate_with_characters_replaced_by_question_marks_matches_its_pattern(
    seed: int, data: st.DataObject
) -> None:
    text = random_plate(random.Random(seed)).text
    hidden = data.draw(st.sets(st.integers(0, len(text) - 1), max_size=len(text) - 2))
    pattern = "".join("?" if i in hidden else ch for i, ch in enumerate(text))
    assert PlatePattern.compile(pattern).matches(text)


model = ConfusionModel.default()


def test_shape_confusions_are_cheaper_than_unrelated_characters() -> None:
    assert model.substitution_cost("0", "8") < model.substitution_cost("0", "4")
    assert model.substitution_cost("1", "7") < 0.5
    assert model.substitution_cost("머", "버") < model.substitution_cost("머", "하")
    assert model.substitution_cost("오", "우") < 0.5


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 2**32))
def test_distance_is_a_symmetric_metric_on_plates(seed_a: int, seed_b: int) -> None:
    a, b = random_plate(random.Random(seed_a)).text, random_plate(random.Random(seed_b)).text
    assert model.distance(a, a) == 0
    assert model.distance(a, b) == pytest.approx(model.distance(b, a))
    assert (model.distance(a, b) == 0) == (a == b)
    assert model.distance(a, b) <= max(len(a), len(b))


def test_one_misread_digit_is_a_short_distance() -> None:
    assert model.distance("12가3456", "12가8456") == pytest.approx(0.35)
    assert model.distance("12가3456", "12가3456") == 0
    assert model.distance("12가3456", "123가3456") == 1.0  # one inserted digit


def test_candidates_start_with_the_read_and_are_valid_plates() -> None:
    candidates = model.candidates("12가3456", max_cost=0.5)
    assert candidates[0] == ("12가3456", 0.0)
    assert ("12가8456", 0.35) in candidates
    costs = [cost for _, cost in candidates]
    assert costs == sorted(costs)
    assert all(cost <= 0.5 for cost in costs)


def test_fit_makes_observed_confusions_cheap_and_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fitted = ConfusionModel.fit({("4", "9"): 20, ("가", "기"): 0}, {"4": 100})
    assert fitted.substitution_cost("4", "9") < model.substitution_cost("4", "9")
    assert fitted.substitution_cost("1", "7") == model.substitution_cost("1", "7")
    path = tmp_path / "costs.json"
    fitted.save(path)
    assert ConfusionModel.load(path).substitution_cost("9", "4") == pytest.approx(
        fitted.substitution_cost("4", "9"), abs=1e-4
    )


def test_a_text_no_plate_shape_fits_is_refused_before_any_enumeration() -> None:
    assert model.candidates("888888888888", max_cost=2.0, limit=200) == []
    assert not model.could_be_plate("88888888", max_cost=2.0)  # 8 digits: no use character
    assert model.could_be_plate("12가3456", max_cost=0.1)


def test_candidate_enumeration_stops_at_its_budget_and_keeps_exact_costs() -> None:
    few = model.candidates("서울12가3456", max_cost=2.0, limit=200, budget=10)
    assert 0 < len(few) <= 10
    for plate, cost in model.candidates("123가4567", max_cost=2.0, limit=200):
        assert cost == pytest.approx(model.distance("123가4567", plate), abs=1e-6)
