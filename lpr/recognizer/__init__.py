"""Korean plate recogniser: crops in, valid plates with calibrated confidence out.

`load_recognizer()` is the one way the rest of the system gets a recogniser; the engine
behind it is ONNX Runtime (see models/recognizer/MODEL_CARD.md for why not PaddleOCR).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class PlateReading:
    text: str | None  # canonical valid plate, or None when the crop is unreadable
    confidence: float  # probability that `text` is exactly right, 0..1
    alternatives: tuple[tuple[str, float], ...]  # other valid plates, most likely first
    raw_text: str  # the unconstrained best decode, for debugging


class RecognizerUnavailable(RuntimeError):
    """The recogniser cannot run (weights missing, engine not installed); the message says why."""


class PlateRecognizer(Protocol):
    def read(self, crops: Sequence[np.ndarray]) -> list[PlateReading]: ...


def load_recognizer(model_dir: Path | None = None, engine: str = "auto", threads: int = 1) -> PlateRecognizer:
    from lpr.recognizer.onnx_engine import OnnxPlateRecognizer

    if engine not in ("auto", "onnxruntime"):
        raise RecognizerUnavailable(f"unknown recogniser engine {engine!r} (use 'onnxruntime')")
    if model_dir is None:
        model_dir = Path(__file__).resolve().parents[2] / "models" / "recognizer"
    return OnnxPlateRecognizer(model_dir, threads=threads)


__all__ = ["PlateReading", "PlateRecognizer", "RecognizerUnavailable", "load_recognizer"]
