"""The recogniser served with ONNX Runtime: batch preprocessing, one session, constrained decode."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from anpr_core.onnx_session import cpu_session
from lpr.recognizer.calibration import CALIBRATION_FILE, Calibration
from lpr.recognizer.preprocess import batch_input
from lpr.recognizer.readings import readings_from_log_probs
from lpr.recognizer.types import PlateReading, RecognizerUnavailable

# fp32 is the exported model; int8 is its static quantisation (scripts/quantize_models).
MODEL_FILES = {"fp32": "plate_rec.onnx", "int8": "plate_rec.int8.onnx"}
CHARSET_FILE = "charset.txt"
MAX_BATCH = 64


class OnnxPlateRecognizer:
    def __init__(
        self, model_dir: Path, threads: int = 1, calibrated: bool = True, precision: str = "fp32"
    ) -> None:
        if precision not in MODEL_FILES:
            choices = ", ".join(sorted(MODEL_FILES))
            raise RecognizerUnavailable(f"recogniser precision must be one of {choices}, not {precision!r}")
        model, charset = model_dir / MODEL_FILES[precision], model_dir / CHARSET_FILE
        if not model.is_file() or not charset.is_file():
            raise RecognizerUnavailable(
                f"recogniser weights not found in {model_dir} ({model.name}, {CHARSET_FILE})"
            )
        self.session = cpu_session(model, threads)
        # The dictionary travels with the weights, so a model keeps working if the alphabet grows.
        self.charset = tuple(charset.read_text(encoding="utf-8").splitlines())
        # Uncalibrated (raw beam shares) is for fitting the calibration itself.
        self.calibration = (
            Calibration.load(model_dir / CALIBRATION_FILE) if calibrated else Calibration.identity()
        )

    def log_probs(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        outputs = [
            self.session.run(None, {"image": batch_input(crops[i : i + MAX_BATCH])})[0]
            for i in range(0, len(crops), MAX_BATCH)
        ]
        return np.concatenate(outputs) if outputs else np.zeros((0, 0, len(self.charset) + 1), np.float32)

    def read(self, crops: Sequence[np.ndarray]) -> list[PlateReading]:
        heights = [c.shape[0] for c in crops]
        return readings_from_log_probs(self.log_probs(crops), self.charset, self.calibration, heights)
