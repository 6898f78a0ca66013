"""The label audit finds labels that contradict each other and confident disagreements."""

from __future__ import annotations

import numpy as np

from training.recognizer.audit import _sheet, _tile, label_pairs
from training.recognizer.heldout import Sample


def _sample(key: str, text: str, split: str = "train") -> Sample:
    return Sample(key, text, "old7", "test", split, np.full((40, 120, 3), 200, np.uint8))


def test_one_car_labelled_with_two_hangul_is_one_group() -> None:
    samples = [
        _sample("a", "88호5669"),
        _sample("b", "88오5669", "val"),
        _sample("c", "12가3456"),
        _sample("d", "12가3456"),  # the same label twice is no contradiction
        _sample("e", "13가3456"),  # other class digits: another car
        _sample("f", "서울88오5669"),  # a region makes it another plate
    ]
    groups = label_pairs(samples)
    assert [[s.key for s in g] for g in groups] == [["a", "b"]]


def test_review_sheet_has_one_tile_per_suspect_with_its_lines() -> None:
    tiles = [_tile(np.zeros((30, 90, 3), np.uint8), ["p1", "label 12가3456", "read 12거3456 0.97"])] * 7
    sheet = _sheet(tiles, 6, "audit")
    width, height = tiles[0].size
    assert sheet.size == (6 * (width + 4) + 4, 2 * (height + 4) + 30)
