"""The evaluation's character accounting: correct characters and substitution pairs."""

from __future__ import annotations

from lpr.recognizer.evaluate import char_pairs


def test_substitutions_are_paired_true_to_read() -> None:
    assert char_pairs("12가3456", "12거3456") == (6, [("가", "거")])
    assert char_pairs("59무4474", "59루4474") == (6, [("무", "루")])


def test_insertions_and_deletions_count_no_pair() -> None:
    correct, pairs = char_pairs("93가7319", "893가7319")
    assert correct == 7 and pairs == []
    correct, pairs = char_pairs("12가3456", "")
    assert correct == 0 and pairs == []
