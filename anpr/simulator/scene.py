"""One simulated camera: a static road scene and vehicles with rendered plates passing through.

Passes are scheduled from a seeded RNG, so a camera's whole day is reproducible and its ground
truth (plate, enter/leave time) is known before a frame is drawn. Idle frames are identical,
which is what lets the simulator (cached JPEG) and the workers (motion gate) spend nothing on them.

Vehicles on a journey through several cameras (anpr/simulator/journeys.py) are booked on each
camera ahead of time with `reserve`; the random traffic makes way for them, so passes on one
camera still never overlap.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import cv2
import numpy as np

from anpr_core.plates import random_plate
from anpr_core.render.plate import render_plate

FRAME_SIZE = (640, 360)  # smaller than a real 1280×720 camera to fit 45 feeds on 2 cores
PLATE_WIDTH = (80, 120)  # px at 640 wide: a real ANPR camera's 160–240 px at 1280
LEAD_S = 0.5  # the vehicle's body is in view this long before its plate enters the frame
CLEAR_S = 0.5  # at least this much empty road between two vehicles on one camera


class PassConflict(ValueError):
    """A booked pass would overlap another vehicle on the same camera."""


@dataclass(frozen=True)
class Conditions:
    night: bool = False
    blur: float = 0.0  # Gaussian sigma in px
    rain: bool = False


@dataclass(frozen=True)
class Pass:
    pass_id: str
    camera_id: str
    plate: str
    enter: datetime
    leave: datetime
    plate_image: np.ndarray
    vehicle_colour: tuple[int, int, int]
    lane_x: float
    journey_id: str | None = None  # set for a vehicle driving a route through several cameras
    leg: int | None = None  # 1-based position of this camera on the journey's route

    def truth(self) -> dict[str, str | int]:
        row: dict[str, str | int] = {
            "pass_id": self.pass_id,
            "camera_id": self.camera_id,
            "plate": self.plate,
            "enter": self.enter.isoformat(),
            "leave": self.leave.isoformat(),
        }
        if self.journey_id is not None and self.leg is not None:
            row["journey_id"], row["leg"] = self.journey_id, self.leg
        return row


def sized_plate(rendered: np.ndarray, width: int) -> np.ndarray:
    """The rendered plate scaled to `width` px, as the camera sees it."""
    height = max(12, round(width * rendered.shape[0] / rendered.shape[1]))
    return cv2.resize(rendered, (width, height), interpolation=cv2.INTER_AREA)


def _background(rng: random.Random, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (rng.randint(70, 100),) * 3
    horizon = int(h * 0.18)
    img[:horizon] = (rng.randint(150, 220), rng.randint(120, 190), rng.randint(90, 140))
    for x in (w // 3, 2 * w // 3):
        for y in range(horizon, h, 40):
            cv2.line(img, (x, y), (x, y + 20), (220, 220, 220), 3)
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 4, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


class CameraScene:
    def __init__(
        self,
        camera_id: str,
        seed: int,
        start: datetime,
        gap_s: tuple[float, float] = (10.0, 60.0),
        crossing_s: tuple[float, float] = (2.0, 3.5),
        conditions: Conditions = Conditions(),
        size: tuple[int, int] = FRAME_SIZE,
    ) -> None:
        self.camera_id, self.size, self.conditions = camera_id, size, conditions
        self.gap_s, self.crossing_s = gap_s, crossing_s
        self._rng = random.Random(f"{camera_id}:{seed}")
        self.background = _background(self._rng, size)
        if conditions.night:
            # IR-lit ANPR camera at night: a dark scene, the retro-reflective plate still bright.
            self.background = (self.background * 0.3).astype(np.uint8)
        self.passes: list[Pass] = []
        self._enters: list[datetime] = []
        self._reserved: list[Pass] = []  # journey passes booked ahead, by enter time
        # The first vehicle comes soon so short runs still see traffic on every camera.
        self._next_at = start + timedelta(seconds=self._rng.uniform(1.0, gap_s[0]))

    def passes_until(self, until: datetime) -> list[Pass]:
        """Schedule passes up to `until`; returns the newly scheduled ones."""
        new = []
        while True:
            booked = self._reserved[0] if self._reserved else None
            # A booked vehicle goes first when a random one entering next could still be in view.
            if booked is not None and booked.enter - timedelta(seconds=LEAD_S + CLEAR_S) < (
                self._next_at + timedelta(seconds=self.crossing_s[1])
            ):
                if booked.enter > until:
                    break
                self._reserved.pop(0)
                new.append(self._add(replace(booked, pass_id=self._next_pass_id())))
                after = booked.leave + timedelta(seconds=self._rng.uniform(*self.gap_s))
                self._next_at = max(self._next_at, after)
                continue
            if self._next_at > until:
                break
            rng = self._rng
            plate = random_plate(rng)
            rendered = render_plate(plate, None, rng).image
            image = sized_plate(rendered, rng.randint(*PLATE_WIDTH))
            crossing = rng.uniform(*self.crossing_s)
            p = Pass(
                pass_id=self._next_pass_id(),
                camera_id=self.camera_id,
                plate=plate.text,
                enter=self._next_at,
                leave=self._next_at + timedelta(seconds=crossing),
                plate_image=image,
                vehicle_colour=(rng.randint(20, 230), rng.randint(20, 230), rng.randint(20, 230)),
                lane_x=rng.uniform(0.3, 0.7),
            )
            new.append(self._add(p))
            self._next_at = p.leave + timedelta(seconds=rng.uniform(*self.gap_s))
        return new

    def _next_pass_id(self) -> str:
        return f"{self.camera_id}-{len(self.passes) + 1:05d}"

    def _add(self, p: Pass) -> Pass:
        self.passes.append(p)
        self._enters.append(p.enter)
        return p

    def conflict(self, enter: datetime, leave: datetime) -> str | None:
        """Why a vehicle in view from `enter` to `leave` cannot be booked here, or None."""
        clear = timedelta(seconds=LEAD_S + CLEAR_S)
        if self.passes and enter - clear < self.passes[-1].leave:
            return f"{self.camera_id} is already scheduled until {self.passes[-1].leave.isoformat()}"
        for other in self._reserved:
            if enter - clear < other.leave and other.enter - clear < leave:
                return f"{self.camera_id} has {other.plate} in view from {other.enter.isoformat()}"
        return None

    def reserve(self, p: Pass) -> None:
        """Book a pass (a journey's vehicle); raises `PassConflict` if it would overlap another."""
        problem = self.conflict(p.enter, p.leave)
        if problem:
            raise PassConflict(problem)
        bisect.insort(self._reserved, p, key=lambda q: q.enter)

    def active(self, at: datetime) -> list[Pass]:
        self.passes_until(at)
        # Vehicles are drawn a little before/after the plate is in view (the body enters first).
        # Passes never overlap on one camera, so only the last one entering before `at` can be in view.
        i = bisect.bisect_right(self._enters, at + timedelta(seconds=0.5))
        return [
            p for p in self.passes[max(0, i - 2) : i] if p.enter - timedelta(seconds=0.5) <= at <= p.leave
        ]

    def frame_at(self, at: datetime) -> np.ndarray:
        frame = self.background.copy()
        for p in self.active(at):
            self._draw_vehicle(frame, p, at)
        return self._effects(frame)

    def _draw_vehicle(self, frame: np.ndarray, p: Pass, at: datetime) -> None:
        w, h = self.size
        total = (p.leave - p.enter).total_seconds()
        progress = (at - p.enter).total_seconds() / total  # 0: plate enters at the top; 1: leaves
        ph, pw = p.plate_image.shape[:2]
        vw, vh = int(pw * 3.2), int(pw * 2.4)
        cx = int(p.lane_x * w)
        plate_top = int(-ph + progress * (h + ph))  # the plate crosses the whole frame height
        body_top = plate_top - int(vh * 0.75)
        x0, x1 = cx - vw // 2, cx + vw // 2
        cv2.rectangle(frame, (x0, body_top), (x1, body_top + vh), p.vehicle_colour, -1)
        cv2.rectangle(
            frame, (x0 + vw // 8, body_top + vh // 10), (x1 - vw // 8, body_top + vh // 3), (40, 40, 50), -1
        )
        for lx in (x0 + vw // 12, x1 - vw // 12 - vw // 8):
            cv2.rectangle(frame, (lx, plate_top - ph), (lx + vw // 8, plate_top), (30, 30, 200), -1)
        px0 = cx - pw // 2
        ys, ye = max(0, plate_top), min(h, plate_top + ph)
        if ye > ys:
            frame[ys:ye, px0 : px0 + pw] = p.plate_image[ys - plate_top : ye - plate_top]

    def _effects(self, frame: np.ndarray) -> np.ndarray:
        c = self.conditions
        if c.blur > 0:
            frame = cv2.GaussianBlur(frame, (0, 0), c.blur)
        if c.rain:
            rng = np.random.default_rng()
            for x, y in rng.integers(0, (self.size[0], self.size[1]), (60, 2)):
                cv2.line(frame, (int(x), int(y)), (int(x) - 3, int(y) + 14), (200, 200, 200), 1)
        return frame
