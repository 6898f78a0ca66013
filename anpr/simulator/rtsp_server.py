#!/usr/bin/python3
"""The simulated cameras' RTSP server: GStreamer's gst-rtsp-server (Debian packages), one mount
per camera, serving its pre-encoded H.264 clip in a loop without re-encoding.

Run with Debian's python3 (it has PyGObject; the project's .venv does not), so this file imports
nothing from the project; anpr/simulator/rtsp.py starts it and writes its config:

    /usr/bin/python3 anpr/simulator/rtsp_server.py CONFIG.json

    {"host": "127.0.0.1", "port": 8555, "epoch": 1765000000.0,
     "cameras": {"C01": {"clip": "...h264", "index": "...index.json", "fps": 12.0,
                         "phase_s": 4.2, "faults": [{"kind": "drop", "at_s": 30, "duration_s": 8}]}}}

Each mount (rtsp://HOST:PORT/C01) is a shared media: `appsrc ! h264parse ! rtph264pay`, fed by
one thread that pushes each access unit of the clip at its wall-clock time. The camera is "live":
frame g of the endless stream is shown at epoch + g / fps − phase_s, so every client, whenever it
connects, sees the same picture at the same moment (the ground truth is in that clock). A new
client gets the current GOP from its IDR at once, then the live pace.

Faults (clip time, every loop): `drop` ends the stream (EOS) and removes the mount, so the camera
refuses connections (404) until the window ends; `corrupt` garbles bytes of the slices (the NAL
headers stay, so the decoder sees damaged pictures, not a broken stream). `freeze` and `resize`
are in the clip itself.

Prints `READY <port>` on stdout once listening, and writes the port to the config's `ready_file`
when it names one (how anpr/simulator/rtsp.py knows this server, not another on the port, is
up); a port it cannot listen on is an error (exit 1). Stops on SIGTERM/SIGINT.
"""

import itertools
import json
import random
import signal
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

LAUNCH = (
    "( appsrc name=src is-live=true format=time do-timestamp=true "
    "caps=video/x-h264,stream-format=byte-stream,alignment=au "
    "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
)


class Clip:
    """A camera's clip in memory: the access units and the keyframes, from the frame index."""

    def __init__(self, cam: dict) -> None:
        with open(cam["clip"], "rb") as f:
            data = f.read()
        with open(cam["index"]) as f:
            index = json.load(f)
        offsets = index["offsets"]
        self.units = [data[a:b] for a, b in itertools.pairwise(offsets)]
        self.keyframes = set(index["keyframes"])
        self.fps = float(cam["fps"])
        self.phase_s = float(cam.get("phase_s", 0.0))
        self.faults = cam.get("faults", [])
        self.duration_s = len(self.units) / self.fps

    def clip_time(self, g: int) -> float:
        return (g % len(self.units)) / self.fps

    def fault_at(self, g: int, kind: str) -> bool:
        t = self.clip_time(g)
        return any(f["kind"] == kind and f["at_s"] <= t < f["at_s"] + f["duration_s"] for f in self.faults)


def garble(unit: bytes, rng: random.Random) -> bytes:
    """Flip about 2 % of the bytes of each picture slice (NAL types 1 and 5) past its first 32
    (NAL and slice headers); SPS, PPS and SEI stay intact, as when packets of the picture data
    are damaged on the way."""
    starts, m = [], unit.find(b"\x00\x00\x01")
    while m != -1:
        starts.append(m)
        m = unit.find(b"\x00\x00\x01", m + 3)
    body = bytearray(unit)
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(unit)
        nal = start + 3
        if body[nal] & 0x1F not in (1, 5) or end - nal < 64:
            continue
        for _ in range(max(1, (end - nal) // 50)):
            pos = rng.randrange(nal + 32, end)
            body[pos] ^= 1 << rng.randrange(8)
    # Never forge a start code inside the picture's slice (x264 writes one, last in the access
    # unit): it would split it into bogus NAL units.
    out = bytes(body)
    head = starts[-1] + 4 if starts else 0
    return out[:head] + out[head:].replace(b"\x00\x00\x01", b"\x00\x01\x01")


class Feeder(threading.Thread):
    """Pushes one camera's clip into one media's appsrc at wall-clock pace until the media stops."""

    def __init__(self, camera_id: str, clip: Clip, epoch: float, appsrc: Gst.Element) -> None:
        super().__init__(name=f"feed-{camera_id}", daemon=True)
        self.camera_id, self.clip, self.epoch, self.appsrc = camera_id, clip, epoch, appsrc
        self.stop = threading.Event()
        # Set by appsrc's first need-data, once its streaming thread runs. A buffer pushed before
        # that (media-configure comes before the pipeline starts) is refused as FLUSHING, and
        # the feeder used to take that for a stopped media and quit: the client's DESCRIBE or
        # first frames then waited for nothing until its 5 s timeout, and a retry got a 5XX
        # from the half-prepared shared media (3 of 12 fresh starts in a probe).
        self.started = threading.Event()
        self.rng = random.Random(camera_id)

    def wall(self, g: int) -> float:
        return self.epoch + g / self.clip.fps - self.clip.phase_s

    def run(self) -> None:
        while not self.started.wait(0.02):
            if self.stop.is_set():
                return
        clip = self.clip
        now = int((time.time() - self.epoch + clip.phase_s) * clip.fps)
        # A new client gets the current GOP at once, from its IDR up to the present picture (as
        # servers with a GOP cache do): it decodes the camera's present picture at once, and the
        # server's DESCRIBE does not wait up to a GOP for the next IDR.
        g = now
        while g % len(clip.units) not in clip.keyframes:
            g -= 1
        if any(clip.fault_at(k, "drop") for k in range(g, now + 1)):
            g = now + 1  # the camera came back within this GOP: its stream starts at the next IDR
            while g % len(clip.units) not in clip.keyframes:
                g += 1
        while not self.stop.is_set():
            # Wait for frame g's time first, also when the drop starts at g: ending the stream
            # right after frame g − 1 dropped the camera a frame early (the test saw it "down" at
            # clip time 1.93 s for a drop at 2 s).
            delay = self.wall(g) - time.time()
            if delay > 0 and self.stop.wait(delay):
                return
            if clip.fault_at(g, "drop"):
                self.appsrc.emit("end-of-stream")
                return
            unit = clip.units[g % len(clip.units)]
            if clip.fault_at(g, "corrupt"):
                unit = garble(unit, self.rng)
            buf = Gst.Buffer.new_wrapped(unit)
            buf.duration = int(Gst.SECOND / clip.fps)
            if self.appsrc.emit("push-buffer", buf) != Gst.FlowReturn.OK:
                return  # the media was stopped (flushing) or ended
            g += 1


class Camera:
    def __init__(self, server: "Server", camera_id: str, clip: Clip) -> None:
        self.server, self.camera_id, self.clip = server, camera_id, clip
        self.path = f"/{camera_id}"
        self.mounted = False
        self.feeders: list[Feeder] = []

    def factory(self) -> GstRtspServer.RTSPMediaFactory:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(LAUNCH)
        factory.set_shared(True)
        factory.connect("media-configure", self.on_media)
        return factory

    def on_media(self, _factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia) -> None:
        appsrc = media.get_element().get_child_by_name("src")
        feeder = Feeder(self.camera_id, self.clip, self.server.epoch, appsrc)
        self.feeders.append(feeder)
        media.connect("unprepared", lambda _m: feeder.stop.set())
        appsrc.connect("need-data", lambda _src, _length: feeder.started.set())
        feeder.start()

    def mount(self, on: bool) -> None:
        """Mount or unmount (a dropped camera refuses connections); in the GLib main loop."""
        if on == self.mounted:
            return
        mounts = self.server.rtsp.get_mount_points()
        if on:
            mounts.add_factory(self.path, self.factory())
        else:
            mounts.remove_factory(self.path)
            for feeder in self.feeders:
                feeder.stop.set()
            self.feeders.clear()
            # Close the connections of this camera's clients, as a camera that loses power
            # does: a client sees its socket close at once, not a stream that just goes quiet.
            self.server.rtsp.client_filter(self.drop_client)
        self.mounted = on

    def drop_client(self, _server: GstRtspServer.RTSPServer, client: GstRtspServer.RTSPClient):
        for session in client.session_filter(None):
            for media in session.filter(None):
                if media.matches(self.path)[0]:
                    return GstRtspServer.RTSPFilterResult.REMOVE
        return GstRtspServer.RTSPFilterResult.KEEP

    def check(self) -> None:
        g = int((time.time() - self.server.epoch + self.clip.phase_s) * self.clip.fps)
        self.mount(not self.clip.fault_at(g, "drop"))


class Server:
    def __init__(self, config: dict) -> None:
        Gst.init(None)
        self.epoch = float(config["epoch"])
        self.rtsp = GstRtspServer.RTSPServer()
        self.rtsp.set_address(config.get("host", "127.0.0.1"))
        self.rtsp.set_service(str(config.get("port", 8555)))
        self.cameras = [Camera(self, cid, Clip(cam)) for cid, cam in config["cameras"].items()]
        for camera in self.cameras:
            camera.check()
        # A client thread per connection: one client waiting for its media never holds up the rest.
        self.rtsp.get_thread_pool().set_max_threads(len(self.cameras) * 2 + 8)
        # A taken port shows as no source or a bound port of -1: say so and exit, never "READY -1".
        if self.rtsp.attach(None) == 0 or self.rtsp.get_bound_port() < 0:
            raise OSError(f"cannot listen on {config.get('host', '127.0.0.1')}:{config.get('port', 8555)}")
        # Session timeouts: a client that vanished without TEARDOWN is cleaned up.
        GLib.timeout_add_seconds(2, self.housekeeping)
        GLib.timeout_add(100, self.faults)

    def housekeeping(self) -> bool:
        self.rtsp.get_session_pool().cleanup()
        return True

    def faults(self) -> bool:
        for camera in self.cameras:
            if camera.clip.faults:
                camera.check()
        return True


def main() -> int:
    with open(sys.argv[1]) as f:
        config = json.load(f)
    try:
        server = Server(config)
    except OSError as exc:
        print(f"rtsp_server: {exc}", file=sys.stderr, flush=True)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    port = server.rtsp.get_bound_port()
    if config.get("ready_file"):
        with open(config["ready_file"], "w") as f:
            f.write(str(port))
    print(f"READY {port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
