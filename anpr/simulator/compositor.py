"""Draw a vehicle carrying a real plate crop into a real background, as a road camera sees it.

The vehicle is a simple car front (body in the car's colour, windscreen, grille, headlights)
with the plate crop on it, drawn in the plate's plane as a sprite and warped into the frame by
the homography that maps the plate to its projected quad: so the plate is seen with the camera's
yaw and pitch (keystone), and the whole car scales with it.

Motion follows a ground-plane camera: the plate's width is focal × size / distance and the
vehicle drives at constant speed, so 1/width is linear in time (it grows ever faster as it
approaches), and the image position is linear in width (ground plane: y − horizon ∝ 1/distance).
It enters at the top of the frame and leaves at the bottom (a front camera), or the reverse (a
rear camera). Motion blur is the displacement during the exposure (`CameraView.shutter_s`, in
seconds: an ANPR camera's is set by the road's speed, not by its frame rate), drawn as a line
kernel.

Looks: `day`; `night` (an IR-lit ANPR camera: monochrome, dark scene, the retro-reflective plate
bright, headlights blooming); `rain` (streaks, lens drops, lower contrast). Glare (a sun or
headlight bloom partly over the plate) is per pass. Sensor noise comes from a small bank of
noisy backgrounds, cycled, so a frame costs one copy plus the vehicle.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np

LOOKS = ("day", "night", "rain")
NOISE_BANK = 6  # noisy background frames, cycled


@dataclass(frozen=True)
class Motion:
    """One vehicle's path in the frame. Times in seconds of clip time."""

    enter_s: float  # plate wholly in view from here …
    leave_s: float  # … to here
    width0: float  # plate width at the top of the frame (px)
    width1: float  # at the bottom
    x0: float  # plate centre at the top / bottom (px)
    x1: float
    y0: float
    y1: float
    approaching: bool  # True: top → bottom (front plate); False: bottom → top (rear plate)

    def at(self, t: float) -> tuple[float, float, float] | None:
        """(centre x, centre y, plate width) at clip time t, or None when too near to draw."""
        span = self.leave_s - self.enter_s
        u = (t - self.enter_s) / span  # 0 at enter, 1 at leave
        if not self.approaching:
            u = 1.0 - u
        inv = 1 / self.width0 + u * (1 / self.width1 - 1 / self.width0)
        if inv <= 0.25 / self.width1:
            return None
        w = 1 / inv
        k = (w - self.width0) / (self.width1 - self.width0)  # position is linear in width
        return self.x0 + k * (self.x1 - self.x0), self.y0 + k * (self.y1 - self.y0), w


@dataclass(frozen=True)
class CameraView:
    size: tuple[int, int]
    look: str
    yaw_deg: float  # the camera sees the plates this far from straight on
    pitch_deg: float  # looking down
    shutter_s: float  # exposure time (motion blur)


@dataclass
class Vehicle:
    sprite: list[np.ndarray]  # BGRA pyramid, level 0 the largest
    plate_quad: np.ndarray  # the plate's corners in sprite level 0 (4×2)
    lamps: np.ndarray  # the headlights' centres in sprite level 0 (2×2)
    glare: bool
    motion: Motion


def plate_look(crop: np.ndarray, look: str) -> np.ndarray:
    if look != "night":
        return crop
    # Under IR the retro-reflective plate is bright and the characters stay dark.
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    grey = cv2.normalize(grey, None, 15, 245, cv2.NORM_MINMAX)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def make_vehicle(
    crop: np.ndarray, colour: tuple[int, int, int], look: str, glare: bool, motion: Motion
) -> Vehicle:
    """The car front as a sprite around the crop (plate width p: car 3.6 p wide)."""
    plate = plate_look(crop, look)
    ph, pw = plate.shape[:2]
    cw, above, below = int(pw * 3.6), int(pw * 2.3), int(pw * 0.45)
    ch = above + ph + below
    sprite = np.zeros((ch, cw, 4), np.uint8)
    body = tuple(int(c) for c in colour)
    if look == "night":
        g = int(sum(colour) / 3 * 0.45)
        body = (g, g, g)
    radius = pw // 3
    cv2.rectangle(sprite, (0, radius), (cw - 1, ch - 1), (*body, 255), -1)
    cv2.rectangle(sprite, (radius, 0), (cw - 1 - radius, ch - 1), (*body, 255), -1)
    for cx in (radius, cw - 1 - radius):
        cv2.circle(sprite, (cx, radius), radius, (*body, 255), -1)
    glass = (25, 25, 30, 255)
    top, bottom = int(above * 0.08), int(above * 0.5)
    cv2.fillConvexPoly(
        sprite,
        np.array([[cw * 0.2, top], [cw * 0.8, top], [cw * 0.9, bottom], [cw * 0.1, bottom]], np.int32),
        glass,
    )
    grille_y = int(above * 0.72)
    cv2.rectangle(sprite, (int(cw * 0.33), grille_y), (int(cw * 0.67), above - 4), (35, 35, 35, 255), -1)
    lamp = (245, 250, 255, 255) if look == "night" else (200, 210, 215, 255)
    lamps = np.array([[cw * 0.13, above * 0.7], [cw * 0.87, above * 0.7]], np.float32)
    for lx, ly in lamps:
        cv2.ellipse(sprite, (int(lx), int(ly)), (int(pw * 0.35), int(pw * 0.12)), 0, 0, 360, lamp, -1)
    x0 = (cw - pw) // 2
    sprite[above : above + ph, x0 : x0 + pw, :3] = plate
    sprite[above : above + ph, x0 : x0 + pw, 3] = 255
    shade = 0.55
    sprite[ch - below // 3 :, :, :3] = (sprite[ch - below // 3 :, :, :3] * shade).astype(np.uint8)
    quad = np.array([[x0, above], [x0 + pw, above], [x0 + pw, above + ph], [x0, above + ph]], np.float32)
    pyramid = [sprite]
    while pyramid[-1].shape[1] > 120:
        pyramid.append(cv2.pyrDown(pyramid[-1]))
    return Vehicle(pyramid, quad, lamps, glare, motion)


def _plate_corners(view: CameraView, cx: float, cy: float, w: float, aspect: float) -> np.ndarray:
    """The plate's quad in the frame: a w-wide plate rotated by the camera's yaw and pitch."""
    yaw, pitch = math.radians(view.yaw_deg), math.radians(view.pitch_deg)
    d = 7.0  # viewing distance in plate widths: mild keystone
    pts = []
    for x, y in ((-0.5, -aspect / 2), (0.5, -aspect / 2), (0.5, aspect / 2), (-0.5, aspect / 2)):
        x1, z1 = x * math.cos(yaw), x * math.sin(yaw)
        y2, z2 = y * math.cos(pitch), z1 + y * math.sin(pitch)
        s = d / (d + z2)
        pts.append((x1 * s, y2 * s))
    quad = np.array(pts, np.float32)
    quad *= w / (quad[:, 0].max() - quad[:, 0].min())
    return quad + np.array([cx, cy], np.float32)


def draw_vehicle(frame: np.ndarray, view: CameraView, v: Vehicle, t: float) -> bool:
    """Composite the vehicle at clip time t into `frame` (in place); False if out of view."""
    state = v.motion.at(t)
    if state is None:
        return False
    cx, cy, w = state
    quad0 = v.plate_quad
    aspect = float((quad0[3, 1] - quad0[0, 1]) / (quad0[1, 0] - quad0[0, 0]))
    dst = _plate_corners(view, cx, cy, w, aspect)
    scale = w / float(quad0[1, 0] - quad0[0, 0])
    level = 0
    while level + 1 < len(v.sprite) and scale * 2 ** (level + 1) <= 1.0:
        level += 1
    sprite = v.sprite[level]
    src = quad0 / 2**level
    h_mat = cv2.getPerspectiveTransform(src, dst)
    sh, sw = sprite.shape[:2]
    corners = cv2.perspectiveTransform(np.array([[[0, 0], [sw, 0], [sw, sh], [0, sh]]], np.float32), h_mat)[0]
    fh, fw = frame.shape[:2]
    pad = 8
    x_lo, y_lo = max(0, int(corners[:, 0].min()) - pad), max(0, int(corners[:, 1].min()) - pad)
    x_hi, y_hi = min(fw, int(corners[:, 0].max()) + pad), min(fh, int(corners[:, 1].max()) + pad)
    if x_hi <= x_lo or y_hi <= y_lo:
        return False
    shift = np.array([[1, 0, -x_lo], [0, 1, -y_lo], [0, 0, 1]], np.float64)
    patch = cv2.warpPerspective(
        sprite,
        shift @ h_mat,
        (x_hi - x_lo, y_hi - y_lo),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0, 0),
    )
    nxt = v.motion.at(t + view.shutter_s)
    if nxt is not None:
        _motion_blur(patch, nxt[0] - cx, nxt[1] - cy)
    roi = frame[y_lo:y_hi, x_lo:x_hi]
    alpha = patch[:, :, 3:4].astype(np.float32) / 255.0
    colour = patch[:, :, :3]
    if view.look == "night":
        colour = cv2.cvtColor(cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    roi[:] = (colour * alpha + roi * (1 - alpha)).astype(np.uint8)
    if v.glare:
        _glare(frame, dst, w, left=v.motion.x1 < v.motion.x0)
    if view.look == "night":
        lamps = cv2.perspectiveTransform(v.lamps[None] / 2**level, h_mat)[0]
        for x, y in lamps:  # headlight bloom
            _bloom(frame, float(x), float(y), w * 0.45, 200.0)
    return True


def _motion_blur(patch: np.ndarray, dx: float, dy: float) -> None:
    length = math.hypot(dx, dy)
    if length < 1.5:
        return
    n = math.ceil(length) | 1
    kernel = np.zeros((n, n), np.float32)
    c = n // 2
    cv2.line(kernel, (round(c - dx / 2), round(c - dy / 2)), (round(c + dx / 2), round(c + dy / 2)), 1.0, 1)
    kernel /= kernel.sum()
    cv2.filter2D(patch, -1, kernel, dst=patch)


def _bloom(frame: np.ndarray, x: float, y: float, radius: float, strength: float) -> None:
    r = max(3, int(radius * 2))
    fh, fw = frame.shape[:2]
    x0, y0, x1, y1 = max(0, int(x) - r), max(0, int(y) - r), min(fw, int(x) + r), min(fh, int(y) + r)
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    blob = strength * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * (radius / 2) ** 2))
    roi = frame[y0:y1, x0:x1]
    roi[:] = np.clip(roi + blob[:, :, None], 0, 255).astype(np.uint8)


def _glare(frame: np.ndarray, quad: np.ndarray, w: float, left: bool) -> None:
    """A specular bloom at one upper corner of the plate, washing out part of it."""
    corner = quad[0] if left else quad[1]
    _bloom(frame, float(corner[0]), float(corner[1]), w * 0.35, 190.0)


def background_bank(photo: np.ndarray, look: str, rng: random.Random) -> list[np.ndarray]:
    """The camera's background under its look, with sensor noise (and rain), NOISE_BANK frames."""
    base = photo.astype(np.float32) * rng.uniform(0.85, 1.1)
    sigma = 3.0
    if look == "night":
        grey = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY).astype(np.float32)
        base = np.repeat((255 * (grey / 255) ** 2.2 * 0.45)[:, :, None], 3, axis=2)
        sigma = 6.0
    elif look == "rain":
        base = base * 0.75 + 25
    nprng = np.random.default_rng(rng.randint(0, 2**31))
    h, w = photo.shape[:2]
    drops = _lens_drops(h, w, nprng) if look == "rain" else None
    bank = []
    for _ in range(NOISE_BANK):
        noise = nprng.normal(0, sigma, (h, w, 1)).astype(np.float32)
        frame = base + noise
        if look == "rain":
            frame = _rain(frame, nprng)
            if drops is not None:
                frame = np.where(drops[:, :, None] > 0, cv2.GaussianBlur(frame, (0, 0), 6), frame)
        bank.append(np.clip(frame, 0, 255).astype(np.uint8))
    return bank


def _rain(frame: np.ndarray, nprng: np.random.Generator) -> np.ndarray:
    h, w = frame.shape[:2]
    streaks = np.zeros((h, w), np.float32)
    length = max(8, h // 40)
    for x, y in nprng.integers(0, (w, h), (int(w * h / 4000), 2)):
        cv2.line(streaks, (int(x), int(y)), (int(x) - length // 5, int(y) + length), 1.0, 1)
    return frame * (1 - 0.35 * streaks[:, :, None]) + 200 * 0.35 * streaks[:, :, None]


def _lens_drops(h: int, w: int, nprng: np.random.Generator) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    for x, y in nprng.integers(0, (w, h), (6, 2)):
        cv2.circle(mask, (int(x), int(y)), int(nprng.integers(h // 40, h // 18)), 255, -1)
    return mask
