"""Rebuild the torch `PlateCRNN` from an exported `plate_rec.onnx` (the .pt was never kept).

The ONNX export folded every BatchNorm into the convolution before it (each Conv has a bias and
no BatchNormalization node follows), and the LSTM is stored in ONNX's layout. The conversion:

* **Conv + folded BN → Conv (no bias) + BatchNorm that reproduces it exactly.** The folded conv
  computes `W·x + b`. We keep `W` in the conv and give the BatchNorm running statistics `m`, `v`
  and affine `γ = sqrt(v + eps)`, `β = b + m`, so in eval mode `(W·x − m)/sqrt(v+eps)·γ + β =
  W·x + b` for any `m`, `v`. With `m`, `v` set to the statistics of `W·x` on real training crops
  (`estimate_bn_statistics`) the BatchNorm also behaves nearly the same in training mode, so a
  fine-tune does not start from a jolt; without data they are 0 and 1. Keeping the architecture
  of `training/recognizer/model.py` unchanged means a re-export gives the same graph as before.
* **LSTM:** ONNX `W` (input), `R` (recurrent) are `[directions, 4H, ·]` with gates in the order
  i, o, f, c; torch's `weight_ih_l0` / `weight_hh_l0` are `[4H, ·]` in the order i, f, g(=c), o,
  with the reverse direction in `*_reverse`. ONNX `B` is `[directions, 8H]`: the input biases
  then the recurrent biases (torch's `bias_ih`, `bias_hh`).
* **Classifier:** `MatMul` by a `[2H, C]` matrix (torch's weight transposed) and `Add` of the bias.

    python -m training.recognizer.convert [--onnx models/recognizer/plate_rec.onnx] \
        [--out models/recognizer/plate_rec.pt] [--bn-crops 512]

prints the largest difference between the torch model's and ONNX Runtime's log-probabilities
on the real validation crops. Needs torch and onnx (the training venv).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from lpr.recognizer.charset import NUM_CLASSES
from training.recognizer.model import PlateCRNN

# torch gate order (i, f, g, o) taken from ONNX's (i, o, f, c): ONNX block index for each.
_ONNX_GATE_FOR_TORCH = (0, 2, 3, 1)


def _torch_gates(onnx_matrix: np.ndarray, hidden: int) -> torch.Tensor:
    """[4H, ·] (or [4H]) in ONNX gate order → torch gate order."""
    blocks = [onnx_matrix[g * hidden : (g + 1) * hidden] for g in _ONNX_GATE_FOR_TORCH]
    return torch.from_numpy(np.ascontiguousarray(np.concatenate(blocks)))


def _conv_bn_pairs(model: PlateCRNN) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    layers = list(model.features)
    return [
        (layer, layers[i + 1])
        for i, layer in enumerate(layers)
        if isinstance(layer, nn.Conv2d) and isinstance(layers[i + 1], nn.BatchNorm2d)
    ]


def model_from_onnx(path: Path) -> PlateCRNN:
    """A `PlateCRNN` whose eval-mode forward equals the ONNX graph's (BN statistics 0 / 1)."""
    graph = onnx.load(str(path)).graph
    weights = {t.name: numpy_helper.to_array(t).copy() for t in graph.initializer}  # writable
    nodes = list(graph.node)
    if any(n.op_type == "BatchNormalization" for n in nodes):
        raise ValueError(f"{path}: expected BatchNorm folded into the convolutions (an eval-mode export)")
    lstm = next(n for n in nodes if n.op_type == "LSTM")
    hidden = next(a.i for a in lstm.attribute if a.name == "hidden_size")
    model = PlateCRNN(NUM_CLASSES, hidden=hidden)

    convs = [n for n in nodes if n.op_type == "Conv"]
    pairs = _conv_bn_pairs(model)
    if len(convs) != len(pairs):
        raise ValueError(f"{path}: {len(convs)} convolutions, the model has {len(pairs)}")
    with torch.no_grad():
        for node, (conv, bn) in zip(convs, pairs, strict=True):
            w, b = weights[node.input[1]], weights[node.input[2]]
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise ValueError(f"conv {node.name}: {w.shape} vs {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(w.copy()))
            zeros, ones = torch.zeros_like(bn.running_mean), torch.ones_like(bn.running_var)
            _set_bn(bn, torch.from_numpy(b.copy()), zeros, ones)

        w_ih, w_hh = weights[lstm.input[1]], weights[lstm.input[2]]  # [2, 4H, in], [2, 4H, H]
        bias = weights[lstm.input[3]]  # [2, 8H]
        for d, suffix in ((0, ""), (1, "_reverse")):
            getattr(model.rnn, f"weight_ih_l0{suffix}").copy_(_torch_gates(w_ih[d], hidden))
            getattr(model.rnn, f"weight_hh_l0{suffix}").copy_(_torch_gates(w_hh[d], hidden))
            getattr(model.rnn, f"bias_ih_l0{suffix}").copy_(_torch_gates(bias[d, : 4 * hidden], hidden))
            getattr(model.rnn, f"bias_hh_l0{suffix}").copy_(_torch_gates(bias[d, 4 * hidden :], hidden))

        matmul = next(n for n in nodes if n.op_type == "MatMul")
        add = next(n for n in nodes if n.op_type == "Add" and matmul.output[0] in n.input)
        model.classifier.weight.copy_(torch.from_numpy(weights[matmul.input[1]].T.copy()))
        bias_name = next(name for name in add.input if name in weights)
        model.classifier.bias.copy_(torch.from_numpy(weights[bias_name]))
    return model.eval()


def _set_bn(bn: nn.BatchNorm2d, folded_bias: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> None:
    """Make `bn` (after a bias-free conv) add `folded_bias` in eval mode, whatever mean/var."""
    bn.running_mean.copy_(mean)
    bn.running_var.copy_(var)
    bn.weight.copy_(torch.sqrt(var + bn.eps))
    bn.bias.copy_(folded_bias + mean)


@torch.no_grad()
def estimate_bn_statistics(model: PlateCRNN, batches: Iterable[torch.Tensor]) -> PlateCRNN:
    """Set each BatchNorm's running mean/var to its conv output's statistics on `batches`,
    keeping the eval-mode function unchanged (so train-mode BN starts close to eval-mode BN)."""
    model.eval()
    pairs = _conv_bn_pairs(model)
    sums = [torch.zeros_like(bn.running_mean, dtype=torch.float64) for _, bn in pairs]
    squares = [torch.zeros_like(s) for s in sums]
    counts = [0] * len(pairs)

    def hook(index: int):  # type: ignore[no-untyped-def]
        def record(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
            flat = output.double().transpose(0, 1).reshape(output.shape[1], -1)
            sums[index] += flat.sum(1)
            squares[index] += (flat * flat).sum(1)
            counts[index] += flat.shape[1]

        return record

    handles = [conv.register_forward_hook(hook(i)) for i, (conv, _) in enumerate(pairs)]
    try:
        for batch in batches:
            model(batch)
    finally:
        for handle in handles:
            handle.remove()
    for (_, bn), s, sq, n in zip(pairs, sums, squares, counts, strict=True):
        if n == 0:
            continue
        folded_bias = bn.bias - bn.running_mean * bn.weight / torch.sqrt(bn.running_var + bn.eps)
        mean = (s / n).float()
        var = (sq / n - (s / n) ** 2).clamp_min(1e-6).float()
        _set_bn(bn, folded_bias, mean, var)
    return model


def load_init(path: Path, bn_batches: Iterable[torch.Tensor] | None = None) -> PlateCRNN:
    """Weights to start training from: a `plate_rec.pt` state dict, or an exported `.onnx`."""
    if path.suffix == ".onnx":
        model = model_from_onnx(path)
        return estimate_bn_statistics(model, bn_batches) if bn_batches is not None else model
    model = PlateCRNN(NUM_CLASSES)
    model.load_state_dict(torch.load(path, map_location="cpu"))
    return model.eval()


def batches(images: np.ndarray, size: int = 64) -> list[np.ndarray]:
    return [images[i : i + size] for i in range(0, len(images), size)]


def onnx_log_probs(path: Path, images: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, {"image": batch})[0] for batch in batches(images)])


@torch.no_grad()
def torch_log_probs(model: PlateCRNN, images: np.ndarray) -> np.ndarray:
    model.eval()
    return np.concatenate([model(torch.from_numpy(batch)).numpy() for batch in batches(images)])


def main(argv: list[str] | None = None) -> int:
    import cv2

    from anpr_core.splits import real_crops
    from lpr.recognizer.preprocess import batch_input
    from training.recognizer.data import plates_dir_default

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--onnx", type=Path, default=Path("models/recognizer/plate_rec.onnx"))
    parser.add_argument("--out", type=Path, default=Path("models/recognizer/plate_rec.pt"))
    parser.add_argument("--plates", type=Path, default=plates_dir_default())
    parser.add_argument("--bn-crops", type=int, default=512, help="real training crops for BN statistics")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    train, val = real_crops(args.plates)
    step = max(1, len(train) // max(1, args.bn_crops))
    bn_images = batch_input([cv2.imread(str(c.path)) for c in train[::step][: args.bn_crops]])
    model = load_init(args.onnx, [torch.from_numpy(batch) for batch in batches(bn_images)])
    images = batch_input([cv2.imread(str(c.path)) for c in val])
    diff = np.abs(torch_log_probs(model, images) - onnx_log_probs(args.onnx, images))
    print(f"{len(val)} real validation crops: max |torch − onnxruntime| log-prob {diff.max():.2e}")
    torch.save(model.state_dict(), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
