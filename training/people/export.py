"""Export the COCO YOLOv5n v6.1 person detector to ONNX from the shared `.npz` tensors.

The backbone and neck (layers 0–23) are ultralytics' `yolov5n.yaml` modules, which have the same
names and shapes as v6.1's; the v6.1 anchor-based head is three 1×1 convs (`model.24.m.{0,1,2}`)
on the P3/P4/P5 maps (layers 17, 20, 23). The ONNX graph outputs those three raw maps
(N × 255 × H/s × W/s, s = 8/16/32) and the P3/P4 features they are computed from; the anchors
are decoded in numpy at run time
(`monitor/people/detector.py`), so the graph has no anchor constants to keep in step.

    .venv-train/bin/python -m training.people.export [--out models/people]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = ROOT.parent / "shared" / "weights" / "yolov5n-coco-v6.1.npz"
HEAD_INPUTS = (17, 20, 23)


def build(weights: Path = WEIGHTS):  # -> torch.nn.Module
    import torch
    from torch import nn
    from ultralytics.nn.tasks import DetectionModel

    tensors = np.load(weights)
    model = DetectionModel("yolov5n.yaml", nc=80, verbose=False)
    state = model.state_dict()
    loaded = 0
    for key, value in tensors.items():
        if key.startswith("model.24."):
            continue
        if key not in state or tuple(state[key].shape) != value.shape:
            raise SystemExit(f"{key}: no matching tensor {tuple(value.shape)} in yolov5n.yaml")
        state[key] = torch.from_numpy(value.astype(np.float32))
        loaded += 1
    model.load_state_dict(state)
    layers = model.model[:24]
    for module in layers.modules():  # v6.1 was trained with these BatchNorm settings
        if isinstance(module, nn.BatchNorm2d):
            module.eps, module.momentum = 1e-3, 0.03

    class YoloV5Raw(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = layers
            channels = [tensors[f"model.24.m.{i}.weight"].shape[1] for i in range(3)]
            self.heads = nn.ModuleList(nn.Conv2d(c, 255, 1) for c in channels)
            for i, head in enumerate(self.heads):
                head.weight.data = torch.from_numpy(tensors[f"model.24.m.{i}.weight"].astype(np.float32))
                head.bias.data = torch.from_numpy(tensors[f"model.24.m.{i}.bias"].astype(np.float32))

        def forward(self, x):
            outputs = []
            for layer in self.layers:  # ultralytics' own routing: `f` = where the input comes from
                if isinstance(layer.f, int) and layer.f != -1:
                    x = outputs[layer.f]
                elif not isinstance(layer.f, int):
                    x = [x if j == -1 else outputs[j] for j in layer.f]
                x = layer(x)
                outputs.append(x)
            maps = tuple(head(outputs[i]) for head, i in zip(self.heads, HEAD_INPUTS, strict=True))
            # The neck's P3/P4 features too: the crowd-density head (a linear map fitted on the
            # real crowd photos, monitor/people/density.py) reads them at no extra cost.
            return (*maps, outputs[HEAD_INPUTS[0]], outputs[HEAD_INPUTS[1]])

    net = YoloV5Raw().eval()
    head = sum(key.startswith("model.24.") for key in tensors.files)  # 3 convs + the anchors
    if loaded + head != len(tensors.files):
        raise SystemExit(f"loaded {loaded} of {len(tensors.files)} tensors")
    return net


def export(out_dir: Path, weights: Path = WEIGHTS) -> Path:
    import torch

    net = build(weights)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "person_det.onnx"
    dummy = torch.zeros(1, 3, 480, 640)
    dynamic = {"images": {0: "batch", 2: "height", 3: "width"}}
    for name in ("p3", "p4", "p5", "f3", "f4"):
        dynamic[name] = {0: "batch", 2: f"{name}_h", 3: f"{name}_w"}
    torch.onnx.export(
        net,
        (dummy,),
        str(path),
        input_names=["images"],
        output_names=["p3", "p4", "p5", "f3", "f4"],
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )
    meta = json.loads(weights.with_suffix(".json").read_text())
    (out_dir / "person_det.json").write_text(
        json.dumps(
            {
                "anchors": meta["yaml"]["anchors"],
                "strides": [8, 16, 32],
                "names": meta["names"],
                "source": weights.name,
            },
            indent=1,
        )
        + "\n"
    )
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "people")
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    print(export(args.out, args.weights))


if __name__ == "__main__":
    main()
