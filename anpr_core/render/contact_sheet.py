"""Labelled grids of plate crops, so people can compare synthetic plates with real ones by eye."""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from anpr_core.render.augment import augment_crop
from anpr_core.render.dataset import plate_for_style
from anpr_core.render.fonts import plate_font
from anpr_core.render.plate import render_plate
from anpr_core.render.styles import PlateStyle

TILE_W, TILE_H, LABEL_H = 200, 80, 18


def _tile(image_bgr: np.ndarray, label: str) -> Image.Image:
    """The crop fitted (aspect kept) into a fixed tile, its label in the Korean font below."""
    tile = Image.new("RGB", (TILE_W, TILE_H + LABEL_H), (255, 255, 255))
    h, w = image_bgr.shape[:2]
    scale = min(TILE_W / w, TILE_H / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    rgb = cv2.cvtColor(cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    tile.paste(Image.fromarray(rgb), ((TILE_W - size[0]) // 2, (TILE_H - size[1]) // 2))
    ImageDraw.Draw(tile).text((3, TILE_H + 1), label, font=plate_font(13, "Bold"), fill=(0, 0, 0))
    return tile


def grid(tiles: Sequence[Image.Image], columns: int, title: str) -> Image.Image:
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new(
        "RGB", (columns * (TILE_W + 4) + 4, rows * (TILE_H + LABEL_H + 4) + 30), (230, 230, 230)
    )
    ImageDraw.Draw(sheet).text((6, 5), title, font=plate_font(18, "Bold"), fill=(0, 0, 0))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, (4 + (i % columns) * (TILE_W + 4), 30 + (i // columns) * (TILE_H + LABEL_H + 4)))
    return sheet


def synthetic_sheet(seed: int = 0, per_style: int = 5) -> Image.Image:
    """Each style: one clean plate, then `per_style` augmented crops of fresh plates."""
    rng = random.Random(seed)
    tiles = []
    for style in PlateStyle:
        for i in range(per_style + 1):
            rendered = render_plate(plate_for_style(style, rng), style, rng)
            image = augment_crop(rendered.image, rng) if i else rendered.image
            tiles.append(_tile(image, f"{rendered.text}  {style.value}"))
    return grid(tiles, per_style + 1, f"synthetic plates (seed {seed}): clean, then augmented")


def real_sheet(plates_dir: Path, count: int = 54, seed: int = 0) -> Image.Image:
    """A random sample of real crops from a folder with labels.csv (file,text,format,…)."""
    with open(plates_dir / "labels.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    random.Random(seed).shuffle(rows)
    # Show every rare format first (new8, regional, other), then the common old7 crops.
    rows.sort(key=lambda r: r["format"] == "old7")
    tiles = []
    for row in rows[:count]:
        image = cv2.imread(str(plates_dir / row["file"]), cv2.IMREAD_COLOR)
        if image is not None:
            tiles.append(_tile(image, f"{row['text']}  {row['format']}"))
    return grid(tiles, 6, f"real plate crops ({plates_dir.name}/labels.csv sample)")


def main(argv: list[str] | None = None) -> int:
    """python -m anpr_core.render.contact_sheet --docs docs: both sheets, each kept under 1 MB."""
    parser = argparse.ArgumentParser(description="contact sheets of synthetic and real plate crops")
    parser.add_argument("--docs", type=Path, default=Path("docs"))
    parser.add_argument("--plates", type=Path, default=Path("/work/shared/data/plates"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    synthetic_sheet(args.seed).save(args.docs / "contact_sheet_synthetic.jpg", quality=82)
    if (args.plates / "labels.csv").is_file():
        real_sheet(args.plates, seed=args.seed).save(args.docs / "contact_sheet_real.jpg", quality=82)
    return 0


if __name__ == "__main__":
    sys.exit(main())
