"""Feed readers: one thread per camera, a bounded latest-frame buffer, reconnect with backoff.

Frames the worker cannot keep up with are dropped oldest-first and counted (reads are never
dropped: they are made later, from the frames that were processed). Sources: rtsp:// and
http:// (MJPEG) through OpenCV's FFmpeg backend, video files (file:// or a path), and image
folders (folder://DIR, played in name order) for tests.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np

from lpr.workers.health import CameraHealth

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


class FeedError(RuntimeError):
    pass


def _open_capture(url: str, timeout_ms: int) -> cv2.VideoCapture:
    path = urlparse(url).path if url.startswith("file://") else url
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        raise FeedError(f"cannot open {url}")
    return cap


def _capture_frames(url: str, timeout_ms: int) -> Iterator[np.ndarray | None]:
    cap = _open_capture(url, timeout_ms)
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                raise FeedError("stream ended or stalled")
            yield frame
    finally:
        cap.release()


def _folder_frames(directory: Path) -> Iterator[np.ndarray | None]:
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FeedError(f"no images in {directory}")
    for path in files:
        # A corrupt or zero-size file decodes to None: yielded so it is counted, not fatal.
        yield cv2.imread(str(path), cv2.IMREAD_COLOR)


def frame_source(url: str, timeout_ms: int = 5000) -> Iterator[np.ndarray | None]:
    if url.startswith("folder://"):
        return _folder_frames(Path(url[len("folder://") :]))
    return _capture_frames(url, timeout_ms)


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
    ) -> None:
        super().__init__(name=f"feed-{camera_id}", daemon=True)
        self.camera_id, self.url, self.health = camera_id, url, health
        self.backoff_s, self.timeout_ms = backoff_s, timeout_ms
        # File sources are paced so tests and replays see camera-like timing.
        self.realtime_fps = realtime_fps
        self.loop = loop
        self._buffer: collections.deque[tuple[datetime, np.ndarray]] = collections.deque(maxlen=buffer_frames)
        self._lock = threading.Lock()
        self.stop_event = threading.Event()
        self.finished = threading.Event()
        self._fps_window: collections.deque[float] = collections.deque(maxlen=30)

    def take(self) -> tuple[datetime, np.ndarray] | None:
        with self._lock:
            return self._buffer.popleft() if self._buffer else None

    def _push(self, frame: np.ndarray) -> None:
        now = datetime.now(UTC)
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
                for frame in frame_source(self.url, self.timeout_ms):
                    if self.stop_event.is_set():
                        break
                    if frame is None or frame.size == 0 or frame.ndim != 3:
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
            except FeedError as exc:
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
