"""Procedural scene composites for the plate detector: rendered plates on drawn vehicles.

Road scenes (vehicles with bumpers, lights, rear windows; signs and stickers with text as hard
negatives) with synthetic plates of every Korean type warped onto the vehicles at 12–400 px.
A small share of the training set: the real photos (`real_photos.py`) carry most of it.
"""

from __future__ import annotations

import random

import cv2
import numpy as np

from anpr_core.plates import random_plate
from anpr_core.render.plate import render_plate

Box = tuple[float, float, float, float]


def _road_scene(width: int, height: int, rng: random.Random) -> np.ndarray:
    top = np.array([rng.randint(60, 230) for _ in range(3)], np.float32)
    road = np.array([rng.randint(50, 140)] * 3, np.float32)
    horizon = int(height * rng.uniform(0.2, 0.5))
    image = np.zeros((height, width, 3), np.float32)
    image[:horizon] = top
    image[horizon:] = road
    for _ in range(rng.randint(1, 4)):  # lane markings
        x = rng.randint(0, width)
        cv2.line(
            image, (x, horizon), (x + rng.randint(-400, 400), height), (220, 220, 220), rng.randint(2, 10)
        )
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, 8, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def _distractor(image: np.ndarray, rng: random.Random) -> None:
    """Text that is not a plate: shop signs, stickers, road signs."""
    h, w = image.shape[:2]
    bw, bh = rng.randint(40, 400), rng.randint(20, 120)
    x, y = rng.randint(0, max(1, w - bw)), rng.randint(0, max(1, h - bh))
    colour = tuple(rng.randint(0, 255) for _ in range(3))
    cv2.rectangle(image, (x, y), (x + bw, y + bh), colour, -1)
    text = "".join(rng.choice("ABCDEFGHKMNPRSTUVWXYZ0123456789 ") for _ in range(rng.randint(2, 10)))
    cv2.putText(
        image, text, (x + 3, y + bh - 5), cv2.FONT_HERSHEY_SIMPLEX, bh / 40, (255 - colour[0],) * 3, 2
    )


def _vehicle(
    image: np.ndarray, rng: random.Random, x_range: tuple[int, int], plate_width: int
) -> tuple[int, int]:
    """Draw a vehicle rear inside x_range sized for the plate; returns where its plate goes."""
    h, _ = image.shape[:2]
    vw = int(plate_width * rng.uniform(3.0, 4.2))
    vh = int(vw * rng.uniform(0.7, 1.0))
    x0 = rng.randint(x_range[0], max(x_range[0], x_range[1] - vw))
    y0 = rng.randint(int(0.05 * h), max(int(0.05 * h) + 1, h - int(0.8 * vh)))
    body = tuple(rng.randint(20, 235) for _ in range(3))
    cv2.rectangle(image, (x0, y0), (x0 + vw, y0 + vh), body, -1)
    cv2.rectangle(image, (x0 + vw // 8, y0 + vh // 12), (x0 + 7 * vw // 8, y0 + vh // 3), (40, 40, 50), -1)
    light = (30, 30, rng.randint(150, 255))
    for lx in (x0 + vw // 20, x0 + 17 * vw // 20):
        cv2.rectangle(image, (lx, y0 + vh // 3), (lx + vw // 8, y0 + vh // 2), light, -1)
    bumper_y = y0 + int(vh * 0.62)
    shade = tuple(max(0, c - 40) for c in body)
    cv2.rectangle(image, (x0, bumper_y), (x0 + vw, bumper_y + vh // 4), shade, -1)
    return x0 + vw // 2 + int(rng.uniform(-0.05, 0.05) * vw), y0 + int(vh * rng.uniform(0.5, 0.75))


def _paste_plate(image: np.ndarray, rng: random.Random, centre: tuple[float, float], plate_width: int) -> Box:
    rendered = render_plate(random_plate(rng), None, rng)
    plate = rendered.image
    ph, pw = plate.shape[:2]
    scale = plate_width / pw
    cx, cy = centre
    src = rendered.corners
    half_w, half_h = pw * scale / 2, ph * scale / 2
    skew = rng.uniform(-0.15, 0.15) * half_w
    roll = rng.uniform(-0.08, 0.08) * half_w
    dst = np.array(
        [
            [cx - half_w + skew, cy - half_h - roll],
            [cx + half_w + skew, cy - half_h + roll],
            [cx + half_w - skew, cy + half_h + roll],
            [cx - half_w - skew, cy + half_h - roll],
        ],
        np.float32,
    )
    matrix = cv2.getPerspectiveTransform(src, dst)
    h, w = image.shape[:2]
    warped = cv2.warpPerspective(plate, matrix, (w, h))
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), matrix, (w, h))
    alpha = (mask.astype(np.float32) / 255)[..., None]
    image[:] = (image * (1 - alpha) + warped * alpha).astype(np.uint8)
    xs, ys = dst[:, 0].clip(0, w - 1), dst[:, 1].clip(0, h - 1)
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def _camera_effects(image: np.ndarray, rng: random.Random) -> np.ndarray:
    out = image.astype(np.float32) * rng.uniform(0.5, 1.3) + rng.uniform(-30, 30)
    if rng.random() < 0.2:  # night IR
        grey = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY)
        out = np.repeat(grey[..., None], 3, axis=2).astype(np.float32)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.5))
    out += np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(0, 8), out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def synthetic_scene(seed: int) -> tuple[np.ndarray, list[Box]]:
    rng = random.Random(seed)
    width, height = rng.choice([(1280, 720), (960, 540), (1024, 768), (640, 480)])
    image = _road_scene(width, height, rng)
    for _ in range(rng.randint(0, 3)):
        _distractor(image, rng)
    boxes: list[Box] = []
    count = rng.choices([0, 1, 2, 3], weights=[0.08, 0.6, 0.24, 0.08])[0]
    slot = width // max(1, count)
    for index in range(count):
        # Vehicles side by side (lanes), so no vehicle hides another one's plate.
        # Log-uniform 12–400 px: far CCTV plates are as common as close ones.
        plate_width = int(min(slot / 3.2, 12 * (400 / 12) ** rng.random()))
        if plate_width < 12:
            continue
        cx, cy = _vehicle(image, rng, (index * slot, (index + 1) * slot), plate_width)
        if 0 < cx < width and 0 < cy < height:
            boxes.append(_paste_plate(image, rng, (cx, cy), plate_width))
    return _camera_effects(image, rng), boxes


def is_validation_scene(file_name: str) -> bool:
    """Every real Korean scene is validation: detector v2 never trains on them (all 22 held out)."""
    del file_name
    return True
