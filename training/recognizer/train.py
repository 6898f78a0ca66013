"""Train the plate recogniser (CTC) on real + synthetic crops and export it to ONNX.

GPU:  scripts/train_recognizer --device cuda --minutes 8 --workers 14
CPU:  scripts/train_recognizer --quick        (a few minutes, for checking the pipeline)
"""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from lpr.recognizer.charset import CHARSET, NUM_CLASSES
from lpr.recognizer.decode import greedy_decode
from lpr.recognizer.preprocess import INPUT_HEIGHT, INPUT_WIDTH
from training.recognizer import export_paddle
from training.recognizer.data import MixedStream, RealCrops, collate, plates_dir_default
from training.recognizer.model import PlateCRNN
from training.splits import real_crops


def evaluate(model: PlateCRNN, data: RealCrops, device: str) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(data), 256):
            items = [data[i] for i in range(start, min(len(data), start + 256))]
            images = torch.from_numpy(np.stack([x for x, _ in items])).to(device)
            logp = model(images).cpu().numpy()
            for row, (_, text) in zip(logp, items, strict=True):
                correct += greedy_decode(row, CHARSET)[0] == text
    model.train()
    return correct / max(1, len(data))


def export_onnx(model: PlateCRNN, out: Path) -> None:
    model = model.cpu().eval()
    dummy = torch.zeros(1, 1, INPUT_HEIGHT, INPUT_WIDTH)
    torch.onnx.export(
        model,
        (dummy,),
        str(out / "plate_rec.onnx"),
        input_names=["image"],
        output_names=["log_probs"],
        dynamic_axes={"image": {0: "batch"}, "log_probs": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    (out / "charset.txt").write_text("\n".join(CHARSET) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--plates", type=Path, default=plates_dir_default())
    parser.add_argument("--out", type=Path, default=Path("models/recognizer"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=int, default=300, help="warm-up steps")
    parser.add_argument("--real-share", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--init", type=Path, default=None, help="start from these weights (plate_rec.pt)")
    parser.add_argument("--quick", action="store_true", help="CPU smoke run: 3 minutes, batch 64")
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.batch, args.workers = min(args.minutes, 3.0), 64, 1
        torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)

    train_crops, val_crops = real_crops(args.plates)
    print(f"real crops: {len(train_crops)} train, {len(val_crops)} validation (split by plate text)")
    real_train = RealCrops(train_crops, augment=True)
    real_val = RealCrops(val_crops, augment=False)
    loader = DataLoader(
        MixedStream(real_train, args.real_share, args.seed),
        batch_size=args.batch,
        num_workers=args.workers,
        collate_fn=collate,
        persistent_workers=args.workers > 0,
        prefetch_factor=4 if args.workers > 0 else None,
    )
    model = PlateCRNN(NUM_CLASSES)
    if args.init is not None:
        model.load_state_dict(torch.load(args.init, map_location="cpu"))
    model = model.to(args.device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    budget = args.minutes * 60
    started = time.monotonic()
    step, history = 0, []
    for images, targets, lengths, _ in loader:
        elapsed = time.monotonic() - started
        if elapsed > budget:
            break
        # Warm-up, then cosine decay over the time budget (the run length is set in minutes).
        progress = elapsed / budget
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * progress))
        for group in optimiser.param_groups:
            group["lr"] = lr
        logp = model(images.to(args.device, non_blocking=True))  # N×T×C
        input_lengths = torch.full((logp.shape[0],), logp.shape[1], dtype=torch.long)
        loss = ctc(logp.permute(1, 0, 2), targets, input_lengths, lengths)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        step += 1
        if step % 200 == 0:
            accuracy = evaluate(model, real_val, args.device)
            history.append(
                {"step": step, "seconds": round(elapsed), "loss": float(loss.detach()), "val_exact": accuracy}
            )
            print(
                f"step {step} {elapsed:.0f}s loss {float(loss):.4f} lr {lr:.2e} val exact {accuracy:.4f}",
                flush=True,
            )
    final = evaluate(model, real_val, args.device)
    export_onnx(model, args.out)
    export_paddle.main(["--model-dir", str(args.out)])  # the same weights for paddleocr's pipeline
    torch.save(model.state_dict(), args.out / "plate_rec.pt")
    metrics = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "steps": step,
        "batch": args.batch,
        "minutes": round((time.monotonic() - started) / 60, 1),
        "device": args.device,
        "real_train_crops": len(train_crops),
        "real_validation_crops": len(val_crops),
        "real_share": args.real_share,
        "val_exact_greedy": final,
        "history": history,
    }
    (args.out / "training_metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps({k: v for k, v in metrics.items() if k != "history"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
