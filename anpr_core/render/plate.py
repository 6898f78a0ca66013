"""Draw a Korean plate from its text: characters stretched into cells like the plate font."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from PIL import Image, ImageDraw

from anpr_core.plates import Plate, PlateFormat
from anpr_core.render.fonts import plate_font
from anpr_core.render.styles import STYLE_SPECS, PlateStyle, styles_for

PX_PER_MM = 0.8  # 520 mm → 416 px: more detail than any camera gives, downscaled by augmentation


@dataclass(frozen=True)
class RenderedPlate:
    image: np.ndarray  # BGR uint8, tightly cropped to the plate
    text: str
    style: PlateStyle
    two_line: bool
    corners: np.ndarray  # 4×2 float32, clockwise from top-left, in image pixels


@cache
def _glyph_mask(char: str) -> np.ndarray:
    """The character's ink, cropped to its bounding box, as a 0..255 mask."""
    font = plate_font(160)
    canvas = Image.new("L", (260, 260), 0)
    ImageDraw.Draw(canvas).text((30, 10), char, font=font, fill=255)
    mask = np.asarray(canvas)
    ys, xs = np.nonzero(mask > 40)
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].copy()


def _draw_run(
    canvas: np.ndarray, text: str, x0: float, x1: float, y0: float, y1: float, ink: tuple[int, int, int]
) -> None:
    """Lay `text` out between x0 and x1, Hangul cells wider than digits, gaps between groups."""
    weights = [1.25 if not ch.isdigit() else 0.78 for ch in text]
    gap = 0.12
    span = sum(weights) + gap * (len(text) - 1)
    # Short runs (the "12" on a two-line plate) keep the plate font's proportions, centred.
    unit = min((x1 - x0) / span, 0.62 * (y1 - y0))
    x = x0 + ((x1 - x0) - unit * span) / 2
    for ch, weight in zip(text, weights, strict=True):
        width = unit * weight
        mask = _glyph_mask(ch)
        cell_h = max(2, int(y1 - y0))
        # Keep narrow glyphs (1, 7) narrow: stretch to the cell height, never wider than natural.
        natural_w = mask.shape[1] / mask.shape[0] * cell_h * 0.9
        cell_w = max(2, int(min(width, natural_w)))
        resized = cv2.resize(mask, (cell_w, cell_h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        ys, xs = int(y0), int(x + (width - cell_w) / 2)
        region = canvas[ys : ys + cell_h, xs : xs + cell_w]
        alpha = resized[: region.shape[0], : region.shape[1], None]
        region[:] = (region * (1 - alpha) + np.array(ink, np.float32) * alpha).astype(np.uint8)
        x += width + unit * gap


def _lines(plate: Plate, two_line: bool) -> list[str]:
    if plate.format is PlateFormat.DIPLOMATIC:
        return [plate.text]
    head = (plate.region or "") + plate.class_digits
    tail = plate.use_char + plate.serial
    return [head, tail] if two_line else [head + tail]


def render_plate(plate: Plate, style: PlateStyle | None, rng: random.Random) -> RenderedPlate:
    if style is None:
        options = styles_for(plate)
        style = rng.choices(list(options), weights=list(options.values()), k=1)[0]
    spec = STYLE_SPECS[style]
    width, height = round(spec.width_mm * PX_PER_MM), round(spec.height_mm * PX_PER_MM)
    background = np.array([c + rng.randint(-12, 12) for c in spec.background]).clip(0, 255)
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = background[::-1]  # RGB spec → BGR image
    ink = tuple(int(c) for c in spec.ink[::-1])
    border = max(2, round(3 * PX_PER_MM))
    cv2.rectangle(canvas, (1, 1), (width - 2, height - 2), ink, border // 2)
    left = 0.06 * width
    if style is PlateStyle.WHITE_NEW8 and rng.random() < 0.5:
        # 2020+ plates: a blue band with the national emblem and hologram on the left.
        cv2.rectangle(canvas, (border, border), (int(0.075 * width), height - border), (140, 60, 20), -1)
        left = 0.1 * width
    if style is PlateStyle.BLUE_EV:
        cv2.putText(canvas, "EV", (int(0.012 * width), int(0.6 * height)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.5, ink, 1, cv2.LINE_AA)  # fmt: skip
        left = 0.08 * width
    lines = _lines(plate, spec.two_line)
    if spec.two_line:
        # The top row (region + class) is smaller and narrower than the bottom row.
        _draw_run(canvas, lines[0], 0.22 * width, 0.78 * width, 0.08 * height, 0.38 * height, ink)
        _draw_run(canvas, lines[1], 0.06 * width, 0.94 * width, 0.44 * height, 0.92 * height, ink)
    else:
        _draw_run(canvas, lines[0], left, width - 0.05 * width, 0.14 * height, 0.86 * height, ink)
    corners = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    return RenderedPlate(canvas, plate.text, style, spec.two_line, corners)
