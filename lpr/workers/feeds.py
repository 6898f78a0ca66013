"""Feed readers: one thread per camera, a bounded latest-frame buffer, reconnect with backoff.

Frames the worker cannot keep up with are dropped oldest-first and counted (reads are never
dropped: they are made later, from the frames that were processed). Sources: http:// MJPEG
(multipart/x-mixed-replace) read directly, each frame kept as its JPEG bytes (`JpegFrame`) and
decoded only if the worker looks at it; rtsp:// H.264/H.265 cameras and video files (file:// or
a path, `?realtime=1&fps=12&loop=1` paced like a camera) decoded with PyAV, each picture kept in
YUV until looked at (lpr/workers/decode.py); other http:// streams through OpenCV's FFmpeg
backend; image folders (folder://DIR, in name order) for tests.

Why MJPEG is not decoded on arrival: 45 cameras at 8 fps are 360 JPEG decodes a second, about
0.6 of a core on this machine, and almost all of those frames are dropped unseen (the buffer
keeps two). The worker decodes one frame per camera per round: a 1/4-scale grey decode for the
motion gate (DCT scaling, a fraction of a full decode) and the full image only for frames that
go to the detector.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np

from anpr_core.redact import redact_credentials
from lpr.workers.decode import DecodedFrame, DecodeError, decoded_frames
from lpr.workers.health import CameraHealth

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


class FeedError(RuntimeError):
    pass


class JpegFrame:
    """A camera frame still in its JPEG bytes; decoded on demand, the full image at most once."""

    __slots__ = ("_image", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._image: np.ndarray | None = None

    def _decode(self, flags: int) -> np.ndarray | None:
        image = cv2.imdecode(np.frombuffer(self.data, np.uint8), flags)
        return image if image is not None and image.size else None

    def small_grey(self) -> np.ndarray | None:
        """The frame at 1/4 scale in grey (the motion gate's input), without a full decode."""
        return self._decode(cv2.IMREAD_REDUCED_GRAYSCALE_4)

    def image(self) -> np.ndarray | None:
        """The full BGR frame, or None when the JPEG is corrupt."""
        if self._image is None:
            self._image = self._decode(cv2.IMREAD_COLOR)
        return self._image


Frame = np.ndarray | JpegFrame | DecodedFrame


def as_image(frame: Frame) -> np.ndarray | None:
    return frame.image() if isinstance(frame, JpegFrame | DecodedFrame) else frame


def _open_capture(url: str, timeout_ms: int) -> cv2.VideoCapture:
    path = urlparse(url).path if url.startswith("file://") else url
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        raise FeedError(f"cannot open {redact_credentials(url)}")
    return cap


def _capture_frames(url: str, timeout_ms: int) -> Iterator[Frame | None]:
    cap = _open_capture(url, timeout_ms)
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                raise FeedError("stream ended or stalled")
            yield frame
    finally:
        cap.release()


def _mjpeg_boundary(content_type: str) -> bytes | None:
    """The multipart boundary of an MJPEG stream's Content-Type, or None if it is not multipart."""
    kind, _, params = content_type.partition(";")
    if not kind.strip().lower().startswith("multipart/"):
        return None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return b"--" + value.strip().strip('"').removeprefix("--").encode("latin-1")
    return None


def _mjpeg_frames(url: str, timeout_ms: int) -> Iterator[JpegFrame | None]:
    """An HTTP MJPEG stream, frame by frame as JPEG bytes; any other HTTP stream via OpenCV."""
    try:
        response = urllib.request.urlopen(url, timeout=timeout_ms / 1000)
    except (OSError, ValueError) as exc:  # refused, timed out, HTTP error, bad URL
        raise FeedError(f"cannot open {redact_credentials(url)}: {redact_credentials(str(exc))}") from None
    boundary = _mjpeg_boundary(response.headers.get("Content-Type", ""))
    if boundary is None:
        response.close()
        yield from _capture_frames(url, timeout_ms)
        return
    try:
        with response:
            yield from _parts(response, boundary)
    except OSError as exc:  # the socket timed out (a stalled camera) or was reset
        raise FeedError(f"stream ended or stalled: {exc}") from None


def _parts(response: Iterator[bytes], boundary: bytes) -> Iterator[JpegFrame | None]:
    """The parts of a multipart stream: with Content-Length read at once, otherwise up to the
    next boundary line."""
    readline, read = response.readline, response.read  # type: ignore[attr-defined]
    line = readline()
    while True:
        while line and not line.startswith(boundary):
            line = readline()  # preamble, or the CRLF after the previous part
        if not line:
            raise FeedError("stream ended or stalled")
        length = None
        while (line := readline()) not in (b"\r\n", b"\n", b""):
            key, _, value = line.decode("latin-1").partition(":")
            if key.strip().lower() == "content-length" and value.strip().isdigit():
                length = int(value)
        if not line:
            raise FeedError("stream ended or stalled")
        if length is not None:
            data = read(length)
            if len(data) < length:
                raise FeedError("stream ended or stalled")
            line = readline()
        else:
            chunks = []
            while (line := readline()) and not line.startswith(boundary):
                chunks.append(line)
            data = b"".join(chunks).removesuffix(b"\n").removesuffix(b"\r")
        yield JpegFrame(data) if data.startswith(b"\xff\xd8") else None


def _folder_frames(directory: Path) -> Iterator[Frame | None]:
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FeedError(f"no images in {directory}")
    for path in files:
        # A corrupt or zero-size file decodes to None: yielded so it is counted, not fatal.
        yield cv2.imread(str(path), cv2.IMREAD_COLOR)


def frame_source(
    url: str,
    timeout_ms: int = 5000,
    health: CameraHealth | None = None,
    skip_loop_filter: str = "default",
) -> Iterator[Frame | None]:
    """`skip_loop_filter`: H.264/H.265 streams only (`decoded_frames`)."""
    if url.startswith("folder://"):
        return _folder_frames(Path(url[len("folder://") :]))
    if url.startswith(("http://", "https://")):
        return _mjpeg_frames(url, timeout_ms)
    return decoded_frames(url, timeout_ms, health or CameraHealth(""), skip_loop_filter=skip_loop_filter)


class FeedReader(threading.Thread):
    """Reads one camera forever; the worker takes frames with `take()`."""

    def __init__(
        self,
        camera_id: str,
        url: str,
        health: CameraHealth,
        buffer_frames: int = 2,
        # Capped at 2 s: a camera whose stream returns is read again within 5 s (wait + reopen),
        # and a reconnect attempt every 2 s to a dead camera costs next to nothing.
        backoff_s: tuple[float, float] = (0.5, 2.0),
        timeout_ms: int = 5000,
        realtime_fps: float | None = None,
        loop: bool = False,
        skip_loop_filter: str = "default",
    ) -> None:
        super().__init__(name=f"feed-{camera_id}", daemon=True)
        self.skip_loop_filter = skip_loop_filter
        self.camera_id, self.url, self.health = camera_id, url, health
        self.backoff_s, self.timeout_ms = backoff_s, timeout_ms
        # File sources are paced so tests and replays see camera-like timing.
        self.realtime_fps = realtime_fps
        self.loop = loop
        self._buffer: collections.deque[tuple[datetime, Frame]] = collections.deque(maxlen=buffer_frames)
        self._lock = threading.Lock()
        self.stop_event = threading.Event()
        self.finished = threading.Event()
        self._fps_window: collections.deque[float] = collections.deque(maxlen=30)

    def take(self) -> tuple[datetime, Frame] | None:
        """The oldest buffered frame."""
        with self._lock:
            return self._buffer.popleft() if self._buffer else None

    def take_latest(self) -> tuple[datetime, Frame] | None:
        """The newest buffered frame; older ones are dropped (counted): the worker looks at the
        scene as it is now, so a vehicle that has left is noticed a frame sooner."""
        with self._lock:
            if not self._buffer:
                return None
            self.health.dropped_frames += len(self._buffer) - 1
            latest = self._buffer.pop()
            self._buffer.clear()
            return latest

    def _push(self, frame: Frame) -> None:
        # A decoded H.264 frame knows when the camera took it; other frames are stamped on arrival.
        now = frame.at if isinstance(frame, DecodedFrame) else datetime.now(UTC)
        with self._lock:
            if len(self._buffer) == self._buffer.maxlen:
                self.health.dropped_frames += 1
            self._buffer.append((now, frame))
        self._fps_window.append(time.monotonic())
        h = self.health
        h.frames += 1
        h.last_frame_at = now
        h.state = "up"
        if len(self._fps_window) > 1:
            span = self._fps_window[-1] - self._fps_window[0]
            h.fps = round((len(self._fps_window) - 1) / span, 2) if span > 0 else 0.0

    def _fail(self, reason: str) -> None:
        # Health is published to every role and logged: the stream URL's password stays here.
        reason = redact_credentials(reason)
        h = self.health
        h.errors += 1
        h.last_error = reason
        if h.state != "down":
            log.warning("camera down", extra={"camera_id": self.camera_id, "reason": reason})
        h.state = "down"
        h.fps = 0.0

    def run(self) -> None:
        delay = self.backoff_s[0]
        while not self.stop_event.is_set():
            got_frame = False
            try:
                for frame in frame_source(self.url, self.timeout_ms, self.health, self.skip_loop_filter):
                    if self.stop_event.is_set():
                        break
                    if frame is None or (
                        isinstance(frame, np.ndarray) and (frame.size == 0 or frame.ndim != 3)
                    ):
                        self.health.bad_frames += 1
                        continue
                    got_frame = True
                    self._push(frame)
                    if self.realtime_fps:
                        time.sleep(1.0 / self.realtime_fps)
                else:
                    if self.url.startswith("folder://") and not self.loop:
                        break
                    raise FeedError("stream ended")
            except (FeedError, DecodeError) as exc:
                self._fail(str(exc))
            except Exception as exc:  # one camera's fault must never stop the others
                self._fail(f"{type(exc).__name__}: {exc}")
            if self.stop_event.is_set() or (self.url.startswith("folder://") and not self.loop and got_frame):
                break
            if got_frame:
                delay = self.backoff_s[0]
            self.health.reconnects += 1
            self.health.state = "connecting" if got_frame else "down"
            self.stop_event.wait(delay)
            delay = min(self.backoff_s[1], delay * 2)
        self.finished.set()
