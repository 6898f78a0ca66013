"""The synthetic plate renderer: every style, standard proportions, deterministic by seed."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest

from anpr_core.plates import parse_plate
from anpr_core.render import STYLE_SPECS, PlateStyle, augment_crop, render_plate, synthetic_crop
from anpr_core.render.dataset import write_dataset

SAMPLE_TEXT = {
    PlateStyle.WHITE_NEW8: "123가4567",
    PlateStyle.WHITE_OLD7: "12가3456",
    PlateStyle.WHITE_REGIONAL: "서울12가3456",
    PlateStyle.GREEN_TWO_LINE: "서울12가3456",
    PlateStyle.YELLOW_ONE_LINE: "경기37바6543",
    PlateStyle.YELLOW_TWO_LINE: "제주79바4470",
    PlateStyle.BLUE_EV: "157허2345",
    PlateStyle.ORANGE_CONSTRUCTION: "서울01가1234",
    PlateStyle.NAVY_DIPLOMATIC: "외교123045",
}


@pytest.mark.parametrize("style", list(PlateStyle))
def test_every_style_renders_with_standard_proportions_and_ink(style: PlateStyle) -> None:
    rendered = render_plate(parse_plate(SAMPLE_TEXT[style]), style, random.Random(0))
    spec = STYLE_SPECS[style]
    h, w = rendered.image.shape[:2]
    assert w / h == pytest.approx(spec.width_mm / spec.height_mm, rel=0.02)
    assert rendered.two_line == spec.two_line
    # The characters are really drawn: a good share of pixels is close to the ink colour.
    ink_bgr = np.array(spec.ink[::-1], np.int16)
    near_ink = np.abs(rendered.image.astype(np.int16) - ink_bgr).sum(axis=2) < 90
    assert 0.08 < near_ink.mean() < 0.6


def test_same_seed_gives_identical_pixels_and_different_seeds_differ() -> None:
    a, ra = synthetic_crop(42)
    b, rb = synthetic_crop(42)
    c, _ = synthetic_crop(43)
    assert ra.text == rb.text and np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


def test_augmented_crops_are_camera_sized_colour_images() -> None:
    rng = random.Random(5)
    rendered = render_plate(parse_plate("12가3456"), PlateStyle.WHITE_OLD7, rng)
    crop = augment_crop(rendered.image, rng)
    assert crop.dtype == np.uint8 and crop.ndim == 3 and crop.shape[2] == 3
    assert 60 <= crop.shape[1] <= 400


def test_dataset_writer_labels_parse_with_the_grammar(tmp_path: Path) -> None:
    write_dataset(tmp_path, 12, seed=3)
    with open(tmp_path / "labels.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12
    for row in rows:
        assert (tmp_path / "images" / row["file"]).is_file()
        assert parse_plate(row["text"]).format.value == row["format"]
