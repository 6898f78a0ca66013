"""The ONNX → torch converter rebuilds a model that computes what ONNX Runtime computes.

Needs torch and onnx (the training venv: `.venv-train/bin/python -m pytest tests/recognizer`);
skipped in the runtime venv, which has neither.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from anpr_core.splits import real_crops  # noqa: E402
from lpr.recognizer.charset import CHARSET, NUM_CLASSES  # noqa: E402
from lpr.recognizer.decode import greedy_decode  # noqa: E402
from lpr.recognizer.preprocess import batch_input  # noqa: E402
from tests.conftest import SHARED_DATA  # noqa: E402
from training.recognizer.convert import (  # noqa: E402
    estimate_bn_statistics,
    load_init,
    model_from_onnx,
    onnx_log_probs,
    torch_log_probs,
)
from training.recognizer.model import PlateCRNN  # noqa: E402
from training.recognizer.train import export_onnx  # noqa: E402

MODEL = Path(__file__).resolve().parents[2] / "models" / "recognizer" / "plate_rec.onnx"
needs_data = pytest.mark.skipif(not (SHARED_DATA / "plates").is_dir(), reason="../shared/data is absent")


def _random_model(seed: int) -> PlateCRNN:
    """A model with non-trivial BatchNorm statistics and LSTM gates (so folding matters)."""
    torch.manual_seed(seed)
    model = PlateCRNN(NUM_CLASSES)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
        for name, param in model.rnn.named_parameters():
            if name.startswith("bias"):
                param.uniform_(-0.5, 0.5)  # distinct per gate, so a wrong gate order shows
    return model.eval()


def test_round_trip_through_onnx_export_gives_the_same_function(tmp_path: Path) -> None:
    original = _random_model(3)
    export_onnx(original, tmp_path)  # the training script's own export (BatchNorm folded)
    rebuilt = model_from_onnx(tmp_path / "plate_rec.onnx")
    images = np.random.default_rng(0).uniform(-1, 1, (8, 1, 48, 160)).astype(np.float32)
    with torch.no_grad():
        expected = original(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(torch_log_probs(rebuilt, images), expected, atol=1e-4)
    np.testing.assert_allclose(onnx_log_probs(tmp_path / "plate_rec.onnx", images), expected, atol=1e-4)


def test_bn_statistics_keep_the_eval_function_and_match_train_mode() -> None:
    model = model_from_onnx(MODEL)
    images = np.random.default_rng(1).uniform(-1, 1, (16, 1, 48, 160)).astype(np.float32)
    before = torch_log_probs(model, images)
    estimate_bn_statistics(model, [torch.from_numpy(images)])
    np.testing.assert_allclose(torch_log_probs(model, images), before, atol=1e-4)
    # The BatchNorm statistics are now those of this batch: train mode ≈ eval mode on it.
    model.train()
    with torch.no_grad():
        train_mode = model(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(train_mode, before, atol=1e-2)
    bn = model.features[1]
    assert float(bn.running_var.mean()) != pytest.approx(1.0)  # really estimated


@needs_data
def test_converted_model_reads_real_crops_like_onnxruntime(tmp_path: Path) -> None:
    train, val = real_crops(SHARED_DATA / "plates")
    bn_images = batch_input([cv2.imread(str(c.path)) for c in train[:64]])
    model = load_init(MODEL, [torch.from_numpy(bn_images)])
    sample = val[:64]
    images = batch_input([cv2.imread(str(c.path)) for c in sample])
    ours, reference = torch_log_probs(model, images), onnx_log_probs(MODEL, images)
    assert np.abs(ours - reference).max() < 1e-3
    assert (ours.argmax(-1) == reference.argmax(-1)).mean() > 0.999
    reads = [greedy_decode(row, CHARSET)[0] for row in ours]
    assert reads == [greedy_decode(row, CHARSET)[0] for row in reference]
    assert sum(r == c.text for r, c in zip(reads, sample, strict=True)) >= 55  # it really reads plates
    # A .pt written from the converted model loads back to the same function.
    torch.save(model.state_dict(), tmp_path / "plate_rec.pt")
    np.testing.assert_allclose(torch_log_probs(load_init(tmp_path / "plate_rec.pt"), images), ours, atol=1e-6)


def test_blend_endpoints_are_the_two_models_and_bn_alignment_keeps_the_function() -> None:
    from training.recognizer.export import align_batchnorm, blend

    first, second = _random_model(1), _random_model(2)
    images = np.random.default_rng(2).uniform(-1, 1, (4, 1, 48, 160)).astype(np.float32)
    a, b = torch_log_probs(first, images), torch_log_probs(second, images)
    assert np.abs(a - b).max() > 0.1  # really two different functions
    np.testing.assert_allclose(
        torch_log_probs(align_batchnorm(_random_model(2), first), images), b, atol=1e-4
    )
    np.testing.assert_allclose(torch_log_probs(blend(first, _random_model(2), 1.0), images), a, atol=1e-4)
    np.testing.assert_allclose(torch_log_probs(blend(first, _random_model(2), 0.0), images), b, atol=1e-4)
    middle = torch_log_probs(blend(first, _random_model(2), 0.5), images)
    assert np.abs(middle - a).max() > 1e-3 and np.abs(middle - b).max() > 1e-3
