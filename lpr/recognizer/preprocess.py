"""The recogniser's input: one fixed-size grey image per crop (shared by training and serving)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

INPUT_HEIGHT = 48
INPUT_WIDTH = 160


def to_model_input(crop: np.ndarray) -> np.ndarray:
    """BGR (or grey) uint8 crop → float32 1×H×W in [-1, 1].

    The crop is stretched to the input size regardless of its aspect ratio: one-line and
    two-line plates and loose or tight crops all arrive this way from the detector, and the
    model learns to read them as they come.
    """
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    resized = cv2.resize(grey, (INPUT_WIDTH, INPUT_HEIGHT), interpolation=cv2.INTER_AREA)
    return ((resized.astype(np.float32) / 127.5) - 1.0)[None]


def batch_input(crops: Sequence[np.ndarray]) -> np.ndarray:
    return np.stack([to_model_input(c) for c in crops]).astype(np.float32)
