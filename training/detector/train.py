"""Train the plate detector with ultralytics (offline, from scratch) and export it to ONNX.

GPU:  scripts/train_detector --device 0 --hours 0.1 --workers 15
CPU:  scripts/train_detector --quick
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from training.detector.composites import build_dataset


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenes", type=Path, default=Path(__file__).resolve().parents[3] / "shared/data/scenes"
    )
    parser.add_argument("--work", type=Path, default=Path("var/train_detector"))
    parser.add_argument("--out", type=Path, default=Path("models/detector"))
    parser.add_argument("--count", type=int, default=4000, help="synthetic scenes")
    parser.add_argument("--real-copies", type=int, default=30)
    parser.add_argument("--model", default="yolov8n.yaml", help="architecture, trained from scratch")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--hours", type=float, default=0.1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="CPU smoke run: 200 scenes, 2 epochs at 320")
    args = parser.parse_args(argv)
    epochs = 300
    if args.quick:
        args.count, args.real_copies, args.imgsz, args.batch, args.workers, epochs = 200, 2, 320, 16, 1, 2
        args.hours = 0.0

    data_yaml = build_dataset(
        args.work / "data", args.scenes, args.count, 0, args.real_copies, max(1, args.workers)
    )
    _offline_ultralytics()
    from ultralytics import YOLO

    model = YOLO(args.model)
    train_args = {
        "data": str(data_yaml),
        "imgsz": args.imgsz,
        "epochs": epochs,
        "batch": args.batch,
        "workers": args.workers,
        "device": args.device,
        "project": str(args.work.resolve()),
        "name": "run",
        "exist_ok": True,
        "pretrained": False,
        "amp": False,  # the AMP check would download yolo11n.pt
        "plots": False,  # plots need a font ultralytics downloads
        "fliplr": 0.0,  # a mirrored plate is not a plate
        "mosaic": 1.0,
        "close_mosaic": 2,
        "verbose": False,
    }
    if args.hours > 0:
        train_args["time"] = args.hours
    model.train(**train_args)
    best = args.work / "run" / "weights" / "best.pt"
    trained = YOLO(str(best))
    metrics = trained.val(
        data=str(data_yaml), imgsz=args.imgsz, device=args.device, plots=False, verbose=False
    )
    onnx_path = Path(trained.export(format="onnx", imgsz=args.imgsz, dynamic=True, simplify=False, opset=17))
    args.out.mkdir(parents=True, exist_ok=True)
    shutil.copy(onnx_path, args.out / "plate_det.onnx")
    shutil.copy(best, args.out / "plate_det.pt")
    summary = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "architecture": args.model,
        "imgsz": args.imgsz,
        "synthetic_scenes": args.count,
        "real_scene_copies": args.real_copies,
        "val_real_scenes_precision": float(metrics.box.mp),
        "val_real_scenes_recall": float(metrics.box.mr),
        "val_real_scenes_map50": float(metrics.box.map50),
    }
    (args.out / "training_metrics.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
