"""Quantise the exported detector to int8 (static, QDQ, per-channel weights) with ONNX Runtime.

Calibration images are what the detector was trained on — procedural scene composites and the
real *training* scenes (never the held-out ones) — so activation ranges are those of road
scenes. The int8 model is ~2.3× faster on a CPU with AVX2/VNNI; `scripts/bench/detector`
measures its recall and precision against the fp32 model on the held-out real scenes.

    scripts/quantize_detector            # needs the [train] extra (onnx)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from lpr.detector.onnx_detector import letterbox
from training.detector.composites import is_validation_scene, synthetic_scene

ROOT = Path(__file__).resolve().parents[2]
CALIBRATION_SIZE = 416  # the serving size; QDQ scales do not depend on the input shape


def _as_input(image: np.ndarray) -> dict[str, np.ndarray]:
    canvas, _, _ = letterbox(image, CALIBRATION_SIZE)
    return {"images": np.ascontiguousarray(canvas[..., ::-1].transpose(2, 0, 1)[None], np.float32) / 255.0}


def calibration_images(scenes_dir: Path, synthetic: int) -> Iterator[np.ndarray]:
    labels = json.loads((scenes_dir / "labels.json").read_text())
    for scene in labels:
        if not is_validation_scene(scene["file"]):
            image = cv2.imread(str(scenes_dir / scene["file"]))
            if image is not None:
                yield image
    for seed in range(synthetic):
        yield synthetic_scene(10_000 + seed)[0]  # seeds apart from the training composites'


def main(argv: list[str] | None = None) -> int:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models" / "detector")
    parser.add_argument("--scenes", type=Path, default=ROOT.parent / "shared" / "data" / "scenes")
    parser.add_argument("--synthetic", type=int, default=48, help="procedural composites for calibration")
    args = parser.parse_args(argv)

    inputs = [_as_input(image) for image in calibration_images(args.scenes, args.synthetic)]

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._items = iter(inputs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._items, None)

    source = args.model_dir / "plate_det.onnx"
    target = args.model_dir / "plate_det.int8.onnx"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # Symbolic shape inference cannot follow the dynamic batch/size axes; ONNX's own is enough.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            # Convolutions only: they are nearly all the compute, and quantising the box decoding
            # (DFL softmax, the concatenation of pixel coordinates with 0–1 scores) would put
            # scores and coordinates on one 8-bit scale and erase the scores.
            op_types_to_quantize=["Conv"],
        )  # fmt: skip
    print(
        f"{target} ({target.stat().st_size / 1e6:.1f} MB) from {len(inputs)} calibration images "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
