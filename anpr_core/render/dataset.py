"""Write labelled synthetic plate crops to disk, or stream them to a training loop.

Every image is a pure function of (seed, index), so a dataset is reproducible file by file
whatever the number of worker processes.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from anpr_core.plates import Plate, PlateFormat, PlateUse, parse_plate, random_plate
from anpr_core.render.augment import augment_crop
from anpr_core.render.plate import RenderedPlate, render_plate
from anpr_core.render.styles import PlateStyle, styles_for

JPEG_QUALITY = 92
# Which plates to draw when a style is asked for (then only those whose styles fit are kept).
_STYLE_HINTS: dict[PlateStyle, tuple[PlateFormat | None, PlateUse | None]] = {
    PlateStyle.WHITE_NEW8: (PlateFormat.NEW8, PlateUse.PRIVATE),
    PlateStyle.WHITE_OLD7: (PlateFormat.OLD7, PlateUse.PRIVATE),
    PlateStyle.WHITE_REGIONAL: (PlateFormat.REGIONAL, PlateUse.PRIVATE),
    PlateStyle.GREEN_TWO_LINE: (None, PlateUse.PRIVATE),
    PlateStyle.YELLOW_ONE_LINE: (None, PlateUse.COMMERCIAL),
    PlateStyle.YELLOW_TWO_LINE: (None, PlateUse.COMMERCIAL),
    PlateStyle.BLUE_EV: (None, PlateUse.PRIVATE),
    PlateStyle.ORANGE_CONSTRUCTION: (PlateFormat.REGIONAL, PlateUse.PRIVATE),
    PlateStyle.NAVY_DIPLOMATIC: (PlateFormat.DIPLOMATIC, None),
}


def plate_for_style(style: PlateStyle, rng: random.Random) -> Plate:
    """A random plate that really can carry `style` (e.g. a 외교 plate for the navy style)."""
    fmt, use = _STYLE_HINTS[style]
    for _ in range(200):
        plate = random_plate(rng, fmt, use)
        if style in styles_for(plate):
            return plate
    raise ValueError(f"no plate found for style {style}")


def synthetic_crop(
    seed: int, augment: bool = True, styles: Sequence[PlateStyle] | None = None, strength: float = 1.0
) -> tuple[np.ndarray, RenderedPlate]:
    """One crop, fully determined by its arguments (so a dataset is reproducible image by image)."""
    rng = random.Random(seed)
    if styles:
        style: PlateStyle | None = rng.choice(list(styles))
        assert style is not None
        plate = plate_for_style(style, rng)
    else:
        style, plate = None, random_plate(rng)
    rendered = render_plate(plate, style, rng)
    image = augment_crop(rendered.image, rng, strength=strength) if augment else rendered.image
    return image, rendered


def image_seed(seed: int, index: int) -> int:
    return seed * 1_000_003 + index


class RenderedPlateStream:
    """An endless, reproducible stream of (BGR crop, plate text) for on-the-fly training.

    Give each data-loader worker its own `seed` (or `start`) so workers never repeat each other.
    """

    def __init__(
        self,
        seed: int,
        augment: bool = True,
        styles: Sequence[PlateStyle] | None = None,
        start: int = 0,
        strength: float = 1.0,
    ) -> None:
        self.seed, self.augment, self.styles, self.index, self.strength = (
            seed,
            augment,
            styles,
            start,
            strength,
        )

    def __iter__(self) -> Iterator[tuple[np.ndarray, str]]:
        return self

    def __next__(self) -> tuple[np.ndarray, str]:
        image, rendered = synthetic_crop(
            image_seed(self.seed, self.index), self.augment, self.styles, self.strength
        )
        self.index += 1
        return image, rendered.text


def stream_crops(seed: int, augment: bool = True) -> Iterator[tuple[np.ndarray, str]]:
    return RenderedPlateStream(seed, augment)


def _render_one(job: tuple[int, int, bool, tuple[PlateStyle, ...] | None]) -> tuple[int, bytes, list[str]]:
    seed, index, augment, styles = job
    image, rendered = synthetic_crop(image_seed(seed, index), augment, styles)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f"could not encode image {index}")
    plate_format = render_format(rendered.text)
    return index, encoded.tobytes(), [rendered.text, plate_format, rendered.style.value]


def render_format(text: str) -> str:
    """The real labels.csv's format column: new8, old7, regional or other."""
    fmt = parse_plate(text).format
    return fmt.value if fmt in (PlateFormat.NEW8, PlateFormat.OLD7, PlateFormat.REGIONAL) else "other"


def write_dataset(
    out: Path,
    count: int,
    seed: int,
    augment: bool = True,
    styles: Sequence[PlateStyle] | None = None,
    workers: int = 1,
    progress: bool = True,
) -> Counter[str]:
    """Write `out/images/000001.jpg …` and `out/labels.csv` (file,text,format,style)."""
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    jobs = [(seed, index, augment, tuple(styles) if styles else None) for index in range(count)]
    counts: Counter[str] = Counter()
    rows: dict[int, list[str]] = {}
    pool = get_context("spawn").Pool(workers) if workers > 1 else None
    try:
        results = pool.imap_unordered(_render_one, jobs, chunksize=16) if pool else map(_render_one, jobs)
        for index, jpeg, row in tqdm(
            results, total=count, desc="rendering plates", unit="img", disable=not progress
        ):
            name = f"{index + 1:06d}.jpg"
            (images / name).write_bytes(jpeg)
            rows[index] = [name, *row]
            counts[row[2]] += 1
    finally:
        if pool:
            pool.close()
            pool.join()
    with open(out / "labels.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "text", "format", "style"])
        writer.writerows(rows[i] for i in range(count))
    return counts
