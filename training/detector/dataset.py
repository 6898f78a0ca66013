"""Write the detector's YOLO dataset (ultralytics layout) from real photos and composites.

train: real photos of the train groups (linked, not copied) + Korean-ised copies of them +
procedural composites. val: the held-out groups of the real photos (ultralytics wants one; our
own validation is `scripts/bench/detector`, which also scores all 22 Korean scenes).
"""

from __future__ import annotations

import os
import random
from functools import partial
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from training.detector.composites import synthetic_scene
from training.detector.real_photos import (
    Box,
    LabelledPhoto,
    koreanised,
    load_detection_photos,
    split_photos,
    tight_real_crops,
)

KOREANISED_SEED = 20_260_000
SYNTHETIC_SEED = 0  # composites use seed·10⁷ + index (the benchmark and int8 calibration use others)


def write_example(image: np.ndarray, boxes: list[Box], images_dir: Path, labels_dir: Path, name: str) -> None:
    h, w = image.shape[:2]
    cv2.imwrite(str(images_dir / f"{name}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    lines = []
    for x0, y0, x1, y1 in boxes:
        x0, x1 = max(0.0, x0), min(float(w), x1)
        y0, y1 = max(0.0, y0), min(float(h), y1)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            lines.append(
                f"0 {(x0 + x1) / 2 / w:.6f} {(y0 + y1) / 2 / h:.6f} {(x1 - x0) / w:.6f} {(y1 - y0) / h:.6f}"
            )
    (labels_dir / f"{name}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))


def _link(photo: LabelledPhoto, images_dir: Path, labels_dir: Path) -> None:
    """The real photo as it is: a symlink to the image, its label copied beside it."""
    name = f"{photo.source}__{photo.path.stem}"
    target = images_dir / f"{name}.jpg"
    if not target.exists():
        os.symlink(photo.path.resolve(), target)
    label = photo.path.parent.parent / "labels" / f"{photo.path.stem}.txt"
    (labels_dir / f"{name}.txt").write_text(label.read_text())


def _write_koreanised(job: tuple[int, LabelledPhoto], out: Path, plates_dir: Path) -> None:
    index, photo = job
    made = koreanised(photo, KOREANISED_SEED + index, tight_real_crops(plates_dir))
    if made is not None:
        image, boxes = made
        write_example(image, boxes, out / "images/train", out / "labels/train", f"kor{index:06d}")


def _write_synthetic(index: int, out: Path) -> None:
    image, boxes = synthetic_scene(SYNTHETIC_SEED * 10_000_000 + index)
    write_example(image, boxes, out / "images/train", out / "labels/train", f"syn{index:06d}")


def build_dataset(
    out: Path,
    detection_dir: Path,
    plates_dir: Path,
    koreanised: int,
    synthetic: int,
    workers: int = 1,
    limit: int | None = None,
) -> Path:
    """Write the dataset under `out` and return its data.yaml."""
    for split in ("train", "val"):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    train, validation = split_photos(load_detection_photos(detection_dir))
    if limit:
        train, validation = train[:limit], validation[: max(4, limit // 6)]
    for photo in tqdm(train, desc="real photos"):
        _link(photo, out / "images/train", out / "labels/train")
    for photo in validation:
        _link(photo, out / "images/val", out / "labels/val")
    # Korean-ised copies of a seeded sample of the training photos (each photo at most once more
    # than any other), so every source contributes in proportion.
    rng = random.Random(KOREANISED_SEED)
    order = [train[i % len(train)] for i in rng.sample(range(len(train)), len(train))]
    jobs = [(i, order[i % len(order)]) for i in range(koreanised)]
    with Pool(workers) as pool:
        write = partial(_write_koreanised, out=out, plates_dir=plates_dir)
        for _ in tqdm(pool.imap_unordered(write, jobs, chunksize=8), total=len(jobs), desc="korean-ised"):
            pass
        write_syn = partial(_write_synthetic, out=out)
        for _ in tqdm(
            pool.imap_unordered(write_syn, range(synthetic), chunksize=8), total=synthetic, desc="composites"
        ):
            pass
    data_yaml = out / "data.yaml"
    data_yaml.write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\nnames:\n  0: plate\n")
    return data_yaml
