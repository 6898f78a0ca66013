"""Make a clean rendered plate look like a camera's crop of a real plate.

Each step mimics something seen in real ANPR crops: the plate frame and screws, the car body
around a loose detector box, perspective and roll, distance (low resolution), motion blur and
defocus, JPEG artefacts, night IR images, headlight glare, dirt and partial occlusion.
"""

from __future__ import annotations

import random

import cv2
import numpy as np


def _frame_and_screws(plate: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = plate.shape[:2]
    if rng.random() < 0.5:
        pad = max(2, int(0.04 * h))
        colour = [rng.randint(0, 60)] * 3 if rng.random() < 0.7 else [rng.randint(150, 230)] * 3
        plate = cv2.copyMakeBorder(plate, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=colour)
        h, w = plate.shape[:2]
    if rng.random() < 0.7:
        # Bolts: at both ends, mid-height, on one-line plates; near the top corners on two-line ones.
        radius = max(2, int(0.04 * h))
        one_line = w / h > 2.6
        spots = [(int(0.025 * w) + radius, h // 2), (w - int(0.025 * w) - radius, h // 2)] if one_line else [
            (int(0.15 * w), int(0.1 * h)), (int(0.85 * w), int(0.1 * h))]  # fmt: skip
        metal = rng.randint(110, 200)
        for x, y in spots:
            cv2.circle(plate, (x, y), radius, (metal, metal, metal), -1, cv2.LINE_AA)
            cv2.circle(plate, (x, y), radius, (50, 50, 50), 1, cv2.LINE_AA)
    return plate


def _background(height: int, width: int, rng: random.Random) -> np.ndarray:
    """A car-body-like surround: a tinted gradient with a few bumper/grille edges and noise."""
    base = np.array([rng.randint(0, 255) for _ in range(3)], np.float32)
    if rng.random() < 0.8:  # most cars are grey, black, white or silver
        base[:] = rng.triangular(10, 240, 40)  # the real crops' surrounds are mostly dark
    else:  # painted cars are muted, never a saturated primary
        base = base * 0.4 + base.mean() * 0.6
    # Paint texture at a quarter of the size, then upscale: blotchy like paint, and 16× cheaper.
    sh, sw = max(2, height // 4), max(2, width // 4)
    ramp = np.linspace(rng.uniform(-40, 0), rng.uniform(0, 40), sh, dtype=np.float32)[:, None, None]
    noise = np.random.default_rng(rng.getrandbits(32)).standard_normal((sh, sw, 3), np.float32) * 6
    small = np.clip(base + ramp + noise, 0, 255).astype(np.uint8)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    for _ in range(rng.randint(0, 4)):  # bumper edges, grille bars, boot lid lines
        y = rng.randint(0, height - 1)
        shade = rng.randint(0, 255)
        cv2.line(image, (0, y), (width, y + rng.randint(-5, 5)), (shade, shade, shade), rng.randint(1, 6))
    return image


def _perspective(image: np.ndarray, corners: np.ndarray, rng: random.Random, amount: float) -> np.ndarray:
    h, w = image.shape[:2]
    jitter = np.array(
        [[rng.uniform(-1, 1) * amount * 0.5 * w, rng.uniform(-1, 1) * amount * h] for _ in range(4)]
    )
    angle = np.deg2rad(rng.uniform(-6, 6) * amount / 0.06)
    centre = corners.mean(axis=0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = ((corners - centre) @ rotation.T + centre + jitter).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return cv2.warpPerspective(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)


def _motion_blur(image: np.ndarray, rng: random.Random) -> np.ndarray:
    length = rng.randint(3, 9)
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1
    rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    return cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))


def _glare(image: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.2, 0.6) * w
    blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)) * rng.uniform(60, 160)
    return np.clip(image.astype(np.float32) + blob[..., None], 0, 255).astype(np.uint8)


def _dirt(image: np.ndarray, rng: random.Random) -> np.ndarray:
    out = image.astype(np.float32)
    h, w = image.shape[:2]
    mud = np.array([40, 50, 60], np.float32)
    for _ in range(rng.randint(2, 10)):
        # Soft smudges of road grime; each is blurred only in its own patch (whole-image blurs
        # per smudge are slow).
        cx, cy, r = rng.randint(0, w), rng.randint(0, h), rng.randint(1, max(2, h // 6))
        pad = 3 * r + 4
        x0, y0, x1, y1 = max(0, cx - pad), max(0, cy - pad), min(w, cx + pad + 1), min(h, cy + pad + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.circle(mask, (cx - x0, cy - y0), r, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 0.6 * r + 1)[..., None] * rng.uniform(0.1, 0.35)
        out[y0:y1, x0:x1] = out[y0:y1, x0:x1] * (1 - mask) + mud * mask
    return out.astype(np.uint8)


def augment_crop(
    plate: np.ndarray,
    rng: random.Random,
    strength: float = 1.0,
    out_plate_width: tuple[int, int] = (70, 260),
) -> np.ndarray:
    """A loose, camera-like crop around the rendered plate `plate` (BGR)."""
    plate = _frame_and_screws(plate.copy(), rng)
    # Distance: the plate ends up this many pixels wide. Work at twice that (not at the render's
    # full size) so the geometric steps cost little and still resample like a lens would.
    target_pw = rng.randint(*out_plate_width)
    if plate.shape[1] > 2 * target_pw:
        work = 2 * target_pw / plate.shape[1]
        plate = cv2.resize(plate, None, fx=work, fy=work, interpolation=cv2.INTER_AREA)
    ph, pw = plate.shape[:2]
    # Loose context like a detector box with margin, or a real crop of the car's rear.
    # Tight boxes (a plate-only crop) and loose ones (bumper and grille around) both occur.
    # Measured on the real crops: median width/height 2.0 (p10 1.7, p90 3.1), so most boxes hold
    # about one plate height of bumper above and below.
    loose = 1.0 if rng.random() < 0.8 else 0.2
    mx0, mx1 = (int(pw * rng.uniform(0.0, 0.35 * strength * loose)) for _ in range(2))
    # Margins scale with a one-line plate's height, so two-line plates do not drown in bumper.
    line_h = min(ph, pw / 3.5)
    my0, my1 = (int(line_h * rng.uniform(0.1, 1.8 * strength * loose)) for _ in range(2))
    canvas = _background(ph + my0 + my1, pw + mx0 + mx1, rng)
    canvas[my0 : my0 + ph, mx0 : mx0 + pw] = plate
    corners = np.array([[mx0, my0], [mx0 + pw, my0], [mx0 + pw, my0 + ph], [mx0, my0 + ph]], np.float32)
    image = _perspective(canvas, corners, rng, 0.06 * strength)

    scale = target_pw / pw
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if rng.random() < 0.3 * strength:  # even lower resolution, upsampled back (digital zoom)
        factor = rng.uniform(0.4, 0.8)
        tiny = cv2.resize(small, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        small = cv2.resize(tiny, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_LINEAR)
    image = small
    if rng.random() < 0.35 * strength:
        image = _motion_blur(image, rng)
    if rng.random() < 0.3 * strength:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.4))
    if rng.random() < 0.15 * strength:
        image = _glare(image, rng)
    if rng.random() < 0.2 * strength:
        image = _dirt(image, rng)
    if rng.random() < 0.1 * strength:  # a tow bar, a bike rack or a finger of snow over a corner
        h, w = image.shape[:2]
        x = rng.choice([rng.randint(0, w // 8), rng.randint(7 * w // 8, w)])
        cv2.rectangle(image, (x, 0), (x + rng.randint(2, w // 10), h), (rng.randint(0, 80),) * 3, -1)
    # Exposure and colour: gain, offset, gamma and a slight white-balance cast, as one lookup table.
    gain, offset, gamma = rng.uniform(0.55, 1.25), rng.uniform(-45, 25), rng.uniform(0.8, 1.6)
    levels = np.arange(256, dtype=np.float32)
    tables = []
    for _ in range(3):
        channel = np.clip(levels * gain * rng.uniform(0.92, 1.08) + offset, 0, 255)
        tables.append(255 * (channel / 255) ** gamma)
    lut = np.stack(tables, axis=-1).reshape(256, 1, 3).astype(np.uint8)
    image = cv2.LUT(image, lut)
    if rng.random() < 0.15 * strength:  # night IR: grey, contrasty
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
        image = cv2.cvtColor(
            np.clip((grey - grey.mean()) * 1.6 + 128, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR
        )
    sigma = rng.uniform(0, 8 * strength)
    noise = np.random.default_rng(rng.getrandbits(32)).standard_normal(image.shape, np.float32) * sigma
    image = np.clip(image + noise, 0, 255).astype(np.uint8)
    quality = rng.randint(25, 95)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else image
