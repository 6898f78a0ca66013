"""Draw a Korean plate from its text: condensed bold gothic glyphs stretched into the plate's cells."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from PIL import Image, ImageDraw

from anpr_core.plates import Plate, PlateFormat
from anpr_core.render.fonts import PLATE_FONT_WEIGHTS, plate_font
from anpr_core.render.styles import STYLE_SPECS, PlateStyle, StyleSpec, styles_for

PX_PER_MM = 0.8  # 520 mm → 416 px: more detail than any camera gives, downscaled by augmentation
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@dataclass(frozen=True)
class RenderedPlate:
    image: np.ndarray  # BGR uint8, tightly cropped to the plate
    text: str
    style: PlateStyle
    two_line: bool
    corners: np.ndarray  # 4×2 float32, clockwise from top-left, in image pixels


@cache
def _glyph_mask(char: str, weight: str) -> np.ndarray:
    """The character's ink, cropped to its bounding box, as a 0..255 mask."""
    font = plate_font(160, weight)
    canvas = Image.new("L", (260, 260), 0)
    ImageDraw.Draw(canvas).text((30, 10), char, font=font, fill=255)
    mask = np.asarray(canvas)
    ys, xs = np.nonzero(mask > 40)
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].copy()


@dataclass(frozen=True)
class _Face:
    """One plate's lettering: the font weight and how wide its cells are (per unit of height)."""

    weight: str
    digit_aspect: float
    hangul_aspect: float


def _paint(
    canvas: np.ndarray, mask: np.ndarray, x: float, y: float, w: float, h: float, ink: np.ndarray
) -> None:
    cell_w, cell_h = max(2, round(w)), max(2, round(h))
    alpha = cv2.resize(mask, (cell_w, cell_h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    x0, y0 = round(x), round(y)
    region = canvas[y0 : y0 + cell_h, x0 : x0 + cell_w]
    alpha = alpha[: region.shape[0], : region.shape[1]]
    if region.ndim == 3:
        alpha = alpha[..., None]
    region[:] = (region * (1 - alpha) + ink * alpha).astype(region.dtype)


def _draw_groups(canvas: np.ndarray, groups: list[str], box: Box, ink: np.ndarray, face: _Face) -> None:
    """Lay character groups out in `box` (height = glyph height), a wider gap between groups.

    Real plates use a condensed face: when the text does not fit at the face's natural width, every
    cell is squeezed horizontally rather than shrunk, so characters always fill the plate's height.
    """
    x0, y0, x1, y1 = box
    height = y1 - y0
    char_gap, group_gap = 0.07 * height, 0.28 * height
    cells = [
        [face.digit_aspect * height if ch.isdigit() else face.hangul_aspect * height for ch in group]
        for group in groups
    ]
    gaps = char_gap * sum(len(g) - 1 for g in groups) + group_gap * (len(groups) - 1)
    ink_width = sum(sum(g) for g in cells)
    squeeze = min(1.0, (x1 - x0 - gaps) / ink_width)
    x = x0 + ((x1 - x0) - (ink_width * squeeze + gaps)) / 2
    for group, widths in zip(groups, cells, strict=True):
        for ch, width in zip(group, widths, strict=True):
            width *= squeeze
            mask = _glyph_mask(ch, face.weight)
            # Keep narrow glyphs (1) narrow: never stretch wider than 1.3× their natural shape.
            drawn = min(width, 1.3 * mask.shape[1] / mask.shape[0] * height)
            _paint(canvas, mask, x + (width - drawn) / 2, y0, drawn, height, ink)
            x += width + char_gap
        x += group_gap - char_gap


def _split(plate: Plate) -> tuple[str, str, str]:
    """(region, class digits + use char, serial) as printed: the serial stands apart."""
    if plate.format is PlateFormat.DIPLOMATIC:
        # 외교 123-045: prefix, country code, serial (three groups).
        return plate.text[:2], plate.text[2:5], plate.text[5:]
    return plate.region or "", plate.class_digits + plate.use_char, plate.serial


def _draw_one_line(
    canvas: np.ndarray, plate: Plate, box: Box, ink: np.ndarray, face: _Face, stacked_region: bool = False
) -> None:
    """One row; `stacked_region`: the region's two syllables one over the other in a single
    narrow cell at the left (서 over 울), as on the white 2004–2006 and the yellow one-line
    regional plates that real cameras see; otherwise the region is a group of its own."""
    region, middle, serial = _split(plate)
    if region and stacked_region:
        x0, y0, x1, y1 = box
        height = y1 - y0
        cell = 0.95 * face.hangul_aspect * height
        # Both syllables squashed to just under half the row: the cell is as tall as the digits.
        _paint(canvas, _glyph_mask(region[0], face.weight), x0, y0, cell, 0.47 * height, ink)
        _paint(canvas, _glyph_mask(region[1], face.weight), x0, y0 + 0.53 * height, cell, 0.47 * height, ink)
        box, region = (x0 + cell + 0.12 * height, y0, x1, y1), ""
    groups = [g for g in (region, middle, serial) if g]
    _draw_groups(canvas, groups, box, ink, face)


def _draw_two_line(canvas: np.ndarray, plate: Plate, ink: np.ndarray, face: _Face) -> None:
    """Two-line plates: a short top row over a big bottom row of wide serial digits.

    Regional plates print `서울 12` on top and `가 3456` below; national ones `12가` over `3456`.
    """
    h, w = canvas.shape[:2]
    region, middle, serial = _split(plate)
    if region:
        top = [region, plate.class_digits]
        bottom = [plate.use_char, serial]
    else:
        top, bottom = [middle], [serial]
    top_box = (0.2 * w, 0.07 * h, 0.8 * w, 0.35 * h)
    bottom_box = (0.05 * w, 0.41 * h, 0.95 * w, 0.92 * h)
    _draw_groups(canvas, top, top_box, ink, face)
    # The bottom serial digits are much wider than the font's: let them fill the row.
    wide = _Face(face.weight, face.digit_aspect * 1.5, face.hangul_aspect)
    _draw_groups(canvas, bottom, bottom_box, ink, wide)


def _ev_mark(canvas: np.ndarray, ink: np.ndarray, left: int) -> None:
    """The EV plate's small emblem on the left: a rounded badge with 'EV' (the font has Latin)."""
    h = canvas.shape[0]
    badge = (int(0.02 * canvas.shape[1]), int(0.22 * h), left - 4, int(0.78 * h))
    cv2.rectangle(canvas, badge[:2], badge[2:], (170, 110, 40), -1, cv2.LINE_AA)
    mask = _glyph_mask("EV", "Bold")
    bw, bh = badge[2] - badge[0], badge[3] - badge[1]
    _paint(canvas, mask, badge[0] + 0.15 * bw, badge[1] + 0.3 * bh, 0.7 * bw, 0.4 * bh, np.full(3, 245.0))


def _eu_band(canvas: np.ndarray, border: int) -> int:
    """2020+ plates: a blue band on the left with the taegeuk emblem and a hologram."""
    h, w = canvas.shape[:2]
    right = int(0.075 * w)
    cv2.rectangle(canvas, (border, border), (right, h - border), (140, 60, 20), -1)
    centre = ((border + right) // 2, int(0.3 * h))
    radius = max(2, (right - border) // 3)
    cv2.ellipse(canvas, centre, (radius, radius), 0, 180, 360, (40, 40, 200), -1, cv2.LINE_AA)
    cv2.ellipse(canvas, centre, (radius, radius), 0, 0, 180, (160, 80, 20), -1, cv2.LINE_AA)
    cv2.rectangle(canvas, (border + 3, int(0.55 * h)), (right - 3, int(0.85 * h)), (190, 190, 200), -1)
    return right


def choose_style(plate: Plate, rng: random.Random) -> PlateStyle:
    options = styles_for(plate)
    return rng.choices(list(options), weights=list(options.values()), k=1)[0]


def _draw(
    plate: Plate, style: PlateStyle, spec: StyleSpec, rng: random.Random, stacked_region: float = 0.0
) -> np.ndarray:
    width, height = round(spec.width_mm * PX_PER_MM), round(spec.height_mm * PX_PER_MM)
    background = np.array([c + rng.randint(-12, 12) for c in spec.background], np.float32)
    if rng.random() < 0.5:
        # Years on the road fade and yellow a plate: pull it towards a dull beige-grey.
        age = rng.uniform(0.1, 0.45)
        background = background * (1 - age) + np.array([190, 185, 160], np.float32) * age
    background = background.clip(0, 255)
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = background[::-1]  # RGB spec → BGR image
    ink = np.array(spec.ink[::-1], np.float32)
    border = max(2, round(3 * PX_PER_MM))
    cv2.rectangle(canvas, (1, 1), (width - 2, height - 2), ink.tolist(), max(1, border // 2))
    # Real plates: digits about half as wide as tall, the Hangul use character about 0.75.
    face = _Face(rng.choice(PLATE_FONT_WEIGHTS), rng.uniform(0.44, 0.58), rng.uniform(0.68, 0.88))
    # Letters go on their own coverage layer first, so they can be embossed before inking.
    letters = np.zeros((height, width), np.float32)
    full = np.ones((), np.float32)
    if spec.two_line:
        _draw_two_line(letters, plate, full, face)
    else:
        left = 0.05 * width
        if style is PlateStyle.WHITE_NEW8 and rng.random() < 0.5:
            left = _eu_band(canvas, border) + 0.02 * width
        if style is PlateStyle.BLUE_EV:
            left = 0.1 * width
            _ev_mark(canvas, ink, int(left))
        # Real one-line regional plates stack the region (서 over 울) at the left, for a share
        # `stacked_region` of them; the draw happens only for regional plates, so every other
        # plate's random stream is unchanged.
        stacked = plate.region is not None and stacked_region > 0 and rng.random() < stacked_region
        box = (left, 0.13 * height, 0.96 * width, 0.87 * height)
        _draw_one_line(letters, plate, box, full, face, stacked_region=stacked)
    return _ink(canvas, letters, ink, rng)


def _ink(canvas: np.ndarray, letters: np.ndarray, ink: np.ndarray, rng: random.Random) -> np.ndarray:
    """Ink the letters; most plates are pressed metal, so raised letters cast a thin shadow."""
    # Everything is folded into out = canvas·gain + offset, computed on 2-D masks (cheap) and
    # merged to three channels once: whole-image 3-channel float arithmetic dominated render time.
    clear = 1 - letters
    gain, offset = clear.copy(), np.zeros_like(letters)
    if rng.random() < 0.6:
        d = rng.choice((1, 2))
        shadow = np.roll(letters, (d, d), axis=(0, 1)) * clear
        light = np.roll(letters, (-d, -d), axis=(0, 1)) * clear * np.float32(rng.uniform(0.1, 0.3))
        gain *= (1 - np.float32(rng.uniform(0.2, 0.45)) * shadow) * (1 - light)
        offset += 255 * light * clear
    gains = cv2.merge([gain] * 3)
    offsets = cv2.merge([offset + np.float32(c) * letters for c in ink])
    out = cv2.multiply(canvas, gains, dtype=cv2.CV_32F)
    return cv2.add(out, offsets).clip(0, 255).astype(np.uint8)


# Share of one-line regional plates drawn with the stacked region, for training. The default
# (0: side by side) keeps the simulator's plates as the shipped recogniser (v2) reads them: v2
# never saw the stacked layout and loses the region (a v3 fine-tune on it was not adopted,
# model card), so turning it on by default would fail the workers' end-to-end read.
STACKED_REGION_FOR_TRAINING = 0.75


def render_plate(
    plate: Plate, style: PlateStyle | None, rng: random.Random, stacked_region: float = 0.0
) -> RenderedPlate:
    """The plate alone, flat and clean; `style` None picks one that suits the plate's type.
    `stacked_region`: the share of one-line regional plates drawn with the region stacked."""
    style = style or choose_style(plate, rng)
    spec = STYLE_SPECS[style]
    canvas = _draw(plate, style, spec, rng, stacked_region)
    h, w = canvas.shape[:2]
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    return RenderedPlate(canvas, plate.text, style, spec.two_line, corners)


def render_plate_rgba(
    plate: Plate, style: PlateStyle | None, rng: random.Random
) -> tuple[np.ndarray, np.ndarray]:
    """(BGRA image, corners) for scene composites: alpha is 255 on the plate, 0 outside.

    The plate's corners are slightly rounded like a pressed metal plate, so the alpha is not just
    a full rectangle; warp both with the same homography and paste with the alpha.
    """
    rendered = render_plate(plate, style, rng)
    h, w = rendered.image.shape[:2]
    alpha = np.zeros((h, w), np.uint8)
    radius = max(2, round(0.04 * h))
    cv2.rectangle(alpha, (radius, 0), (w - 1 - radius, h - 1), 255, -1)
    cv2.rectangle(alpha, (0, radius), (w - 1, h - 1 - radius), 255, -1)
    for cx, cy in (
        (radius, radius),
        (w - 1 - radius, radius),
        (radius, h - 1 - radius),
        (w - 1 - radius, h - 1 - radius),
    ):
        cv2.circle(alpha, (cx, cy), radius, 255, -1, cv2.LINE_AA)
    return np.dstack([rendered.image, alpha]), rendered.corners
