"""Per-camera analytics settings: zones (image polygons), their schedules and rules, and the
camera's ground-plane calibration. Read from `people.analytics_path` (TOML), validated as one
pydantic model at start, like the service settings: a bad zone fails with its field named.

    [[camera]]
    id = "P01"
    fps = 5
    # image pixel (x, y, 1) → ground metres: 3×3 homography (4 image points of known ground
    # positions give it; `ground_points` and `image_points` may be given instead)
    homography = [[...], [...], [...]]

    [[camera.zone]]
    name = "rooftop"
    polygon = [[x, y], ...]         # image pixels
    closed = ["22:00-06:00"]         # intrusion: any person inside while closed (local time)
    loiter_s = 60                    # loitering: the same track inside longer than this
    density_levels = [0.5, 1.0, 2.0, 3.0]   # persons/m² for 관심, 주의, 경계, 심각
"""

from __future__ import annotations

import itertools
import tomllib
from datetime import datetime, time
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from monitor.people.density import HEAD_FILE, MALL_HEAD_FILE

DENSITY_LEVEL_NAMES = ("관심", "주의", "경계", "심각")
# A camera's `density_head` by name → its file in people.model (monitor/people/density.py).
DENSITY_HEADS = {"street": HEAD_FILE, "mall": MALL_HEAD_FILE}


def density_head_path(head: str, model_dir: Path) -> Path:
    """The head file a camera's `density_head` names (a name, or an .npz path relative to model_dir)."""
    return Path(model_dir) / DENSITY_HEADS.get(head, head)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_window(text: str) -> tuple[time, time]:
    start, end = text.split("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


class Zone(_Model):
    name: str = Field(pattern=r"^[\w.-]{1,64}$")
    polygon: list[tuple[float, float]] = Field(min_length=3)
    closed: list[str] = []  # "HH:MM-HH:MM" windows (may cross midnight); "always" = always closed
    loiter_s: float | None = Field(default=None, gt=0, le=86_400)
    density_levels: list[float] | None = Field(default=None, min_length=4, max_length=4)
    # A level is left only when the density is below its threshold × (1 − hysteresis).
    hysteresis: float = Field(default=0.2, ge=0, lt=1)
    # Seconds a condition must hold before it is an event (a one-frame detection is not).
    confirm_s: float = Field(default=0.4, ge=0, le=60)
    # Seconds without the condition that end an episode (a missed detection does not).
    clear_s: float = Field(default=3.0, ge=0, le=600)

    @field_validator("closed")
    @classmethod
    def _windows(cls, windows: list[str]) -> list[str]:
        for window in windows:
            if window != "always":
                _parse_window(window)
        return windows

    @field_validator("density_levels")
    @classmethod
    def _ascending(cls, levels: list[float] | None) -> list[float] | None:
        if levels is not None and (any(b <= a for a, b in itertools.pairwise(levels)) or levels[0] <= 0):
            raise ValueError("density_levels must be four ascending persons/m² thresholds")
        return levels

    def is_closed(self, when: datetime) -> bool:
        now = when.time()
        for window in self.closed:
            if window == "always":
                return True
            start, end = _parse_window(window)
            if (start <= now < end) if start <= end else (now >= start or now < end):
                return True
        return False

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Which image points (N×2) are inside the polygon (boundary counts as inside)."""
        contour = np.asarray(self.polygon, np.float32).reshape(-1, 1, 2)
        return np.array(
            [cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0 for x, y in points], bool
        )


class CameraAnalytics(_Model):
    id: str = Field(pattern=r"^[\w-]{1,32}$")
    fps: float = Field(default=5.0, gt=0, le=30)
    # Where frames come from: a video file or stream URL (OpenCV), or a directory of frames
    # (replayed at `fps`, e.g. the mall sequence for the demo's people cameras).
    source: str | None = None
    # How a density zone counts its people: person boxes (people ≥ ~30 px tall) or the density
    # head (dense far crowds; monitor/people/density.py).
    crowd_counter: Literal["boxes", "density"] = "boxes"
    # Which density head counts (with crowd_counter = "density"): "street" (elevated street views,
    # read at 2048 px: ~1.3 cores at 1 fps), "mall" (indoor CCTV, read at 960: ~0.3 core), or an
    # .npz head file (relative paths: in people.model). Each head carries its own input size.
    density_head: str = Field(default="street", min_length=1, max_length=255)
    homography: list[list[float]] | None = None
    image_points: list[tuple[float, float]] | None = None
    ground_points: list[tuple[float, float]] | None = None
    zone: list[Zone] = []

    @field_validator("density_head")
    @classmethod
    def _head(cls, head: str, info: ValidationInfo) -> str:
        if head not in DENSITY_HEADS and not head.endswith(".npz"):
            raise ValueError(f"density_head must be {' or '.join(map(repr, DENSITY_HEADS))} or an .npz file")
        model_dir = (info.context or {}).get("model_dir")
        if model_dir is not None and not density_head_path(head, Path(model_dir)).is_file():
            raise ValueError(f"density_head {head!r}: no file {density_head_path(head, Path(model_dir))}")
        return head

    @model_validator(mode="after")
    def _calibration(self) -> CameraAnalytics:
        if self.homography is not None and np.asarray(self.homography).shape != (3, 3):
            raise ValueError("homography must be 3×3")
        if (self.image_points is None) != (self.ground_points is None):
            raise ValueError("image_points and ground_points go together")
        if self.image_points is not None and len(self.image_points) != len(self.ground_points or []):
            raise ValueError("image_points and ground_points must pair up")
        if any(z.density_levels for z in self.zone) and self.ground_matrix() is None:
            raise ValueError("a density zone needs the camera's ground-plane calibration")
        return self

    def ground_matrix(self) -> np.ndarray | None:
        if self.homography is not None:
            return np.asarray(self.homography, np.float64)
        if self.image_points is not None and self.ground_points is not None:
            matrix, _ = cv2.findHomography(
                np.asarray(self.image_points, np.float64), np.asarray(self.ground_points, np.float64)
            )
            return matrix
        return None

    def to_ground(self, points: np.ndarray) -> np.ndarray:
        matrix = self.ground_matrix()
        if matrix is None:
            raise ValueError(f"camera {self.id} has no ground-plane calibration")
        pts = np.asarray(points, np.float64).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(pts, matrix).reshape(-1, 2)

    def zone_area_m2(self, zone: Zone) -> float:
        ground = self.to_ground(np.asarray(zone.polygon))
        x, y = ground[:, 0], ground[:, 1]
        return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)


class AnalyticsConfig(_Model):
    camera: list[CameraAnalytics] = []

    @model_validator(mode="after")
    def _unique(self) -> AnalyticsConfig:
        ids = [c.id for c in self.camera]
        if len(ids) != len(set(ids)):
            raise ValueError("camera ids must be unique")
        return self

    def for_camera(self, camera_id: str) -> CameraAnalytics | None:
        return next((c for c in self.camera if c.id == camera_id), None)


def load_analytics(path: Path, model_dir: Path | None = None) -> AnalyticsConfig:
    """`model_dir` (people.model): also check that each camera's density head file is there."""
    if not Path(path).is_file():
        return AnalyticsConfig()
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return AnalyticsConfig.model_validate(data, context={"model_dir": model_dir})
