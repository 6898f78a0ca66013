"""The recogniser served through paddleocr's text-recognition pipeline (ONNX Runtime engine).

paddleocr 3.7's `TextRecognition(model_dir=..., engine="onnxruntime")` loads the local model
directory `models/recognizer/paddle/` (`inference.onnx` + `inference.yml` with the plate
character dictionary; written by `training/recognizer/export_paddle.py`); nothing is fetched
(the model-hub check is switched off before paddlex is imported). paddleocr's own result
carries only the greedy text and a mean score, while grammar-constrained decoding and top-k
alternatives need the per-step probabilities: so its preprocessing and engine run the network
and this module takes the probabilities from the engine, not the greedy result.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lpr.recognizer.calibration import CALIBRATION_FILE, Calibration
from lpr.recognizer.preprocess import INPUT_HEIGHT, INPUT_WIDTH
from lpr.recognizer.readings import readings_from_log_probs
from lpr.recognizer.types import PlateReading, RecognizerUnavailable

PADDLE_DIR = "paddle"
PADDLEX_MODEL_NAME = "korean_PP-OCRv5_mobile_rec"  # selects the CTC recogniser class only
MAX_BATCH = 64


class PaddlePlateRecognizer:
    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        paddle_dir = model_dir / PADDLE_DIR
        if not (paddle_dir / "inference.onnx").is_file() or not (paddle_dir / "inference.yml").is_file():
            raise RecognizerUnavailable(
                f"no paddleocr model directory at {paddle_dir} (python -m training.recognizer.export_paddle)"
            )
        # Never ask a model hub anything: the model is local and there is no network.
        os.environ["PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK"] = "True"
        try:
            from paddleocr import TextRecognition
        except ImportError as exc:
            raise RecognizerUnavailable(f"paddleocr is not installed ({exc})") from exc
        self.pipeline = TextRecognition(
            model_name=PADDLEX_MODEL_NAME,
            model_dir=str(paddle_dir),
            engine="onnxruntime",
            engine_config={"intra_op_num_threads": threads, "inter_op_num_threads": 1},
            input_shape=(3, INPUT_HEIGHT, INPUT_WIDTH),  # stretch to the input, as in training
            device="cpu",
        )
        predictor: Any = self.pipeline.paddlex_predictor
        self._resize_norm = predictor.pre_tfs["ReisizeNorm"]
        self._to_batch = predictor.pre_tfs["ToBatch"]
        self._engine = predictor.runner
        # paddleocr's decoder holds blank + dictionary (+ a space our network never emits).
        self.charset = tuple(predictor.post_op.character[1:])
        self.calibration = Calibration.load(model_dir / CALIBRATION_FILE)

    def log_probs(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        outputs = []
        for i in range(0, len(crops), MAX_BATCH):
            batch = self._to_batch(imgs=self._resize_norm(imgs=list(crops[i : i + MAX_BATCH])))
            outputs.append(np.log(np.maximum(self._engine(x=batch)[0], 1e-30)))
        return np.concatenate(outputs) if outputs else np.zeros((0, 0, len(self.charset) + 1), np.float32)

    def read(self, crops: Sequence[np.ndarray]) -> list[PlateReading]:
        heights = [c.shape[0] for c in crops]
        return readings_from_log_probs(self.log_probs(crops), self.charset, self.calibration, heights)
