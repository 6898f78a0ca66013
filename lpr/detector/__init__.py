"""Plate detector: frames in, plate boxes out (YOLO trained with ultralytics, served by ONNX Runtime)."""

from __future__ import annotations

from pathlib import Path

from lpr.detector.onnx_detector import OnnxPlateDetector
from lpr.detector.types import Detection, DetectorUnavailable

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "detector"


def load_detector(
    model_dir: Path | None = None,
    *,
    input_size: int,
    min_score: float,
    threads: int = 2,
    precision: str = "fp32",
    far_input_size: int = 0,
    hd_input_size: int = 0,
) -> OnnxPlateDetector:
    """The detector; its input size and score threshold come from the settings (`vision.*`: the
    workers' `detector_input_size` and `detector_input_size_hd`, `lpr read`'s `read_input_size`
    and `read_far_input_size`, `detector_min_score`)."""
    return OnnxPlateDetector(
        model_dir or DEFAULT_MODEL_DIR,
        input_size=input_size,
        threads=threads,
        min_score=min_score,
        precision=precision,
        far_input_size=far_input_size,
        hd_input_size=hd_input_size,
    )


__all__ = ["Detection", "DetectorUnavailable", "OnnxPlateDetector", "load_detector"]
