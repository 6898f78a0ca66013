"""Old green plates are recognised and no other plate is; on a green plate a commercial reading
gives way to the likeliest alternative that is not commercial."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from anpr_core.render.dataset import plate_for_style
from anpr_core.render.plate import render_plate
from anpr_core.render.styles import PlateStyle
from lpr.plate_colour import fit_to_colour, is_green_plate
from lpr.recognizer import PlateReading
from tests.conftest import SHARED_DATA

REAL = SHARED_DATA / "plates"


def _rendered(style: PlateStyle, seed: int) -> np.ndarray:
    rng = random.Random(seed)
    return render_plate(plate_for_style(style, rng), style, rng).image


@pytest.mark.parametrize(
    ("style", "green"),
    [
        (PlateStyle.GREEN_TWO_LINE, True),  # new and faded (the renderer ages some plates)
        (PlateStyle.YELLOW_ONE_LINE, False),
        (PlateStyle.YELLOW_TWO_LINE, False),
        (PlateStyle.WHITE_OLD7, False),
        (PlateStyle.WHITE_NEW8, False),
        (PlateStyle.BLUE_EV, False),
        (PlateStyle.ORANGE_CONSTRUCTION, False),
    ],
)
def test_only_green_plates_are_green(style: PlateStyle, green: bool) -> None:
    assert [is_green_plate(_rendered(style, seed)) for seed in range(6)] == [green] * 6


def test_no_colour_no_green() -> None:
    grey = cv2.cvtColor(cv2.cvtColor(_rendered(PlateStyle.GREEN_TWO_LINE, 1), cv2.COLOR_BGR2GRAY),
                        cv2.COLOR_GRAY2BGR)  # fmt: skip  # an infrared frame
    assert not is_green_plate(grey)
    assert not is_green_plate(np.zeros((2, 2, 3), np.uint8))


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data is absent")
def test_real_crops_green_plates_and_look_alikes() -> None:
    def green(name: str) -> bool:
        image = cv2.imread(str(REAL / name))
        assert image is not None, name
        return is_green_plate(image)

    assert green("p001365.jpg") and green("p001636.jpg")  # 08루3300, 24조2426: old green plates
    # Yellow commercial plates, a white plate on a yellow car, an aged beige plate, orange-lit ones.
    for name in ("p000056.jpg", "p000177.jpg", "p000697.jpg", "p001798.jpg", "p000064.jpg", "p000219.jpg"):
        assert not green(name), name


def test_on_a_green_plate_a_commercial_reading_gives_way_to_the_likeliest_that_is_not() -> None:
    green, white = _rendered(PlateStyle.GREEN_TWO_LINE, 0), _rendered(PlateStyle.WHITE_OLD7, 0)
    misread = PlateReading("31사1234", 0.7, (("31자1234", 0.1), ("31서1234", 0.08)), "31사1234")
    fitted = fit_to_colour(misread, green)
    assert fitted.text == "31서1234" and fitted.confidence == 0.08
    assert fitted.alternatives == (("31사1234", 0.7), ("31자1234", 0.1))
    regional = PlateReading("서울12아3456", 0.6, (("서울12어3456", 0.3),), "")
    assert fit_to_colour(regional, green).text == "서울12어3456"
    # Nothing to do: not green, already fits, or no alternative fits.
    assert fit_to_colour(misread, white) is misread
    fine = PlateReading("31서1234", 0.9, (("31사1234", 0.05),), "")
    assert fit_to_colour(fine, green) is fine
    lonely = PlateReading("31사1234", 0.9, (("31자1234", 0.05),), "")
    assert fit_to_colour(lonely, green) is lonely
    assert fit_to_colour(PlateReading(None, 0.0, (), "?"), green).text is None
