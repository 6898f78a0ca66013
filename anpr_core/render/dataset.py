"""Write labelled synthetic plate crops to disk, or stream them to a training loop."""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from anpr_core.plates import parse_plate, random_plate
from anpr_core.render.augment import augment_crop
from anpr_core.render.plate import RenderedPlate, render_plate


def synthetic_crop(seed: int, augment: bool = True) -> tuple[np.ndarray, RenderedPlate]:
    """One crop, fully determined by `seed` (so a dataset is reproducible image by image)."""
    rng = random.Random(seed)
    rendered = render_plate(random_plate(rng), None, rng)
    image = augment_crop(rendered.image, rng) if augment else rendered.image
    return image, rendered


def stream_crops(seed: int, augment: bool = True) -> Iterator[tuple[np.ndarray, str]]:
    index = 0
    while True:
        image, rendered = synthetic_crop(seed * 1_000_003 + index, augment)
        yield image, rendered.text
        index += 1


def write_dataset(out: Path, count: int, seed: int, augment: bool = True) -> Counter[str]:
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    styles: Counter[str] = Counter()
    with open(out / "labels.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "text", "format", "style"])
        for index in tqdm(range(count), desc="rendering plates", unit="img"):
            image, rendered = synthetic_crop(seed * 1_000_003 + index, augment)
            name = f"{index:06d}.jpg"
            cv2.imwrite(str(images / name), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
            writer.writerow(
                [name, rendered.text, parse_plate(rendered.text).format.value, rendered.style.value]
            )
            styles[rendered.style.value] += 1
    return styles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="render labelled synthetic Korean plate crops")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clean", action="store_true", help="no augmentation (flat plates)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    styles = write_dataset(args.out, args.count, args.seed, augment=not args.clean)
    elapsed = time.perf_counter() - started
    print(f"{args.count} images in {elapsed:.1f} s: {args.count / elapsed:.0f} images/s (one process)")
    for style, n in styles.most_common():
        print(f"  {style:22s} {n:6d} ({100 * n / args.count:.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
