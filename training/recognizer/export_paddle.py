"""Package the trained recogniser as a PaddleX/PaddleOCR text-recognition model directory.

paddleocr's `TextRecognition(model_dir=..., engine="onnxruntime")` runs `inference.onnx` with
the pre- and post-processing named in `inference.yml`. Its preprocessing hands the network a
3×48×W BGR image scaled to [-1, 1] and its CTC decoder wants probabilities, so the graph is
wrapped: a fixed 1×1 convolution turns BGR into the grey input our CRNN was trained on (the
weights of OpenCV's BGR→grey, which sum to 1 and so commute with the [-1, 1] scaling), and an
Exp turns the log-probabilities into probabilities. Needs the `onnx` package (training venv).

    python -m training.recognizer.export_paddle [--model-dir models/recognizer]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from lpr.recognizer.preprocess import INPUT_HEIGHT, INPUT_WIDTH

PADDLE_DIR = "paddle"
# Any PP-OCR recognition model name PaddleX knows: it only selects the predictor class (CTC
# text recognition); weights, dictionary and shapes all come from this directory.
PADDLEX_MODEL_NAME = "korean_PP-OCRv5_mobile_rec"
GREY_FROM_BGR = (0.114, 0.587, 0.299)  # cv2.COLOR_BGR2GRAY


def wrap_for_paddle(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    old_input, old_output = graph.input[0].name, graph.output[0].name
    weights = numpy_helper.from_array(np.array(GREY_FROM_BGR, np.float32).reshape(1, 3, 1, 1), "bgr_to_grey")
    graph.initializer.append(weights)
    for node in graph.node:
        node.input[:] = ["grey" if name == old_input else name for name in node.input]
    graph.node.insert(0, helper.make_node("Conv", ["x", "bgr_to_grey"], ["grey"], name="bgr_to_grey_conv"))
    graph.node.append(helper.make_node("Exp", [old_output], ["probs"], name="probabilities"))
    del graph.input[:]
    graph.input.append(
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, INPUT_HEIGHT, INPUT_WIDTH])
    )
    # Same shape as the CRNN's output (batch × steps × classes), now probabilities.
    dims = [d.dim_param or d.dim_value for d in graph.output[0].type.tensor_type.shape.dim]
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("probs", TensorProto.FLOAT, dims))
    onnx.checker.check_model(model)
    return model


def inference_yml(charset: list[str]) -> str:
    """PaddleX's model config; the dictionary is listed in full (no file to download)."""
    chars = "\n".join(f'  - "{ch}"' for ch in charset)  # quoted: digits stay strings
    return (
        f"Global:\n  model_name: {PADDLEX_MODEL_NAME}\n"
        "PreProcess:\n  transform_ops:\n"
        "  - DecodeImage:\n      channel_first: false\n      img_mode: BGR\n"
        f"  - RecResizeImg:\n      image_shape: [3, {INPUT_HEIGHT}, {INPUT_WIDTH}]\n"
        "PostProcess:\n  name: CTCLabelDecode\n  character_dict:\n"
        f"{chars}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=Path("models/recognizer"))
    args = parser.parse_args(argv)
    out = args.model_dir / PADDLE_DIR
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(wrap_for_paddle(onnx.load(str(args.model_dir / "plate_rec.onnx"))), str(out / "inference.onnx"))
    charset = (args.model_dir / "charset.txt").read_text(encoding="utf-8").splitlines()
    (out / "inference.yml").write_text(inference_yml(charset), encoding="utf-8")
    print(f"wrote {out}/inference.onnx and inference.yml")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
