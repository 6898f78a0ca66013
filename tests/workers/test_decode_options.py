"""The workers' H.264 decode option: skipping the deblocking filter (`vision.decode_skip_loop_filter`)
reaches FFmpeg's decoder — the pictures come out, and differ from the filtered ones — and a
value FFmpeg does not know is refused by the settings, not by a camera thread at run time."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from anpr_core.settings import SettingsError, load_settings
from lpr.workers.decode import decoded_frames
from lpr.workers.feeds import frame_source
from lpr.workers.health import CameraHealth

SIZE = (320, 192)
FRAMES = 12


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A low-bitrate Annex-B H.264 clip of moving texture: blocky enough that deblocking changes
    pixels (as at a real camera's bitrate)."""
    path = tmp_path_factory.mktemp("h264") / "clip.h264"
    rng = np.random.default_rng(7)
    # Smooth shading (noise enlarged 16×): the filter only touches edges weak enough to be
    # blocking, not the real ones.
    coarse = rng.integers(0, 256, (SIZE[1] // 16, SIZE[0] // 8, 3), dtype=np.uint8)
    texture = cv2.resize(coarse, (SIZE[0] * 2, SIZE[1]), interpolation=cv2.INTER_CUBIC)
    with av.open(str(path), "w", format="h264") as out:
        stream = out.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        # Not "ultrafast": that preset encodes without the deblocking filter.
        stream.options = {"crf": "40", "bframes": "0", "g": "6", "preset": "veryfast"}
        for k in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(texture[:, 8 * k : 8 * k + SIZE[0]]), "bgr24"
            )
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _images(frames: object) -> list[np.ndarray]:
    return [f.image() for f in frames if f is not None]  # type: ignore[attr-defined]


def test_skipping_the_loop_filter_reaches_the_decoder_and_frames_still_come_out(clip: Path) -> None:
    health = CameraHealth("C01")
    filtered = _images(decoded_frames(str(clip), 5000, CameraHealth("C00")))
    skipped = _images(decoded_frames(str(clip), 5000, health, skip_loop_filter="all"))
    assert len(skipped) == len(filtered) == FRAMES and health.decoded_frames == FRAMES
    assert all(img.shape == (SIZE[1], SIZE[0], 3) for img in skipped)
    # Same picture (the filter only smooths block edges) but not the same pixels: the option
    # reached avcodec_open2.
    diffs = [np.abs(a.astype(int) - b.astype(int)) for a, b in zip(filtered, skipped, strict=True)]
    assert any(d.max() > 0 for d in diffs)
    assert max(float(d.mean()) for d in diffs) < 8


def test_the_setting_travels_from_the_settings_to_the_decoder(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filtered = _images(frame_source(str(clip), 5000, CameraHealth("C00")))
    monkeypatch.setenv("ANPR_VISION__DECODE_SKIP_LOOP_FILTER", "default")
    as_default = load_settings().vision.decode_skip_loop_filter
    assert as_default == "default"
    monkeypatch.setenv("ANPR_VISION__DECODE_SKIP_LOOP_FILTER", "all")
    option = load_settings().vision.decode_skip_loop_filter
    skipped = _images(frame_source(str(clip), 5000, CameraHealth("C01"), skip_loop_filter=option))
    assert len(skipped) == FRAMES
    assert any(not np.array_equal(a, b) for a, b in zip(filtered, skipped, strict=True))


def test_an_unknown_value_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANPR_VISION__DECODE_SKIP_LOOP_FILTER", "nonref")  # FFmpeg's name is "noref"
    with pytest.raises(SettingsError, match="decode_skip_loop_filter"):
        load_settings()
