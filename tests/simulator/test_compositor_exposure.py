"""Motion blur follows the camera's exposure in seconds: an ANPR camera's short exposure keeps a
fast plate sharp, a general CCTV camera's long one smears it. And every clip camera's exposure is
an ANPR camera's, recorded in the ground truth."""

from __future__ import annotations

import cv2
import numpy as np

from anpr.simulator.compositor import CameraView, Motion, draw_vehicle, make_vehicle
from anpr.simulator.real_clips import SHUTTER_ROAD_KMH, ClipParams, shutter_s

SIZE = (1280, 720)


def _bars() -> np.ndarray:
    """A plate-like crop: dark strokes on white, 160×34 px."""
    crop = np.full((34, 160, 3), 235, np.uint8)
    for x in range(12, 150, 16):
        cv2.rectangle(crop, (x, 6), (x + 5, 28), (20, 20, 20), -1)
    return crop


def _plate_sharpness(shutter: float) -> float:
    # A rear plate near the bottom of the frame, where it moves fastest (~60 px a frame at 12 fps).
    motion = Motion(0.0, 2.75, 40.0, 150.0, 640.0, 640.0, 20.0, 690.0, approaching=True)
    vehicle = make_vehicle(_bars(), (120, 120, 120), "day", glare=False, motion=motion)
    frame = np.full((SIZE[1], SIZE[0], 3), 90, np.uint8)
    view = CameraView(SIZE, "day", 0.0, 10.0, shutter)
    t = 2.6
    assert draw_vehicle(frame, view, vehicle, t)
    cx, cy, w = motion.at(t)  # type: ignore[misc]
    h = w * 34 / 160
    plate = frame[int(cy - h / 2) : int(cy + h / 2), int(cx - w / 2) : int(cx + w / 2)]
    return float(cv2.Laplacian(cv2.cvtColor(plate, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_a_short_exposure_keeps_the_plate_sharp_and_a_long_one_smears_it() -> None:
    still = _plate_sharpness(0.0)
    anpr = _plate_sharpness(1 / 500)
    cctv = _plate_sharpness(1 / 40)
    assert anpr > 0.8 * still
    assert cctv < 0.5 * anpr


def test_each_camera_has_an_anpr_exposure_of_its_own() -> None:
    params = ClipParams()
    slowest, fastest = 1 / (11 * SHUTTER_ROAD_KMH[0]), 1 / (11 * SHUTTER_ROAD_KMH[1])
    exposures = [shutter_s(params, f"C{n:02d}") for n in range(1, 21)]
    assert all(fastest <= e <= slowest for e in exposures)
    assert len({round(e, 6) for e in exposures}) == len(exposures)  # drawn per camera
    assert shutter_s(params, "C01") == shutter_s(ClipParams(), "C01")  # and reproducible
