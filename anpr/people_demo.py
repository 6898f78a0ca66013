"""The demo's people cameras (issue 23): two fed by real CCTV frames, one by simulated walkers.

- `P01` and `P02`: the real indoor mall sequence (../shared/data/people, fixed 640×480 CCTV), the
  first and second hundred frames, replayed at 1 fps through the person detector. P01 watches the
  floor's crowd density, counted by the mall density head (`density_head = "mall"`: ~0.3 core at
  1 fps; levels change as 13–53 people come and go); P02 has a closed zone in
  front of the kiosk (intrusion) and a loitering zone by the palm.
- `SIM1`: the simulated walkers of `anpr/simulator/walkers.py` (the rules' ground truth in the
  benchmark), drawn on a plain ground plane, at 5 fps: walkers intrude into the closed zone and
  linger in the lobby, so intrusion and loitering events reach the board every minute or two.

The mall calibration is a rough one (a walkway about 8 m wide at the bottom of the frame and 20 m
at the far end, 22 m deep), good enough for the demo's density levels, not for figures.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import cv2
import numpy as np

from anpr.simulator import walkers
from anpr_core.settings import Settings
from monitor.analytics import CameraAnalytics
from monitor.people.types import Person

WALKERS_SOURCE = "sim:walkers"
MALL_IMAGE_POINTS = [[0, 480], [640, 480], [640, 60], [0, 60]]
MALL_GROUND_POINTS = [[0, 0], [8, 0], [14, 22], [-6, 22]]


def _mall_frames(settings: Settings, root: Path) -> list[Path]:
    """Link the mall frames into two camera folders (the shared set mixes in street photos)."""
    data = settings.paths.shared_data / "people"
    labels = json.loads((data / "labels.json").read_text(encoding="utf-8"))
    mall = sorted(item["file"] for item in labels if item["set"] == "mall")
    folders = []
    for name, files in (("P01", mall[:100]), ("P02", mall[100:])):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for file in files:
            link = folder / file
            if not link.exists():
                link.symlink_to((data / "images" / file).resolve())
        folders.append(folder)
    return folders


def _polygon(points: list[tuple[float, float]]) -> str:
    return json.dumps([[round(x, 1), round(y, 1)] for x, y in points])


def write_demo_analytics(settings: Settings) -> Path:
    """The demo's analytics file (people.analytics_path for `anpr people-monitor`)."""
    root = settings.paths.var_dir / "demo" / "people"
    p01, p02 = _mall_frames(settings, root / "frames")
    sim = walkers.camera()
    calibration = f"image_points = {MALL_IMAGE_POINTS}\nground_points = {MALL_GROUND_POINTS}\n"
    text = f"""# Written by `anpr demo` (anpr/people_demo.py): the demo's people cameras.
[[camera]]
id = "P01"
fps = 1
source = "{p01}"
crowd_counter = "density"   # the floor's crowd by the mall density head (indoor CCTV, read at 960)
density_head = "mall"
{calibration}
[[camera.zone]]
name = "floor"
polygon = [[0, 470], [640, 470], [640, 70], [0, 70]]
density_levels = [0.06, 0.08, 0.1, 0.13]   # demo thresholds: about 17, 23, 29 and 38 people
confirm_s = 2
clear_s = 10

[[camera]]
id = "P02"
fps = 1
source = "{p02}"
{calibration}
[[camera.zone]]
name = "kiosk"
polygon = [[150, 300], [300, 300], [300, 470], [150, 470]]
closed = ["always"]
confirm_s = 1

[[camera.zone]]
name = "palm"
polygon = [[250, 200], [400, 200], [400, 330], [250, 330]]
loiter_s = 30

[[camera]]
id = "{sim.id}"
fps = {sim.fps}
source = "{WALKERS_SOURCE}"
image_points = {json.dumps(walkers.IMAGE_POINTS)}
ground_points = {json.dumps(walkers.GROUND_POINTS)}
"""
    for zone in sim.zone:
        text += f'\n[[camera.zone]]\nname = "{zone.name}"\npolygon = {_polygon(zone.polygon)}\n'
        text += 'closed = ["always"]\n' if zone.closed else f"loiter_s = {zone.loiter_s}\n"
    path = root / "people.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _ground_image(camera: CameraAnalytics) -> np.ndarray:
    """A plain ground plane with a 1 m grid, as the simulated camera would see it."""
    image = np.full((480, 640, 3), (92, 98, 96), np.uint8)
    to_image = np.linalg.inv(camera.ground_matrix())

    def project(x: float, y: float) -> tuple[int, int]:
        p = to_image @ np.array([x, y, 1.0])
        return int(p[0] / p[2]), int(p[1] / p[2])

    for x in range(0, int(walkers.GROUND[0]) + 1):
        cv2.line(image, project(x, 0), project(x, walkers.GROUND[1]), (110, 116, 114), 1)
    for y in range(0, int(walkers.GROUND[1]) + 1):
        cv2.line(image, project(0, y), project(walkers.GROUND[0], y), (110, 116, 114), 1)
    return image


def walker_feed(camera: CameraAnalytics) -> Iterator[tuple[np.ndarray, list[Person]]]:
    """Endless: ten simulated minutes of walkers after another, each frame drawn with its persons
    (what the detector would have returned: misses, jitter and false boxes included)."""
    background = _ground_image(camera)
    for seed in count(100):
        group = walkers.make_walkers(seed, minutes=10)
        for frame in walkers.frames(group, camera, camera.fps, minutes=10, seed=seed):
            image = background.copy()
            for person in frame.persons:
                x1, y1, x2, y2 = (int(v) for v in person.box)
                cv2.rectangle(image, (x1, y1), (x2, y2), (60, 60, 200), -1)
                cv2.circle(
                    image, ((x1 + x2) // 2, y1 + (x2 - x1) // 3), max(2, (x2 - x1) // 3), (150, 180, 220), -1
                )
            yield image, frame.persons


FEEDS = {WALKERS_SOURCE: walker_feed}
