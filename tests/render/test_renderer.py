"""The synthetic plate renderer: every style, standard proportions, deterministic by seed."""

from __future__ import annotations

import csv
import random
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from anpr_core.plates import parse_plate
from anpr_core.render import (
    STYLE_SPECS,
    PlateStyle,
    RenderedPlateStream,
    augment_crop,
    render_plate,
    render_plate_rgba,
    synthetic_crop,
)
from anpr_core.render.dataset import plate_for_style, write_dataset
from anpr_core.render.fonts import FontUnavailable, find_font_dir
from anpr_core.render.plate import STACKED_REGION_FOR_TRAINING

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


def _ink_mask(image: np.ndarray, style: PlateStyle) -> np.ndarray:
    ink_bgr = np.array(STYLE_SPECS[style].ink[::-1], np.int16)
    return np.abs(image.astype(np.int16) - ink_bgr).sum(axis=2) < 90


@pytest.mark.parametrize("style", list(PlateStyle))
def test_every_style_renders_with_standard_proportions_and_the_text_fits(style: PlateStyle) -> None:
    rendered = render_plate(parse_plate(SAMPLE_TEXT[style]), style, random.Random(0))
    spec = STYLE_SPECS[style]
    h, w = rendered.image.shape[:2]
    assert w / h == pytest.approx(spec.width_mm / spec.height_mm, rel=0.02)
    assert rendered.two_line == spec.two_line and rendered.text == SAMPLE_TEXT[style]
    assert rendered.corners.shape == (4, 2)
    ink = _ink_mask(rendered.image, style)
    # The characters are really drawn: a good share of pixels is close to the ink colour ...
    assert 0.08 < ink.mean() < 0.6
    # ... and none spill past the plate's border (the frame line is the outer 3 px).
    inner = ink[4:-4, 4:-4]
    assert not inner[:, :2].any() and not inner[:, -2:].any()
    assert not inner[:2, :].any() and not inner[-2:, :].any()


@pytest.mark.parametrize("style", list(PlateStyle))
def test_plates_drawn_for_a_style_suit_it(style: PlateStyle) -> None:
    rng = random.Random(1)
    for _ in range(5):
        plate = plate_for_style(style, rng)
        assert parse_plate(plate.text) == plate
        render_plate(plate, style, rng)


def test_same_seed_gives_identical_pixels_and_different_seeds_differ() -> None:
    a, ra = synthetic_crop(42)
    b, rb = synthetic_crop(42)
    c, _ = synthetic_crop(43)
    assert ra.text == rb.text and np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


def test_augmented_crops_keep_dtype_and_colour_channels() -> None:
    rng = random.Random(5)
    for style in (PlateStyle.WHITE_OLD7, PlateStyle.GREEN_TWO_LINE):
        rendered = render_plate(parse_plate(SAMPLE_TEXT[style]), style, rng)
        for strength in (0.0, 0.5, 1.0):
            crop = augment_crop(rendered.image, rng, strength=strength)
            assert crop.dtype == np.uint8 and crop.ndim == 3 and crop.shape[2] == 3
            assert 60 <= crop.shape[1] <= 400


def test_rgba_plate_is_opaque_on_the_plate_and_clear_at_the_rounded_corners() -> None:
    rgba, corners = render_plate_rgba(parse_plate("12가3456"), None, random.Random(2))
    h, w = rgba.shape[:2]
    assert rgba.shape[2] == 4 and rgba.dtype == np.uint8
    assert rgba[h // 2, w // 2, 3] == 255 and rgba[0, 0, 3] == 0
    assert corners.tolist() == [[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]


def test_stream_is_reproducible_and_yields_parseable_text() -> None:
    first = [text for _, text in islice(RenderedPlateStream(7), 4)]
    again = [text for _, text in islice(RenderedPlateStream(7), 4)]
    assert first == again
    assert all(parse_plate(t).text == t for t in first)


def test_dataset_writer_labels_parse_and_do_not_depend_on_workers(tmp_path: Path) -> None:
    counts = write_dataset(tmp_path / "a", 8, seed=3, progress=False)
    write_dataset(tmp_path / "b", 8, seed=3, workers=2, progress=False)
    with open(tmp_path / "a" / "labels.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and sum(counts.values()) == 8
    assert rows[0]["file"] == "000001.jpg"
    for row in rows:
        assert row["style"] in {s.value for s in PlateStyle}
        plate = parse_plate(row["text"])
        assert row["format"] == (plate.format.value if plate.format.value != "diplomatic" else "other")
        a = (tmp_path / "a" / "images" / row["file"]).read_bytes()
        assert a == (tmp_path / "b" / "images" / row["file"]).read_bytes()
    assert (tmp_path / "a" / "labels.csv").read_bytes() == (tmp_path / "b" / "labels.csv").read_bytes()


def test_dataset_writer_keeps_to_the_asked_styles(tmp_path: Path) -> None:
    counts = write_dataset(tmp_path, 6, seed=1, styles=[PlateStyle.NAVY_DIPLOMATIC], progress=False)
    assert counts == {"navy_diplomatic": 6}


def test_missing_font_names_the_package_to_install(tmp_path: Path) -> None:
    with pytest.raises(FontUnavailable, match="koreanize-matplotlib"):
        find_font_dir(None, tmp_path / "nothing", [tmp_path])


def _stacked_count(share: float) -> int:
    """How many of 40 one-line regional plates have ink in the top and bottom halves of the row's
    left end with a clear band between them: the region stacked (서 over 울), as on real
    2004–2006 white and yellow one-line regional plates."""
    stacked = 0
    for seed in range(40):
        plate = parse_plate("서울12가3456")
        image = render_plate(plate, PlateStyle.WHITE_REGIONAL, random.Random(seed), share).image
        ink = _ink_mask(image, PlateStyle.WHITE_REGIONAL)
        h, w = ink.shape
        rows = ink[int(0.2 * h) : int(0.8 * h), int(0.06 * w) : int(0.12 * w)].mean(axis=1)
        middle = rows[int(0.45 * len(rows)) : int(0.55 * len(rows))].mean()
        stacked += bool(
            rows[: len(rows) // 3].mean() > 3 * middle and rows[-len(rows) // 3 :].mean() > 3 * middle
        )
    return stacked


def test_training_renders_most_regional_plates_with_the_region_stacked_as_real_ones_are() -> None:
    assert 0.55 * 40 <= _stacked_count(STACKED_REGION_FOR_TRAINING) <= 0.95 * 40  # three in four


def test_by_default_the_region_stands_beside_the_digits_as_the_shipped_recogniser_reads_it() -> None:
    assert _stacked_count(0.0) < _stacked_count(1.0) / 4
