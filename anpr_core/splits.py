"""Train/validation split of the real data by plate text: no plate string is on both sides."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

VALIDATION_SHARE = 0.15


def is_validation_text(text: str, share: float = VALIDATION_SHARE) -> bool:
    bucket = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big") / 2**32
    return bucket < share


@dataclass(frozen=True)
class LabelledCrop:
    path: Path
    text: str
    format: str


def real_crops(plates_dir: Path) -> tuple[list[LabelledCrop], list[LabelledCrop]]:
    """(train, validation) crops from ../shared/data/plates/labels.csv, split by text."""
    with open(plates_dir / "labels.csv", encoding="utf-8") as f:
        rows = [LabelledCrop(plates_dir / r["file"], r["text"], r["format"]) for r in csv.DictReader(f)]
    train = [r for r in rows if not is_validation_text(r.text)]
    validation = [r for r in rows if is_validation_text(r.text)]
    return train, validation
