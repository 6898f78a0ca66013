"""Export recogniser weights to the serving files, optionally blended with the starting weights.

    python -m training.recognizer.export --weights var/recognizer_ft/run2/plate_rec.pt \
        [--blend models/recognizer/plate_rec.onnx --alpha 0.7] [--out models/recognizer]

writes `plate_rec.onnx` (+ `charset.txt`), the paddleocr directory and `plate_rec.pt` into --out.
`--blend B --alpha a` exports `a·weights + (1 − a)·B` (weight-space ensembling of a fine-tune
with the model it started from, "WiSE-FT"): it keeps more of the starting model's accuracy on
real crops while keeping part of the fine-tune's gain. BatchNorm is handled exactly: B's
BatchNorm is first re-expressed with the running statistics of `weights` (same function), so
the blend interpolates the affine parameters of one shared normalisation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from training.recognizer import export_paddle
from training.recognizer.convert import load_init
from training.recognizer.model import PlateCRNN


def align_batchnorm(model: PlateCRNN, like: PlateCRNN) -> PlateCRNN:
    """Re-express `model`'s BatchNorms with `like`'s running statistics (eval function unchanged)."""
    with torch.no_grad():
        for bn, ref in zip(model.modules(), like.modules(), strict=True):
            if isinstance(bn, torch.nn.BatchNorm2d):
                assert isinstance(ref, torch.nn.BatchNorm2d)
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                # eval: scale·(x − m) + β  =  scale·x + (β − scale·m); keep scale and that offset.
                offset = bn.bias - scale * bn.running_mean
                bn.running_mean.copy_(ref.running_mean)
                bn.running_var.copy_(ref.running_var)
                bn.weight.copy_(scale * torch.sqrt(ref.running_var + bn.eps))
                bn.bias.copy_(offset + scale * ref.running_mean)
    return model


def blend(model: PlateCRNN, other: PlateCRNN, alpha: float) -> PlateCRNN:
    """alpha·model + (1 − alpha)·other, parameter by parameter, with shared BN statistics."""
    other = align_batchnorm(other, model)
    mixed = PlateCRNN(model.classifier.out_features, hidden=model.rnn.hidden_size)
    theirs = other.state_dict()
    state = {
        name: (alpha * value + (1 - alpha) * theirs[name]) if value.is_floating_point() else value
        for name, value in model.state_dict().items()
    }
    mixed.load_state_dict(state)
    return mixed.eval()


def main(argv: list[str] | None = None) -> int:
    from training.recognizer.train import export_onnx

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weights", type=Path, required=True, help="plate_rec.pt (or .onnx)")
    parser.add_argument("--blend", type=Path, default=None, help="weights to blend with (.pt or .onnx)")
    parser.add_argument("--alpha", type=float, default=1.0, help="share of --weights in the blend")
    parser.add_argument("--out", type=Path, default=Path("models/recognizer"))
    args = parser.parse_args(argv)
    model = load_init(args.weights)
    if args.blend is not None:
        model = blend(model, load_init(args.blend), args.alpha)
    args.out.mkdir(parents=True, exist_ok=True)
    export_onnx(model, args.out)
    export_paddle.main(["--model-dir", str(args.out)])
    torch.save(model.state_dict(), args.out / "plate_rec.pt")
    print(f"wrote {args.out}/plate_rec.onnx, plate_rec.pt and the paddle directory")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
