"""Both engines behind `load_recognizer` read real held-out crops, offline, the same way."""

from __future__ import annotations

import socket
from pathlib import Path

import cv2
import pytest

from anpr_core.splits import real_crops
from lpr.recognizer import RecognizerUnavailable, load_recognizer
from tests.conftest import SHARED_DATA

needs_data = pytest.mark.skipif(not (SHARED_DATA / "plates").is_dir(), reason="../shared/data is absent")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection (a model hub, say) fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@needs_data
def test_paddleocr_pipeline_and_onnxruntime_agree_on_real_crops(no_network: None) -> None:
    _, validation = real_crops(SHARED_DATA / "plates")
    sample = validation[:30]
    images = [cv2.imread(str(c.path)) for c in sample]
    direct = load_recognizer(engine="onnxruntime").read(images)
    paddle = load_recognizer(engine="paddleocr").read(images)
    # The pipelines resize differently (INTER_AREA vs INTER_LINEAR): nearly always the same plate.
    assert sum(a.text == b.text for a, b in zip(direct, paddle, strict=True)) >= 27
    assert sum(b.text == c.text for b, c in zip(paddle, sample, strict=True)) >= 23  # 24 when written
    assert all(0.0 <= r.confidence <= 1.0 for r in paddle)


def test_missing_weights_or_unknown_engine_say_why(tmp_path: Path) -> None:
    with pytest.raises(RecognizerUnavailable, match="not found"):
        load_recognizer(tmp_path)
    with pytest.raises(RecognizerUnavailable, match="paddleocr model directory"):
        load_recognizer(tmp_path, engine="paddleocr")
    with pytest.raises(RecognizerUnavailable, match="unknown recogniser engine"):
        load_recognizer(engine="tesseract")
    with pytest.raises(RecognizerUnavailable, match="precision must be one of fp32, int8"):
        load_recognizer(precision="fp16")


@needs_data
def test_int8_weights_read_held_out_crops_as_well_as_fp32() -> None:
    _, validation = real_crops(SHARED_DATA / "plates")
    sample = validation[:120]
    images = [cv2.imread(str(c.path)) for c in sample]
    fp32 = load_recognizer(precision="fp32").read(images)
    int8 = load_recognizer(precision="int8").read(images)
    exact = {name: sum(r.text == c.text for r, c in zip(reads, sample, strict=True))
             for name, reads in (("fp32", fp32), ("int8", int8))}  # fmt: skip
    assert exact["int8"] >= exact["fp32"] - 2, exact
    assert sum(a.text == b.text for a, b in zip(fp32, int8, strict=True)) >= 114
