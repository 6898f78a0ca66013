"""Korean plate recogniser: crops in, valid plates with calibrated confidence out.

`load_recognizer()` is the one way the rest of the system gets a recogniser; the same ONNX
network runs either on ONNX Runtime directly or through paddleocr's pipeline.
"""

from __future__ import annotations

from pathlib import Path

from lpr.recognizer.types import PlateReading, PlateRecognizer, RecognizerUnavailable


def load_recognizer(
    model_dir: Path | None = None, engine: str = "auto", threads: int = 1, precision: str = "fp32"
) -> PlateRecognizer:
    """The plate recogniser. engine: "onnxruntime" (ONNX Runtime directly), "paddleocr"
    (paddleocr's text-recognition pipeline on its ONNX Runtime engine, same weights and
    decoder) or "auto" (ONNX Runtime: the same readings with the least overhead).
    precision: "fp32" or "int8" (int8 convolutions, ONNX Runtime engine only)."""
    if model_dir is None:
        model_dir = Path(__file__).resolve().parents[2] / "models" / "recognizer"
    if engine in ("auto", "onnxruntime"):
        from lpr.recognizer.onnx_engine import OnnxPlateRecognizer

        return OnnxPlateRecognizer(model_dir, threads=threads, precision=precision)
    if engine == "paddleocr":
        if precision != "fp32":
            raise RecognizerUnavailable("the paddleocr engine serves the fp32 weights only")
        from lpr.recognizer.paddle_engine import PaddlePlateRecognizer

        return PaddlePlateRecognizer(model_dir, threads=threads)
    raise RecognizerUnavailable(f"unknown recogniser engine {engine!r} (auto, onnxruntime or paddleocr)")


__all__ = ["PlateReading", "PlateRecognizer", "RecognizerUnavailable", "load_recognizer"]
