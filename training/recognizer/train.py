"""Train the plate recogniser (CTC) on real + synthetic crops and export it to ONNX.

GPU:  scripts/train_recognizer --device cuda --minutes 8 --workers 14
CPU:  scripts/train_recognizer --quick        (a few minutes, for checking the pipeline)
CPU fine-tune from the exported weights (the .onnx is converted, see training/recognizer/convert.py):
      nice -n 19 scripts/train_recognizer --init models/recognizer/plate_rec.onnx --threads 2 ...

`--init` takes a `plate_rec.pt` state dict or an exported `plate_rec.onnx`. With `--eval-minutes`
the run evaluates every so often on the real validation crops (never trained on) and on held-out
synthetic plates per format, and keeps each evaluated state in `<out>/checkpoints/`.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from anpr_core.splits import real_crops
from lpr.recognizer.calibration import Calibration
from lpr.recognizer.charset import CHARSET, NUM_CLASSES
from lpr.recognizer.decode import greedy_decode
from lpr.recognizer.preprocess import INPUT_HEIGHT, INPUT_WIDTH, batch_input
from lpr.recognizer.readings import readings_from_log_probs
from training.recognizer import export_paddle
from training.recognizer.convert import load_init
from training.recognizer.data import (
    MixedStream,
    RealCrops,
    collate,
    parse_format_weights,
    plates_dir_default,
    synthetic_eval_set,
)
from training.recognizer.model import PlateCRNN


def evaluate(model: PlateCRNN, data: RealCrops, device: str) -> float:
    modes = _modes(model)
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(data), 256):
            items = [data[i] for i in range(start, min(len(data), start + 256))]
            images = torch.from_numpy(np.stack([x for x, _ in items])).to(device)
            logp = model(images).cpu().numpy()
            for row, (_, text) in zip(logp, items, strict=True):
                correct += greedy_decode(row, CHARSET)[0] == text
    _restore(model, modes)
    return correct / max(1, len(data))


def _modes(model: PlateCRNN) -> list[bool]:
    return [m.training for m in model.modules()]


def _restore(model: PlateCRNN, modes: list[bool]) -> None:
    for module, mode in zip(model.modules(), modes, strict=True):
        module.training = mode


def _log_probs(model: PlateCRNN, inputs: np.ndarray, device: str) -> np.ndarray:
    modes = _modes(model)
    model.eval()
    with torch.no_grad():
        out = [
            model(torch.from_numpy(inputs[i : i + 256]).to(device)).cpu().numpy()
            for i in range(0, len(inputs), 256)
        ]
    _restore(model, modes)
    return np.concatenate(out)


def constrained_exact(model: PlateCRNN, inputs: np.ndarray, truths: list[str], device: str) -> float:
    """Exact-plate accuracy as served: grammar-constrained beam search over the log-probs."""
    readings = readings_from_log_probs(_log_probs(model, inputs, device), CHARSET, Calibration.identity())
    return sum(r.text == t for r, t in zip(readings, truths, strict=True)) / max(1, len(truths))


def hard_crops(model: PlateCRNN, data: RealCrops, device: str, share: float = 0.25) -> list[bool]:
    """Which (unaugmented) crops the model's greedy decode gets wrong, or reads with a path
    probability among the lowest `share`: the ones to show it more often."""
    inputs = np.stack([data[i][0] for i in range(len(data))])
    reads = [greedy_decode(row, CHARSET) for row in _log_probs(model, inputs, device)]
    cutoff = float(np.quantile([confidence for _, confidence in reads], share))
    return [
        text != truth or confidence < cutoff
        for (text, confidence), truth in zip(reads, data.texts, strict=True)
    ]


def set_bn_frozen(model: PlateCRNN, frozen: bool) -> None:
    """Frozen: BatchNorm uses its running statistics (small CPU batches give noisy ones)."""
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.train(not frozen)


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
    parser.add_argument("--until", default=None, help="stop by this UTC time (HH:MM) whatever --minutes")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=int, default=300, help="warm-up steps")
    parser.add_argument("--real-share", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--init", type=Path, default=None, help="start from plate_rec.pt or plate_rec.onnx")
    parser.add_argument(
        "--teacher", type=Path, default=None,
        help="keep the real crops' outputs close to this model's (.pt or .onnx): --distill weight",
    )  # fmt: skip
    parser.add_argument("--distill", type=float, default=1.0, help="weight of the KL term to --teacher")
    parser.add_argument("--freeze-bn", action="store_true", help="BatchNorm keeps its running statistics")
    parser.add_argument(
        "--formats",
        default=None,
        help="synthetic mix by format, e.g. regional=0.4,old7=0.3,new8=0.2,diplomatic=0.1",
    )
    parser.add_argument(
        "--two-line-share", type=float, default=0.0, help="share of synthetic that is two-line"
    )
    parser.add_argument(
        "--stacked-region", type=float, default=0.0,
        help="share of one-line regional synthetic plates with the region stacked (서 over 울); "
        "needs --formats",
    )  # fmt: skip
    parser.add_argument(
        "--hard-weight", type=float, default=1.0,
        help="sampling weight of real training crops the starting model misreads or doubts, others 1",
    )  # fmt: skip
    parser.add_argument("--eval-minutes", type=float, default=0.0, help="evaluate + checkpoint this often")
    parser.add_argument(
        "--eval-seed", type=int, default=777, help="held-out synthetic seed (bench uses 424242)"
    )
    parser.add_argument("--eval-per-format", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="CPU smoke run: 3 minutes, batch 64")
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.batch, args.workers = min(args.minutes, 3.0), 64, 1
        args.threads = args.threads or 2
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    budget = args.minutes * 60
    if args.until:
        now = datetime.now(UTC)
        hour, minute = (int(x) for x in args.until.split(":"))
        stop = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if stop <= now:
            stop += timedelta(days=1)
        budget = min(budget, (stop - now).total_seconds())

    train_crops, val_crops = real_crops(args.plates)
    print(f"real crops: {len(train_crops)} train, {len(val_crops)} validation (split by plate text)")
    real_train = RealCrops(train_crops, augment=True)
    real_val = RealCrops(val_crops, augment=False)
    val_inputs = np.stack([real_val[i][0] for i in range(len(real_val))])
    if args.init is None:
        model = PlateCRNN(NUM_CLASSES)
    else:
        # A converted .onnx gets BatchNorm statistics from unaugmented real training crops.
        plain = RealCrops(train_crops, augment=False)
        bn_inputs = batch_input([plain.images[i] for i in range(0, len(plain), max(1, len(plain) // 512))])
        model = load_init(
            args.init, [torch.from_numpy(bn_inputs[i : i + 64]) for i in range(0, len(bn_inputs), 64)]
        )
    model = model.to(args.device)
    teacher = None
    if args.teacher is not None:
        # Learning without forgetting: on real crops the student's per-step distributions stay
        # close to the teacher's (KL), so new synthetic layouts do not cost real accuracy.
        teacher = load_init(args.teacher).to(args.device).eval()
        for parameter in teacher.parameters():
            parameter.requires_grad_(False)

    real_weights = None
    if args.hard_weight != 1.0:
        hard = hard_crops(model, RealCrops(train_crops, augment=False), args.device)
        real_weights = [args.hard_weight if h else 1.0 for h in hard]
        print(
            f"oversampling {sum(hard)} training crops misread or doubted at the start (x{args.hard_weight})"
        )
    synthetic_eval = {}
    if args.eval_minutes > 0:
        for fmt, (crops, truths) in synthetic_eval_set(args.eval_seed, args.eval_per_format).items():
            synthetic_eval[fmt] = (batch_input(crops), truths)

    def evaluate_all(step: int, elapsed: float, loss: float | None) -> dict[str, object]:
        row: dict[str, object] = {"step": step, "seconds": round(elapsed), "loss": loss}
        row["val_exact"] = constrained_exact(model, val_inputs, real_val.texts, args.device)
        row["val_exact_greedy"] = evaluate(model, real_val, args.device)
        for fmt, (inputs, truths) in synthetic_eval.items():
            row[f"synthetic_{fmt}"] = constrained_exact(model, inputs, truths, args.device)
        print(json.dumps(row), flush=True)
        return row

    history = []
    checkpoints = args.out / "checkpoints"
    if args.eval_minutes > 0:
        checkpoints.mkdir(parents=True, exist_ok=True)
        history.append(evaluate_all(0, 0.0, None))
    loader = DataLoader(
        MixedStream(
            real_train,
            args.real_share,
            args.seed,
            real_weights,
            parse_format_weights(args.formats),
            args.two_line_share,
            args.stacked_region,
        ),
        batch_size=args.batch,
        num_workers=args.workers,
        collate_fn=collate,
        persistent_workers=args.workers > 0,
        prefetch_factor=4 if args.workers > 0 else None,
    )
    model.train()
    set_bn_frozen(model, args.freeze_bn)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    started = time.monotonic()
    last_eval = started
    step = 0
    for images, targets, lengths, _, real in loader:
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
        if teacher is not None and bool(real.any()):
            real_images = images[real].to(args.device)
            with torch.no_grad():
                target_logp = teacher(real_images)
            kl = torch.nn.functional.kl_div(
                logp[real.to(args.device)], target_logp, log_target=True, reduction="none"
            )
            loss = loss + args.distill * kl.sum(-1).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        step += 1
        if args.eval_minutes > 0 and time.monotonic() - last_eval > args.eval_minutes * 60:
            history.append(evaluate_all(step, elapsed, float(loss.detach())))
            torch.save(model.state_dict(), checkpoints / f"step{step:06d}.pt")
            last_eval = time.monotonic()
        elif args.eval_minutes <= 0 and step % 200 == 0:
            accuracy = evaluate(model, real_val, args.device)
            history.append(
                {"step": step, "seconds": round(elapsed), "loss": float(loss.detach()), "val_exact": accuracy}
            )
            print(
                f"step {step} {elapsed:.0f}s loss {float(loss):.4f} lr {lr:.2e} val exact {accuracy:.4f}",
                flush=True,
            )
        elif step % 50 == 0:
            print(f"step {step} {elapsed:.0f}s loss {float(loss):.4f} lr {lr:.2e}", flush=True)
    final = evaluate(model, real_val, args.device)
    if args.eval_minutes > 0:
        history.append(evaluate_all(step, time.monotonic() - started, None))
    export_onnx(model, args.out)
    export_paddle.main(["--model-dir", str(args.out)])  # the same weights for paddleocr's pipeline
    torch.save(model.state_dict(), args.out / "plate_rec.pt")
    metrics = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "init": str(args.init) if args.init else None,
        "steps": step,
        "batch": args.batch,
        "lr": args.lr,
        "minutes": round((time.monotonic() - started) / 60, 1),
        "device": args.device,
        "threads": torch.get_num_threads(),
        "real_train_crops": len(train_crops),
        "real_validation_crops": len(val_crops),
        "real_share": args.real_share,
        "formats": args.formats,
        "two_line_share": args.two_line_share,
        "stacked_region": args.stacked_region,
        "hard_weight": args.hard_weight,
        "freeze_bn": args.freeze_bn,
        "teacher": str(args.teacher) if args.teacher else None,
        "distill": args.distill if args.teacher else None,
        "val_exact_greedy": final,
        "history": history,
    }
    (args.out / "training_metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps({k: v for k, v in metrics.items() if k != "history"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
