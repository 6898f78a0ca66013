"""Training batches: real crops (augmented) mixed with synthetic plates rendered on the fly."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from anpr_core.plates import PlateFormat, random_plate
from anpr_core.render.augment import augment_crop
from anpr_core.render.dataset import synthetic_crop
from anpr_core.render.plate import render_plate
from anpr_core.render.styles import STYLE_SPECS
from anpr_core.splits import LabelledCrop
from lpr.recognizer.charset import encode
from lpr.recognizer.preprocess import to_model_input


def jitter_real(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """Light, label-preserving augmentation of a real crop."""
    h, w = image.shape[:2]
    # Crop jitter: detector boxes are never exactly the same twice.
    dx0, dx1 = (int(w * rng.uniform(0, 0.06)) for _ in range(2))
    dy0, dy1 = (int(h * rng.uniform(0, 0.08)) for _ in range(2))
    image = image[dy0 : h - dy1 or h, dx0 : w - dx1 or w]
    angle = rng.uniform(-4, 4)
    matrix = cv2.getRotationMatrix2D((image.shape[1] / 2, image.shape[0] / 2), angle, rng.uniform(0.92, 1.05))
    image = cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    image = np.clip(image.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30), 0, 255)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.2))
    if rng.random() < 0.3:
        factor = rng.uniform(0.35, 0.8)
        small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        image = cv2.resize(small, (image.shape[1], image.shape[0]))
    return image.astype(np.uint8)


class RealCrops(Dataset[tuple[np.ndarray, str]]):
    def __init__(self, crops: list[LabelledCrop], augment: bool) -> None:
        self.images = [cv2.imread(str(c.path), cv2.IMREAD_COLOR) for c in crops]
        self.texts = [c.text for c in crops]
        self.augment = augment

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> tuple[np.ndarray, str]:
        image = self.images[index]
        if self.augment:
            image = jitter_real(image, random.Random())
        return to_model_input(image), self.texts[index]


# Two-line plates (green, yellow two-line, orange): the hardest layout (region + class digits
# small on top), and the one the workers see the simulator render.
TWO_LINE_STYLES = tuple(style for style, spec in STYLE_SPECS.items() if spec.two_line)


def two_line_synthetic_crop(seed: int, strength: tuple[float, float] = (0.4, 1.0)) -> tuple[np.ndarray, str]:
    """A synthetic crop of a two-line plate style; a pure function of `seed`."""
    image, rendered = synthetic_crop(
        seed, styles=TWO_LINE_STYLES, strength=random.Random(seed ^ 0x5EED).uniform(*strength)
    )
    return image, rendered.text


class MixedStream(IterableDataset[tuple[np.ndarray, str, bool]]):
    """Endless (input, text, is_real) samples: a share `real_share` from the real training crops,
    the rest synthetic.

    `real_weights` (one per real crop) oversamples some crops, e.g. those the starting model
    misreads; `format_weights` sets the synthetic mix of plate formats (default: the renderer's);
    a share `two_line_share` of the synthetic samples are two-line plates.
    """

    def __init__(
        self,
        real: RealCrops,
        real_share: float,
        seed: int,
        real_weights: list[float] | None = None,
        format_weights: dict[PlateFormat, float] | None = None,
        two_line_share: float = 0.0,
        stacked_region: float = 0.0,
    ) -> None:
        self.real, self.real_share, self.seed = real, real_share, seed
        self.real_weights, self.format_weights = real_weights, format_weights
        self.two_line_share, self.stacked_region = two_line_share, stacked_region

    def __iter__(self):  # type: ignore[no-untyped-def]
        info = get_worker_info()
        worker = info.id if info is not None else 0
        rng = random.Random(self.seed * 7919 + worker)
        indices = range(len(self.real))
        index = 0
        while True:
            if rng.random() < self.real_share:
                if self.real_weights is None:
                    yield (*self.real[rng.randrange(len(self.real))], True)
                else:
                    yield (*self.real[rng.choices(indices, weights=self.real_weights)[0]], True)
                continue
            seed = (self.seed * 1000 + worker) * 10_000_000 + index
            index += 1
            if rng.random() < self.two_line_share:
                image, text = two_line_synthetic_crop(seed)
                yield to_model_input(image), text, False
            elif self.format_weights is None:
                image, rendered = synthetic_crop(seed)
                yield to_model_input(image), rendered.text, False
            else:
                image, text = weighted_synthetic_crop(
                    seed, self.format_weights, stacked_region=self.stacked_region
                )
                yield to_model_input(image), text, False


def collate(
    batch: list[tuple[np.ndarray, str, bool]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[str], torch.Tensor]:
    """→ images, concatenated targets, target lengths, texts, which samples are real crops."""
    images = torch.from_numpy(np.stack([b[0] for b in batch]))
    texts = [b[1] for b in batch]
    targets = torch.tensor([i for t in texts for i in encode(t)], dtype=torch.long)
    lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
    return images, targets, lengths, texts, torch.tensor([b[2] for b in batch], dtype=torch.bool)


def plates_dir_default() -> Path:
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "plates"


def parse_format_weights(spec: str | None) -> dict[PlateFormat, float] | None:
    """ "regional=0.4,old7=0.3,…" → weights per plate format (None: the renderer's natural mix)."""
    if not spec:
        return None
    weights = {}
    for part in spec.split(","):
        name, _, value = part.partition("=")
        weights[PlateFormat(name.strip())] = float(value)
    return weights


def weighted_synthetic_crop(
    seed: int,
    format_weights: dict[PlateFormat, float],
    strength: tuple[float, float] = (0.4, 1.0),
    stacked_region: float = 0.0,
) -> tuple[np.ndarray, str]:
    """A synthetic crop of a plate format drawn by `format_weights` (style as the renderer picks
    it for that plate), camera-augmented at a random strength; a pure function of `seed`."""
    rng = random.Random(seed)
    fmt = rng.choices(list(format_weights), weights=list(format_weights.values()))[0]
    plate = random_plate(rng, fmt)
    rendered = render_plate(plate, None, rng, stacked_region)
    image = augment_crop(rendered.image, rng, strength=rng.uniform(*strength))
    return image, plate.text


def synthetic_eval_set(seed: int, per_format: int, strength: float = 0.6) -> dict[str, tuple[list, list]]:
    """Held-out synthetic crops per format, drawn like `scripts/bench/recognizer` draws its own
    (own seed: training seeds are seed·10⁷-scale integers, this is one sequential stream)."""
    rng = random.Random(seed)
    sets: dict[str, tuple[list, list]] = {}
    for fmt in PlateFormat:
        crops, truths = [], []
        for _ in range(per_format):
            plate = random_plate(rng, fmt)
            crops.append(augment_crop(render_plate(plate, None, rng).image, rng, strength=strength))
            truths.append(plate.text)
        sets[fmt.value] = (crops, truths)
    return sets
