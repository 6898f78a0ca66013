"""Real photos for the plate detector.

`../shared/data/detection` holds 3,314 real street, dashcam and parking photos with plate boxes,
but of non-Korean plates. They teach what a plate looks like in a real photo (scale, blur, night,
clutter); Korean plates are taught by pasting a Korean plate over a labelled plate of the same
photo ("Korean-ised" copies), so the plate sits where a real camera sees one and everything else
in the frame is real clutter: tail lights, badges, grilles, railings, shop signs. A pasted plate
always covers the whole original plate, so no unlabelled plate is left behind.

Splits are by `group` (the dashcam set by ride, the Roboflow set by original image), never at
random: near-duplicate frames would otherwise leak into validation.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from anpr_core.render.dataset import plate_for_style
from anpr_core.render.fonts import plate_font
from anpr_core.render.plate import render_plate
from anpr_core.render.styles import PlateStyle
from anpr_core.splits import is_validation_text, real_crops

Box = tuple[float, float, float, float]

# One whole dashcam ride is held out (its frames are near-duplicates of each other); the other
# sources are split by the hash of their group.
HELD_OUT_RIDES = frozenset({"dayride_type1_003", "dayride_type1_002"})
GROUP_VALIDATION_SHARE = 0.12
# Real crops from ../shared/data/plates whose width/height is at least this are cut close to the
# plate (checked by eye on a contact sheet); wider-margin crops would teach loose boxes.
TIGHT_CROP_ASPECT = 3.0

# Styles the detector misses or boxes in parts today get more weight than their street share:
# long one-line plates (white new8, blue EV) and the two-line green/yellow ones.
PASTE_STYLES: dict[PlateStyle, float] = {
    PlateStyle.BLUE_EV: 0.22,
    PlateStyle.WHITE_NEW8: 0.2,
    PlateStyle.WHITE_OLD7: 0.1,
    PlateStyle.WHITE_REGIONAL: 0.06,
    PlateStyle.GREEN_TWO_LINE: 0.16,
    PlateStyle.YELLOW_ONE_LINE: 0.08,
    PlateStyle.YELLOW_TWO_LINE: 0.1,
    PlateStyle.ORANGE_CONSTRUCTION: 0.03,
    PlateStyle.NAVY_DIPLOMATIC: 0.05,
}

# Text that is not a plate, as Korean streets show it: shop signs, truck lettering, banners.
SIGN_WORDS = (
    "약국",
    "편의점",
    "부동산",
    "치킨",
    "카페",
    "주차장",
    "출입금지",
    "택배",
    "이삿짐센터",
    "세탁",
    "교회",
    "병원",
    "학원",
    "식당",
    "미용실",
    "안경",
    "정비",
    "타이어",
    "세차",
    "은행",
    "24시",
    "HOTEL",
    "KIA",
    "HYUNDAI",
    "electric",
    "SAMSUNG",
    "GS25",
    "CU",
    "1588-1234",
    "02-123-4567",
)


@dataclass(frozen=True)
class LabelledPhoto:
    path: Path
    boxes: tuple[Box, ...]  # pixels, x0 y0 x1 y1
    group: str
    source: str


def is_validation_group(group: str) -> bool:
    return group in HELD_OUT_RIDES or is_validation_text(group, GROUP_VALIDATION_SHARE)


def load_detection_photos(root: Path) -> list[LabelledPhoto]:
    """Every photo of `index.csv` with its YOLO boxes turned into pixel boxes."""
    photos = []
    with open(root / "index.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            image = root / row["file"]
            label = image.parent.parent / "labels" / (image.stem + ".txt")
            w, h = int(row["width"]), int(row["height"])
            boxes = []
            for line in label.read_text().split("\n"):
                if line.strip():
                    _, cx, cy, bw, bh = (float(v) for v in line.split())
                    boxes.append(((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h))
            photos.append(LabelledPhoto(image, tuple(boxes), row["group"], row["source"]))
    return photos


def split_photos(photos: list[LabelledPhoto]) -> tuple[list[LabelledPhoto], list[LabelledPhoto]]:
    train = [p for p in photos if not is_validation_group(p.group)]
    return train, [p for p in photos if is_validation_group(p.group)]


@cache
def tight_real_crops(plates_dir: Path) -> tuple[Path, ...]:
    """Training-split real Korean crops cut close to the plate (never a validation text)."""
    train, _ = real_crops(plates_dir)
    tight = []
    for crop in train:
        with Image.open(crop.path) as im:
            w, h = im.size
        if w / h >= TIGHT_CROP_ASPECT:
            tight.append(crop.path)
    return tuple(tight)


def korean_plate(rng: random.Random, tight_crops: tuple[Path, ...]) -> np.ndarray:
    """A Korean plate image, BGR, cut to the plate: a real crop or a rendered plate of any type."""
    if tight_crops and rng.random() < 0.35:
        image = cv2.imread(str(rng.choice(tight_crops)), cv2.IMREAD_COLOR)
        if image is not None:
            return image
    style = rng.choices(list(PASTE_STYLES), weights=list(PASTE_STYLES.values()))[0]
    rendered = render_plate(plate_for_style(style, rng), style, rng)
    # A plate on a car has a frame and screws, seen at a small angle: the renderer's own
    # camera augmentation minus its background (the photo supplies that).
    return rendered.image


def _match_light(plate: np.ndarray, region: np.ndarray, rng: random.Random) -> np.ndarray:
    """Bring the pasted plate towards the exposure and colour cast of the spot it covers."""
    out = plate.astype(np.float32)
    if region.size:
        target = region.reshape(-1, 3).mean(axis=0)
        own = out.reshape(-1, 3).mean(axis=0) + 1e-3
        gain = np.clip((target / own) ** rng.uniform(0.3, 0.6), 0.45, 1.6)
        out *= gain
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.2))
    return np.clip(out, 0, 255).astype(np.uint8)


def paste_over(image: np.ndarray, box: Box, plate: np.ndarray, rng: random.Random) -> Box:
    """Warp `plate` over `box` so it covers the whole box; returns the pasted plate's box."""
    h, w = image.shape[:2]
    bx0, by0, bx1, by1 = box
    bw, bh = max(2.0, bx1 - bx0), max(2.0, by1 - by0)
    aspect = plate.shape[1] / plate.shape[0]
    # Cover the labelled plate: the wider of the two fits decides the size, plus a little margin.
    scale = rng.uniform(1.0, 1.12)
    tw = max(bw, bh * aspect) * scale
    th = tw / aspect
    cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
    half_w, half_h = tw / 2, th / 2
    skew = rng.uniform(-0.08, 0.08) * half_w
    roll = rng.uniform(-0.06, 0.06) * half_w
    dst = np.array(
        [
            [cx - half_w + skew, cy - half_h - roll],
            [cx + half_w + skew, cy - half_h + roll],
            [cx + half_w - skew, cy + half_h + roll],
            [cx - half_w - skew, cy + half_h - roll],
        ],
        np.float32,
    )
    ph, pw = plate.shape[:2]
    src = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], np.float32)
    # Shrink first with area averaging (a far plate is blurred by the optics, not aliased).
    shrink = min(1.0, tw / pw)
    if shrink < 0.9:
        plate = cv2.resize(plate, (max(2, round(pw * shrink)), max(2, round(ph * shrink))), cv2.INTER_AREA)
        src *= np.array([plate.shape[1] / pw, plate.shape[0] / ph], np.float32)
        ph, pw = plate.shape[:2]
    x0i, y0i = max(0, int(bx0)), max(0, int(by0))
    plate = _match_light(plate, image[y0i : max(y0i + 1, int(by1)), x0i : max(x0i + 1, int(bx1))], rng)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(plate, matrix, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), matrix, (w, h))
    alpha = (mask.astype(np.float32) / 255)[..., None]
    image[:] = (image * (1 - alpha) + warped * alpha).astype(np.uint8)
    xs, ys = dst[:, 0].clip(0, w - 1), dst[:, 1].clip(0, h - 1)
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def draw_signs(image: np.ndarray, avoid: list[Box], rng: random.Random, count: int) -> None:
    """Hard negatives: Korean shop-sign and lettering text, never over a plate."""
    h, w = image.shape[:2]
    pil = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(pil)
    for _ in range(count):
        words = " ".join(rng.choice(SIGN_WORDS) for _ in range(rng.randint(1, 2)))
        size = max(8, int(h * rng.uniform(0.015, 0.07)))
        font = plate_font(size, "Bold")
        x0, y0, x1, y1 = draw.textbbox((0, 0), words, font=font)
        pad = int(size * rng.uniform(0.1, 0.5))
        tw, th = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
        if tw >= w or th >= h:
            continue
        x, y = rng.randint(0, w - tw), rng.randint(0, h - th)
        sign = (x, y, x + tw, y + th)
        if any(_overlaps(sign, a) for a in avoid):
            continue
        back = tuple(rng.randint(0, 255) for _ in range(3))
        ink = tuple(255 - c if rng.random() < 0.8 else rng.randint(0, 255) for c in back)
        if rng.random() < 0.7:
            draw.rectangle(sign, fill=back)
        draw.text((x + pad - x0, y + pad - y0), words, font=font, fill=ink)
    image[:] = cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR)


def koreanised(
    photo: LabelledPhoto, seed: int, tight_crops: tuple[Path, ...]
) -> tuple[np.ndarray, list[Box]] | None:
    """The photo with Korean plates over (most of) its labelled plates and some sign text."""
    rng = random.Random(seed)
    image = cv2.imread(str(photo.path), cv2.IMREAD_COLOR)
    if image is None:
        return None
    boxes: list[Box] = []
    for box in photo.boxes:
        # Plates under 6 px are kept as they are: a pasted plate would be a smudge either way.
        if box[2] - box[0] >= 6 and rng.random() < 0.85:
            boxes.append(paste_over(image, box, korean_plate(rng, tight_crops), rng))
        else:
            boxes.append(box)
    if rng.random() < 0.5:
        draw_signs(image, boxes, rng, rng.randint(1, 3))
    if rng.random() < 0.12:  # IR night look of many CCTV cameras
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        image = np.repeat(grey[..., None], 3, axis=2)
    return image, boxes
