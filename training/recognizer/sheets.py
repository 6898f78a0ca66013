"""Contact sheet: real crops next to synthetic ones, one row per plate type.

    PYTHONPATH=. .venv/bin/python -m training.recognizer.sheets [--out FILE.png]

Each row shows up to four real crops of a type (from `../shared/data`, types as in
`training/recognizer/report.py`) and then four synthetic crops of the same type rendered by
`anpr_core/render` with the camera augmentation the training uses, so a person can see where
the renderer still differs from what cameras deliver.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from PIL import Image, ImageDraw

from anpr_core.plates import PlateFormat, parse_plate, random_plate
from anpr_core.render.augment import augment_crop
from anpr_core.render.contact_sheet import _tile
from anpr_core.render.fonts import plate_font
from anpr_core.render.plate import STACKED_REGION_FOR_TRAINING, render_plate
from anpr_core.render.styles import PlateStyle
from training.recognizer.heldout import Sample, load_samples
from training.recognizer.report import colour_and_layout

OUT = Path(__file__).resolve().parents[2] / "docs" / "contact_sheet_real_vs_synthetic.png"
PER_SIDE = 4

# (row title, the synthetic style and plate format drawn for it)
ROWS: list[tuple[str, PlateStyle, PlateFormat]] = [
    ("white one-line old7", PlateStyle.WHITE_OLD7, PlateFormat.OLD7),
    ("white new8", PlateStyle.WHITE_NEW8, PlateFormat.NEW8),
    ("one-line, stacked region", PlateStyle.WHITE_REGIONAL, PlateFormat.REGIONAL),
    ("two-line, green / grey", PlateStyle.GREEN_TWO_LINE, PlateFormat.OLD7),
    ("two-line, yellow", PlateStyle.YELLOW_TWO_LINE, PlateFormat.REGIONAL),
    ("blue EV", PlateStyle.BLUE_EV, PlateFormat.NEW8),
    ("grey (infrared) one-line", PlateStyle.WHITE_OLD7, PlateFormat.OLD7),
]


def row_of(sample: Sample) -> str | None:
    """Which row a real crop belongs to (None: none of them)."""
    colour, layout = colour_and_layout(sample)
    if layout == "one-line stacked region":
        return "one-line, stacked region"
    if layout == "two-line":
        return "two-line, yellow" if colour == "yellow" else "two-line, green / grey"
    if colour == "blue":
        return "blue EV"
    if colour == "grey":
        return "grey (infrared) one-line"
    if sample.format == "new8":
        return "white new8"
    return "white one-line old7" if colour == "white" and sample.format == "old7" else None


def _synthetic(style: PlateStyle, fmt: PlateFormat, rng: random.Random, grey: bool) -> tuple[object, str]:
    for _ in range(100):
        plate = random_plate(rng, fmt)
        commercial = style is PlateStyle.YELLOW_TWO_LINE
        if commercial and plate.use_char not in "바사아자배":
            continue
        if style is PlateStyle.WHITE_REGIONAL and plate.use_char in "바사아자배":
            continue
        image = augment_crop(
            render_plate(parse_plate(plate.text), style, rng, STACKED_REGION_FOR_TRAINING).image,
            rng,
            strength=0.6,
        )
        if grey:
            import cv2

            image = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        return image, plate.text
    raise RuntimeError(f"no plate of {fmt} fits {style}")


def sheet(samples: list[Sample], seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    tiles_per_row = 2 * PER_SIDE
    tile_w, tile_h = _tile(samples[0].image, "x").size
    label_w = 190
    height = 30 + len(ROWS) * (tile_h + 4)
    out = Image.new("RGB", (label_w + tiles_per_row * (tile_w + 4) + 14, height), (230, 230, 230))
    draw = ImageDraw.Draw(out)
    title = f"real (left) vs synthetic (right: anpr_core/render + augment_crop 0.6, seed {seed})"
    draw.text((6, 5), title, font=plate_font(18, "Bold"), fill=(0, 0, 0))
    for r, (name, style, fmt) in enumerate(ROWS):
        y = 30 + r * (tile_h + 4)
        draw.text((6, y + tile_h // 2 - 8), name, font=plate_font(14, "Bold"), fill=(0, 0, 0))
        real = [s for s in samples if row_of(s) == name]
        rng.shuffle(real)
        for i, s in enumerate(real[:PER_SIDE]):
            out.paste(_tile(s.image, f"{s.text} {s.split}"), (label_w + i * (tile_w + 4), y))
        grey = "grey" in name
        for i in range(PER_SIDE):
            image, text = _synthetic(style, fmt, rng, grey)
            x = label_w + (PER_SIDE + i) * (tile_w + 4) + 10
            out.paste(_tile(image, f"{text} synthetic"), (x, y))  # type: ignore[arg-type]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sheet(load_samples(), args.seed).save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
