"""Old green plates, and the uses a plate of that colour can have.

The old green plates (two-line, before 2006) were never commercial: commercial plates (사업용:
바 사 아 자, delivery 배) are yellow. The recogniser reads grey crops, so its commonest
two-line confusion, ㅏ for ㅓ in the use character (서→사, 어→아, 저→자), turns a private
green plate into a commercial one, which the plate's colour contradicts. When it does, the
likeliest alternative that a green plate can carry is read instead.

Only green is used. The converse rule (a yellow plate must be commercial) would fix the
opposite confusion, but "yellow" is not reliable enough to act on: of the 7 real crops a hue
test calls yellow, 2 are white private plates (one on a yellow car filling a loose crop, one
aged to beige), and under sodium street lights every white plate turns orange. A false green
is harmless: only a commercial reading is ever overruled, and a commercial plate is yellow,
which no lighting turns green.
"""

from __future__ import annotations

import cv2
import numpy as np

from anpr_core.plates import InvalidPlate, parse_plate
from anpr_core.plates.alphabet import PlateUse
from lpr.recognizer import PlateReading

# OpenCV hue (0–180) of the old plates' green, faded or not, and how much of the plate's middle
# must be that green (the 2 real green crops: 70–76 %; white, yellow, blue and orange plates: 0).
GREEN_HUES = (45, 90)
MIN_SATURATION = 70
MIN_VALUE = 60
MIN_SHARE = 0.45
_COMMERCIAL = (PlateUse.COMMERCIAL, PlateUse.DELIVERY)


def is_green_plate(plate_bgr: np.ndarray) -> bool:
    """Whether a plate image (a crop, or the detector's box of a frame) is an old green plate."""
    if plate_bgr.ndim != 3 or plate_bgr.shape[0] < 4 or plate_bgr.shape[1] < 8:
        return False  # grey (infrared) or too small: no colour to go by
    h, w = plate_bgr.shape[:2]
    # The middle of the plate: no border, frame or vehicle around it.
    inner = plate_bgr[int(0.15 * h) : int(0.85 * h), int(0.06 * w) : int(0.94 * w)]
    hsv = cv2.cvtColor(np.ascontiguousarray(inner), cv2.COLOR_BGR2HSV).reshape(-1, 3)
    hue, saturation, value = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    green = (
        (saturation >= MIN_SATURATION)
        & (value >= MIN_VALUE)
        & (hue >= GREEN_HUES[0])
        & (hue <= GREEN_HUES[1])
    )
    return bool(green.mean() >= MIN_SHARE)


def _commercial(text: str) -> bool:
    try:
        return parse_plate(text).use in _COMMERCIAL
    except InvalidPlate:
        return False


def fit_to_colour(reading: PlateReading, plate_bgr: np.ndarray) -> PlateReading:
    """`reading`, or, when it is commercial and the plate is an old green one, its likeliest
    alternative that is not commercial.

    The colour is only looked at for a commercial reading (few of them), not for every plate.
    The promoted alternative keeps its own (lower) calibrated confidence, and the reading it
    replaces becomes an alternative, so nothing the recogniser saw is hidden. When no
    alternative fits, the reading is returned unchanged.
    """
    if reading.text is None or not _commercial(reading.text) or not is_green_plate(plate_bgr):
        return reading
    for index, (text, confidence) in enumerate(reading.alternatives):
        if not _commercial(text):
            rest = reading.alternatives[:index] + reading.alternatives[index + 1 :]
            alternatives = ((reading.text, reading.confidence), *rest)
            return PlateReading(text, confidence, alternatives, reading.raw_text)
    return reading
