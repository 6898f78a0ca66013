"""H.264/H.265 camera streams decoded with PyAV (FFmpeg's libavcodec): rtsp:// cameras and video
files, a file optionally paced like a camera (`--realtime`).

    rtsp://host:port/C01                              TCP interleaved, like most city NVRs
    file:///var/sim/clips/C01.h264?realtime=1&fps=12&loop=1&epoch=1765000000.5
    /path/to/clip.mp4                                 read as fast as it decodes

A realtime file shows frame g at `epoch + g / fps` (epoch: the query's, else when it was opened),
looping when `loop=1`: so a benchmark knows, from the clip's own truth, when each vehicle was in
view, exactly as with the RTSP simulator.

Every frame is decoded (H.264 frames depend on the ones before), but a decoded frame stays in
the decoder's YUV until the worker looks at it: the motion gate takes a subsampled view of the
luma plane (no conversion), and only frames that go to the detector are converted to BGR.
Decoding CPU is counted per camera (`CameraHealth.decode_cpu_s`, the feed thread's CPU time), so
the worker's cost can be set against the bare decode floor.

Each frame carries its capture time from the stream's own clock (RTP timestamps, anchored at the
first frame after connecting), not the time it came out of the decoder: when a loaded host falls
behind, a vehicle's sightings keep their true times, so tracks, reads and the measured latency
stay honest (the lag shows as latency, not as wrong times).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import av
import av.error
import numpy as np

from anpr_core.redact import redact_credentials
from lpr.workers.health import CameraHealth

# One decoder thread per camera by default: a worker decodes dozens of cameras at once, which
# already keeps every core busy; frame threading would add a frame of delay per thread and
# slice threading helps only streams encoded with slices.
DECODER_THREADS = 1


class DecodeError(RuntimeError):
    pass


class DecodedFrame:
    """A decoded picture still in YUV 4:2:0; the grey thumbnail and the BGR image on demand.
    `at`: when the camera took it (the stream's clock), not when it was decoded."""

    __slots__ = ("_frame", "_image", "at")

    def __init__(self, frame: av.VideoFrame, at: datetime) -> None:
        self._frame = frame
        self._image: np.ndarray | None = None
        self.at = at

    @property
    def size(self) -> tuple[int, int]:
        return self._frame.width, self._frame.height

    def small_grey(self) -> np.ndarray:
        """Every 4th luma sample of every 4th row: the motion gate's input, without a conversion."""
        plane = self._frame.planes[0]
        luma = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        return np.ascontiguousarray(luma[::4, : plane.width : 4])

    def image(self) -> np.ndarray:
        if self._image is None:
            self._image = self._frame.to_ndarray(format="bgr24")
        return self._image


@dataclass(frozen=True)
class Source:
    url: str
    path: str
    realtime: bool = False
    fps: float | None = None
    loop: bool = False
    epoch: float | None = None

    @classmethod
    def parse(cls, url: str) -> Source:
        if not url.startswith("file://"):
            return cls(url, url)
        parts = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        fps = float(query["fps"]) if "fps" in query else None
        epoch = float(query["epoch"]) if "epoch" in query else None
        return cls(url, parts.path, query.get("realtime") == "1", fps, query.get("loop") == "1", epoch)

    def open(self, timeout_s: float) -> av.container.InputContainer:
        options: dict[str, str] = {}
        fmt = None
        if self.path.startswith("rtsp://"):
            # TCP: no lost UDP packets on a loaded host. Small probe: the stream starts with
            # SPS/PPS and an IDR, so a long analysis only delays the first frame.
            options = {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "500000",
                       "fflags": "nobuffer"}  # fmt: skip
        elif self.path.endswith((".h264", ".264")):
            fmt = "h264"
        elif self.path.endswith((".h265", ".265", ".hevc")):
            fmt = "hevc"
        try:
            return av.open(self.path, format=fmt, options=options, timeout=(timeout_s, timeout_s))
        except (av.error.FFmpegError, OSError) as exc:
            raise DecodeError(f"cannot open {redact_credentials(self.url)}: {exc}") from None


def decoded_frames(
    url: str,
    timeout_ms: int,
    health: CameraHealth,
    threads: int = DECODER_THREADS,
    skip_loop_filter: str = "default",
) -> Iterator[DecodedFrame | None]:
    """Frames of one stream or file; None for a packet the decoder rejected (counted by the
    caller as a bad frame). Ends at the end of a file that does not loop; raises DecodeError
    when the stream breaks or stalls. `skip_loop_filter`: FFmpeg's AVDiscard name for the
    frames whose H.264 deblocking is skipped ("default": none is, "all": every frame)."""
    source = Source.parse(url)
    epoch = source.epoch if source.epoch is not None else time.time()
    shown = 0  # frames shown since the epoch (realtime files)
    while True:
        container = source.open(timeout_ms / 1000)
        try:
            stream = container.streams.video[0]
            ctx = stream.codec_context
            ctx.thread_count = threads
            ctx.thread_type = "SLICE" if threads > 1 else "NONE"
            if skip_loop_filter != "default":
                # An option of avcodec_open2: PyAV opens the decoder at the first packet.
                ctx.options = {"skip_loop_filter": skip_loop_filter}
            fps = source.fps or float(stream.average_rate or stream.guessed_rate or 25)
            anchor: tuple[float, float] | None = None  # (wall time, stream time) of the first frame
            cpu = time.thread_time()
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    frames = None
                now_cpu = time.thread_time()
                health.decode_cpu_s += now_cpu - cpu
                if frames is None:
                    yield None
                for frame in frames or ():
                    health.decoded_frames += 1
                    now = time.time()
                    if source.realtime:
                        at = epoch + shown / fps
                        if at > now:
                            time.sleep(at - now)
                        shown += 1
                    elif frame.time is not None:
                        if anchor is None:
                            anchor = (now, frame.time)
                        at = min(now, anchor[0] + frame.time - anchor[1])
                    else:
                        at = now
                    yield DecodedFrame(frame, datetime.fromtimestamp(at, UTC))
                cpu = time.thread_time()
        except av.error.FFmpegError as exc:
            raise DecodeError(f"stream ended or stalled: {exc}") from None
        finally:
            container.close()
        if not (source.realtime and source.loop):
            if source.path.startswith("rtsp://"):
                raise DecodeError("stream ended")
            return
