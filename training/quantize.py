"""Quantise the exported detector and recogniser to int8 with ONNX Runtime.

Static quantisation (QDQ, per-channel int8 weights, uint8 activations, MinMax calibration) of
the **convolutions only**: they are nearly all the compute, and quantising the detector's box
decoding (DFL softmax, the concatenation of pixel coordinates with 0–1 scores) put scores and
coordinates on one 8-bit scale and erased the scores. Calibration uses training data only:
the detector's real training photos / the recogniser's training crops (never the held-out ones)
and procedural scenes with seeds training never used. `scripts/bench/detector` and
`scripts/bench/recognizer` measure the int8 models against the fp32 ones on held-out real data.

    scripts/quantize_models [--only detector|recognizer]    # needs onnx ([train] extra)
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from anpr_core.splits import real_crops
from lpr.detector.onnx_detector import letterbox
from lpr.recognizer.preprocess import batch_input
from training.detector.composites import synthetic_scene
from training.detector.real_photos import koreanised, load_detection_photos, split_photos, tight_real_crops

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DETECTOR_CALIBRATION_SIZE = 416  # the workers' input size; QDQ scales do not depend on the shape


def quantize_convolutions(source: Path, target: Path, inputs: list[dict[str, np.ndarray]]) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._items = iter(inputs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._items, None)

    started = time.perf_counter()
    # The quantiser leaves scratch files in the working directory: give it a temporary one.
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        prepared = Path(tmp) / "prepared.onnx"
        # Symbolic shape inference cannot follow the dynamic batch/size axes; ONNX's own is enough.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"],
        )  # fmt: skip
    print(
        f"{target} ({target.stat().st_size / 1e6:.1f} MB) from {len(inputs)} calibration inputs "
        f"in {time.perf_counter() - started:.0f} s"
    )


def detector_calibration(detection_dir: Path, real: int, synthetic: int) -> Iterator[dict[str, np.ndarray]]:
    """Real photos of the detector's training groups (every other one Korean-ised, with seeds of
    their own) and procedural scenes; never a held-out photo or a Korean scene (all validation)."""
    train, _ = split_photos(load_detection_photos(detection_dir))
    step = max(1, len(train) // max(1, real))
    crops = tight_real_crops(SHARED / "plates")
    images: list[np.ndarray] = []
    for index, photo in enumerate(train[::step][:real]):
        made = koreanised(photo, 90_000 + index, crops) if index % 2 else None
        image = made[0] if made else cv2.imread(str(photo.path))
        if image is not None:
            images.append(image)
    # Seeds 10,000+: apart from the training composites (seed·10⁷ + index) and the benchmark's.
    images += [synthetic_scene(10_000 + seed)[0] for seed in range(synthetic)]
    for image in images:
        canvas, _, _ = letterbox(image, DETECTOR_CALIBRATION_SIZE)
        yield {"images": np.ascontiguousarray(canvas[..., ::-1].transpose(2, 0, 1)[None], np.float32) / 255.0}


def recognizer_calibration(plates_dir: Path, count: int) -> Iterator[dict[str, np.ndarray]]:
    train, _ = real_crops(plates_dir)  # the validation crops (held out by plate text) stay unseen
    step = max(1, len(train) // count)
    for crop in train[::step][:count]:
        image = cv2.imread(str(crop.path))
        if image is not None:
            yield {"image": batch_input([image])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=("detector", "recognizer"))
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--real", type=int, default=96, help="real training photos for the detector")
    parser.add_argument("--synthetic", type=int, default=16, help="procedural scenes for the detector")
    parser.add_argument("--crops", type=int, default=300, help="real training crops for the recogniser")
    args = parser.parse_args(argv)
    if args.only in (None, "detector"):
        quantize_convolutions(
            args.models / "detector" / "plate_det.onnx",
            args.models / "detector" / "plate_det.int8.onnx",
            list(detector_calibration(SHARED / "detection", args.real, args.synthetic)),
        )
    if args.only in (None, "recognizer"):
        quantize_convolutions(
            args.models / "recognizer" / "plate_rec.onnx",
            args.models / "recognizer" / "plate_rec.int8.onnx",
            list(recognizer_calibration(SHARED / "plates", args.crops)),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
