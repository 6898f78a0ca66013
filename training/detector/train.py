"""Train the plate detector v2 with ultralytics from COCO-pretrained YOLOv5n and export it to ONNX.

Data (`training/detector/dataset.py`): the real photos of `../shared/data/detection` (train
groups), Korean-ised copies of them (Korean plates pasted over their labelled plates, Korean
sign text as hard negatives) and procedural composites. The Korean scenes of
`../shared/data/scenes` are never trained on: all 22 are validation.

GPU:  scripts/train_detector --device 0 --hours 0.15 --workers 15 --batch 64
CPU:  nice -n 19 scripts/train_detector --device cpu --hours 1.3 --workers 2 --batch 16
      (resumable: the same command with --resume continues from the last epoch's checkpoint)
Smoke: scripts/train_detector --quick
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from training.detector.dataset import build_dataset

SHARED = Path(__file__).resolve().parents[3] / "shared"


def _offline_ultralytics() -> None:
    """Make sure ultralytics never reaches for the network (hub, fonts, AMP-check weights)."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    from ultralytics import settings

    wanted = dict.fromkeys(("sync", "clearml", "comet", "dvc", "mlflow", "raytune"), False)
    settings.update({k: v for k, v in wanted.items() if k in settings})
    if importlib.util.find_spec("polars") is None:
        # Training machines without polars: ultralytics only uses it to attach results.csv to
        # the checkpoint; skip that rather than fail at the first save.
        from ultralytics.engine.trainer import BaseTrainer

        BaseTrainer.read_results_csv = lambda self: {}  # type: ignore[method-assign]


def pretrained_start(npz: Path, out: Path, architecture: str = "yolov5n.yaml") -> tuple[Path, int, int]:
    """An ultralytics checkpoint of `architecture` (one class) holding the COCO YOLOv5n tensors.

    The backbone and neck of ultralytics' yolov5n ("YOLOv5u") are the v6.1 modules layer for layer;
    every tensor whose key and shape match is copied, the anchor-free head starts fresh.
    Returns (checkpoint, tensors copied, tensors in the model).
    """
    import torch
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel(architecture, nc=1, verbose=False)
    state = model.state_dict()
    coco = np.load(npz)
    copied = {
        key: torch.from_numpy(coco[key].astype(np.float32))
        for key in coco.files
        if key in state and tuple(coco[key].shape) == tuple(state[key].shape)
    }
    model.load_state_dict(copied, strict=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model, "train_args": {}, "date": datetime.now(UTC).isoformat()}, out)
    return out, len(copied), len(state)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detection", type=Path, default=SHARED / "data/detection")
    parser.add_argument("--plates", type=Path, default=SHARED / "data/plates")
    parser.add_argument("--weights", type=Path, default=SHARED / "weights/yolov5n-coco-v6.1.npz")
    parser.add_argument("--work", type=Path, default=Path("var/train_detector"))
    parser.add_argument("--out", type=Path, default=Path("models/detector"))
    parser.add_argument("--koreanised", type=int, default=1800, help="Korean-ised copies of real photos")
    parser.add_argument("--synthetic", type=int, default=400, help="procedural composites")
    parser.add_argument("--model", default="yolov5n.yaml")
    parser.add_argument("--imgsz", type=int, default=512)
    parser.add_argument("--hours", type=float, default=0.15)
    parser.add_argument("--epochs", type=int, default=300, help="upper bound; --hours decides")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--resume", action="store_true", help="continue the run in --work")
    parser.add_argument("--quick", action="store_true", help="CPU smoke run: tiny data, 1 epoch at 320")
    args = parser.parse_args(argv)
    if args.quick:
        args.koreanised, args.synthetic, args.imgsz, args.batch, args.workers = 24, 8, 320, 8, 1
        args.hours, args.epochs = 0.0, 1

    _offline_ultralytics()
    from ultralytics import YOLO

    last = args.work / "run" / "weights" / "last.pt"
    if args.resume and last.exists():
        YOLO(str(last)).train(resume=True)
    else:
        data_yaml = build_dataset(
            args.work / "data",
            args.detection,
            args.plates,
            koreanised=args.koreanised,
            synthetic=args.synthetic,
            workers=max(1, args.workers),
            limit=60 if args.quick else None,
        )
        start, copied, total = pretrained_start(args.weights, args.work / "yolov5n_coco_start.pt", args.model)
        print(f"pretrained start: {copied} of {total} tensors from {args.weights.name}")
        train_args = {
            "data": str(data_yaml),
            "imgsz": args.imgsz,
            "epochs": args.epochs,
            "batch": args.batch,
            "workers": args.workers,
            "device": args.device,
            "project": str(args.work.resolve()),
            "name": "run",
            "exist_ok": True,
            "amp": False,  # the AMP check would download yolo11n.pt
            "plots": False,  # plots need a font ultralytics downloads
            "val": False,  # validation is ours (scripts/bench/detector), on data never trained on
            "fliplr": 0.0,  # a mirrored plate is not a plate
            "mosaic": 1.0,
            "scale": 0.6,  # plates from 10 px to most of the frame
            "close_mosaic": 1,
            "warmup_epochs": 0.5,
            "cos_lr": True,
            "lr0": 0.005,
            "verbose": False,
        }
        if args.hours > 0:
            train_args["time"] = args.hours
        YOLO(str(start)).train(**train_args)
    trained_path = last
    trained = YOLO(str(trained_path))
    onnx_path = Path(trained.export(format="onnx", imgsz=640, dynamic=True, simplify=False, opset=17))
    args.out.mkdir(parents=True, exist_ok=True)
    shutil.copy(onnx_path, args.out / "plate_det.onnx")
    # The checkpoint without optimizer state (ultralytics' strip_optimizer), for the benchmark's
    # ultralytics comparison and as the start of a later fine-tune.
    from ultralytics.utils.torch_utils import strip_optimizer

    shutil.copy(trained_path, args.out / "plate_det.pt")
    strip_optimizer(args.out / "plate_det.pt")
    summary = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "architecture": args.model,
        "start": f"{args.weights.name} (COCO YOLOv5n v6.1 backbone + neck)",
        "imgsz": args.imgsz,
        "device": args.device,
        "hours": args.hours,
        "koreanised_copies": args.koreanised,
        "synthetic_scenes": args.synthetic,
    }
    (args.out / "training_metrics.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
