"""Start and stop the real-plate RTSP simulator: GStreamer's RTSP server (anpr/simulator/
rtsp_server.py, run by Debian's python3 with PyGObject) serving the cached H.264 clips of a
manifest (anpr/simulator/real_clips.py), one mount per camera, live on one clock.

Why gst-rtsp-server: a maintained RTSP server from Debian packages (scripts/setup installs
gir1.2-gst-rtsp-server-1.0 and the GStreamer plugins), which serves pre-encoded H.264 with
`h264parse ! rtph264pay` — no re-encoding, so 45 cameras cost the simulator little CPU.
MediaMTX, the usual choice, is a Go binary that no package registry we can use carries.

The server's epoch is written into its config by this module, so the ground truth of every
camera in wall time is `truth_rows(manifest, simulator.epoch, start, end)`.
"""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anpr.launcher import Process
from anpr.simulator.camera_faults import Fault
from anpr.simulator.real_clips import Manifest, truth_rows

SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
# Debian's interpreter: it has python3-gi and the GStreamer typelibs; the project's .venv does not.
SYSTEM_PYTHON = "/usr/bin/python3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_config(manifest: Manifest, epoch: float, port: int, host: str = "127.0.0.1",
                  cameras: Sequence[str] | None = None,
                  faults: Mapping[str, Sequence[Fault]] | None = None) -> dict[str, Any]:  # fmt: skip
    """The server's JSON config: clips, frame indices, phases and faults of the cameras served.
    `faults` adds server-side faults (drop, corrupt) to those the clips were built with."""
    served = {}
    for camera_id in cameras or list(manifest.cameras):
        cam = manifest.cameras[camera_id]
        extra = list((faults or {}).get(camera_id, ()))
        served[camera_id] = {
            "clip": str(cam.clip),
            "index": str(cam.index),
            "fps": manifest.fps,
            "phase_s": cam.phase_s,
            "faults": [f.as_dict() for f in [*cam.faults, *extra]],
        }
    return {"host": host, "port": port, "epoch": epoch, "cameras": served}


class RtspSimulator:
    """One gst-rtsp-server process serving a manifest's cameras on 127.0.0.1."""

    def __init__(
        self,
        manifest: Manifest,
        port: int = 0,
        cameras: Sequence[str] | None = None,
        faults: Mapping[str, Sequence[Fault]] | None = None,
        log_dir: Path | None = None,
        python: str = SYSTEM_PYTHON,
    ) -> None:
        self.manifest = manifest
        self.port = port or free_port()
        self.cameras = list(cameras or manifest.cameras)
        self.faults = faults
        self.log_dir = log_dir
        self.python = python
        self.epoch = datetime.now(UTC)
        self.process: Process | None = None
        self._config: Path | None = None

    def url(self, camera_id: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{camera_id}"

    def start(self, timeout_s: float = 30.0) -> RtspSimulator:
        if self.process is not None and self.process.alive():
            # A second server cannot listen on this port, and the new epoch would shift every
            # ground-truth time.
            raise RuntimeError("the RTSP simulator is already running (use `with` or start(), not both)")
        self.epoch = datetime.now(UTC)
        config = server_config(self.manifest, self.epoch.timestamp(), self.port, cameras=self.cameras,
                               faults=self.faults)  # fmt: skip
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="rtsp-", delete=False) as f:
            self._config = Path(f.name)
            json.dump({**config, "ready_file": str(self._ready_file)}, f)
        self.process = Process("rtsp-server", [self.python, str(SERVER_SCRIPT), str(self._config)],
                               log_dir=self.log_dir, grace_s=5.0, die_with_parent=True).start()  # fmt: skip
        self.process.wait_ready(self._listening, timeout_s, "RTSP server")
        return self

    @property
    def _ready_file(self) -> Path:
        assert self._config is not None
        return self._config.with_suffix(".ready")

    def _listening(self) -> bool:
        # The server's own word, not a connect to the port: another process may hold the port
        # (then this server exits with "cannot listen", and wait_ready reports it).
        return self._ready_file.is_file() and self._ready_file.read_text() == str(self.port)

    def truth(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Every pass wholly inside [start, end] on the served cameras, in wall time."""
        return truth_rows(self.manifest, self.epoch, start, end, cameras=self.cameras)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        if self._config is not None:
            self._config.unlink(missing_ok=True)
            self._ready_file.unlink(missing_ok=True)

    def __enter__(self) -> RtspSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
