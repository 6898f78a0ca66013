"""Cameras fail: a URL that never answers, a stream that goes away and comes back, corrupt and
zero-size frames. Each is counted and the camera marked down; every other camera keeps working."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr.faults.procs import wait_until
from anpr.simulator.scene import CameraScene
from anpr.simulator.server import FeedHub, SimulatorServer
from lpr.workers.feeds import FeedError, FeedReader, JpegFrame, _mjpeg_boundary, _parts, as_image
from lpr.workers.health import CameraHealth


def _server(port: int = 0) -> SimulatorServer:
    scenes = {"C01": CameraScene("C01", 1, datetime.now(UTC))}
    return SimulatorServer(FeedHub(scenes, fps=8, truth_path=None), port=port).start()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections (kernel backlog) and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def test_image_folder_counts_corrupt_and_empty_frames_and_keeps_the_good_ones(tmp_path: Path) -> None:
    frame = np.full((120, 160, 3), 90, np.uint8)
    cv2.imwrite(str(tmp_path / "001.jpg"), frame)
    (tmp_path / "002.jpg").write_bytes(b"")  # zero-size
    (tmp_path / "003.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    cv2.imwrite(str(tmp_path / "004.png"), frame)
    health = CameraHealth("C01")
    feed = FeedReader("C01", f"folder://{tmp_path}", health, buffer_frames=8)
    feed.start()
    assert feed.finished.wait(5)
    assert (health.frames, health.bad_frames) == (2, 2)
    assert feed.take() is not None and feed.take() is not None and feed.take() is None


def test_a_slow_consumer_drops_the_oldest_frames_and_counts_them(tmp_path: Path) -> None:
    for i in range(6):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), np.full((40, 40, 3), i * 40, np.uint8))
    health = CameraHealth("C01")
    feed = FeedReader("C01", f"folder://{tmp_path}", health, buffer_frames=2)
    feed.start()
    assert feed.finished.wait(5)
    assert health.dropped_frames == 4
    _, newest_but_one = feed.take() or (None, None)
    assert newest_but_one is not None and int(newest_but_one[0, 0, 0]) == 4 * 40


def test_silent_and_refused_cameras_go_down_while_a_working_one_stays_up(silent_port: int) -> None:
    server = _server()
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    refused_port = refused.getsockname()[1]
    refused.close()  # nothing listens there any more
    healths = {cid: CameraHealth(cid) for cid in ("OK", "SILENT", "REFUSED")}
    urls = {
        "OK": server.url("C01"),
        "SILENT": f"http://127.0.0.1:{silent_port}/cam.mjpg",
        "REFUSED": f"http://127.0.0.1:{refused_port}/cam.mjpg",
    }
    feeds = [FeedReader(cid, urls[cid], healths[cid], timeout_ms=800, backoff_s=(0.2, 1.0)) for cid in urls]
    try:
        for feed in feeds:
            feed.start()
        failing = ("SILENT", 1), ("REFUSED", 2)
        assert wait_until(
            lambda: all(healths[c].errors >= n for c, n in failing) and healths["OK"].frames > 10, 8
        )
        assert healths["SILENT"].state == healths["REFUSED"].state == "down"
        assert healths["OK"].state == "up" and healths["OK"].frames > 10 and healths["OK"].errors == 0
    finally:
        for feed in feeds:
            feed.stop_event.set()
        server.close()


def test_a_camera_reconnects_within_five_seconds_after_its_stream_returns() -> None:
    server = _server()
    port = server.port
    health = CameraHealth("C01")
    feed = FeedReader("C01", server.url("C01"), health, timeout_ms=1000)
    feed.start()
    try:
        assert wait_until(lambda: health.state == "up", 5)
        server.close()
        assert wait_until(lambda: health.state == "down", 5)
        frames_before = health.frames
        server = _server(port)
        returned = time.monotonic()
        assert wait_until(lambda: health.frames > frames_before and health.state == "up", 6)
        assert time.monotonic() - returned <= 5.5
        assert health.reconnects >= 1
    finally:
        feed.stop_event.set()
        server.close()


def test_mjpeg_frames_arrive_as_jpeg_and_are_decoded_only_on_demand() -> None:
    server = _server()
    health = CameraHealth("C01")
    feed = FeedReader("C01", server.url("C01"), health, timeout_ms=2000)
    feed.start()
    try:
        assert wait_until(lambda: health.frames >= 4, 5)
        item = feed.take_latest()
        assert item is not None and isinstance(item[1], JpegFrame)
        assert feed.take() is None  # the older buffered frame was dropped, and counted
        assert health.dropped_frames >= 1
        frame = item[1]
        small = frame.small_grey()
        image = as_image(frame)
        assert small is not None and small.shape == (90, 160)  # the motion gate's 1/4-scale grey
        assert image is not None and image.shape == (360, 640, 3)
    finally:
        feed.stop_event.set()
        server.close()


def test_multipart_parts_without_content_length_and_bad_parts() -> None:
    jpeg = cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))[1].tobytes()
    body = (
        b"preamble\r\n--frame\r\nContent-Type: image/jpeg\r\n\r\n" + jpeg + b"\r\n"
        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 5\r\n\r\nhello\r\n"
        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(jpeg)).encode() + b"\r\n\r\n"
        + jpeg + b"\r\n--frame\r\n"
    )  # fmt: skip
    parts = _parts(io.BytesIO(body), b"--frame")  # type: ignore[arg-type]
    first, second, third = next(parts), next(parts), next(parts)
    assert isinstance(first, JpegFrame) and first.data == jpeg  # read up to the next boundary
    assert second is None  # not a JPEG: counted as a bad frame by the reader
    assert isinstance(third, JpegFrame) and third.image() is not None
    with pytest.raises(FeedError):
        next(parts)  # the stream ended
    assert _mjpeg_boundary('multipart/x-mixed-replace; boundary="--myboundary"') == b"--myboundary"
    assert _mjpeg_boundary("image/jpeg") is None
