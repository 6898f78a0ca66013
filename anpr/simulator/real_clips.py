"""Real-plate camera clips: rendered once, encoded once with x264, cached, served in a loop.

`build_clips(...)` renders each camera's clip (held-out real plate crops on cars driving through
a real background photo, anpr/simulator/compositor.py), encodes it with libx264 through PyAV
(fixed GOP, no B-frames, VBV-capped bitrate, SPS/PPS before every IDR), and writes it as a raw
Annex-B `.h264` file with a frame index and its ground truth in clip time. Files are cached under
`var/sim/clips/<key>/` (key: a hash of every parameter that changes the pixels), so a second
build with the same parameters only reads the manifest.

Manifest (`Manifest.to_json()`, written to `<dir>/manifest-<hash>.json`)::

    {"key": "...", "dir": "/abs/var/sim/clips/<key>", "resolution": [1280, 720], "fps": 12.0,
     "gop_frames": 24, "bitrate_kbps": 3000, "duration_s": 90.0, "frames": 1080,
     "plate_split": "anpr_core.splits validation side ...",
     "cameras": {"C01": {"clip": "/abs/.../C01-<f>.h264", "index": "/abs/.../C01-<f>.index.json",
                         "clip_truth": "/abs/.../C01-<f>.truth.jsonl", "look": "day|night|rain",
                         "phase_s": 41.5, "passes": 14, "faults": [{"kind", "at_s", "duration_s"}]}}}

`index`: {"offsets": [byte offset of each frame's access unit, then the file size],
"keyframes": [frame numbers of the IDRs], "sizes": [[w, h] per frame]}.

A camera's clip position at wall time t is `((t - epoch) + phase_s) mod duration_s`, where the
epoch is the RTSP server's (anpr/simulator/rtsp.py); `truth_rows` turns clip-time passes into the JSONL
rows of anpr/simulator/truth.py for any wall-clock window, one row per pass per loop.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from anpr.simulator.camera_faults import Fault, check_faults
from anpr.simulator.compositor import (
    LOOKS,
    CameraView,
    Motion,
    Vehicle,
    background_bank,
    draw_vehicle,
    make_vehicle,
)
from anpr.simulator.real_sources import (
    SPLIT_DOC,
    SPLIT_NAME,
    Background,
    HeldOutPlate,
    backgrounds,
    held_out_plates,
    load_background,
)
from anpr_core.settings import load_settings

RENDER_VERSION = 2  # bump when the drawing changes: it is part of the cache key
LOOK_WEIGHTS = {"day": 0.5, "night": 0.3, "rain": 0.2}
# ANPR cameras are set to an exposure of at most 1 / (11 × the road's top speed in km/h) seconds
# (Milestone XProtect LPR's guideline; dedicated cameras aim at 1/1000 s, and IR-lit ones keep it
# short at night too). Each camera's exposure is that for a road of 30-90 km/h: 1/990-1/330 s.
# Until render version 2 the exposure was a share of the frame interval (day 8 ms, rain 12.5 ms,
# night 25 ms at 12 fps: a general CCTV camera's, which smeared 140-px plates by 6-17 px).
SHUTTER_ROAD_KMH = (30.0, 90.0)
GLARE_SHARE = {"day": 0.25, "night": 0.35, "rain": 0.1}
CAR_COLOURS = (
    (235, 235, 235),
    (20, 20, 22),
    (175, 178, 180),
    (110, 110, 112),
    (90, 40, 20),
    (30, 30, 150),
    (40, 90, 40),
    (200, 200, 195),
)
LEAD_S, TAIL_S = 1.2, 0.8  # the car is drawn this long before the plate is wholly in view / after
CROSSING_S = (1.6, 3.0)  # plate wholly in view
PLATE_WIDTH_1080 = ((60, 80), (200, 250))  # px at the top / bottom of a 1080-line frame


def parse_resolution(text: str) -> tuple[int, int]:
    """`1280x720` → (1280, 720): the simulator's and the feed benchmarks' `--size`/`--resolution`."""
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def default_bitrate_kbps(resolution: tuple[int, int]) -> int:
    """3 Mbit/s at 1280×720, 5 Mbit/s at 1920×1080 (what city ANPR cameras are set to); scaled
    by the pixel count's square root elsewhere."""
    pixels = resolution[0] * resolution[1]
    if pixels >= 1920 * 1080:
        return 5000
    if pixels >= 1280 * 720:
        return 3000
    return max(500, int(3000 * math.sqrt(pixels / (1280 * 720))))


@dataclass(frozen=True)
class ClipParams:
    resolution: tuple[int, int] = (1280, 720)
    fps: float = 12.0
    duration_s: float = 90.0
    gop_s: float = 2.0
    bitrate_kbps: int = 0  # 0: default_bitrate_kbps(resolution)
    seed: int = 1
    look: str | None = None  # None: each camera draws day / night / rain
    gap_s: tuple[float, float] = (1.0, 4.0)  # empty road between two cars
    preset: str = "veryfast"

    @property
    def gop_frames(self) -> int:
        return max(1, round(self.gop_s * self.fps))

    @property
    def frames(self) -> int:
        """A whole number of GOPs, so the loop point is an IDR."""
        gop = self.gop_frames
        return max(gop, round(self.duration_s * self.fps / gop) * gop)

    @property
    def kbps(self) -> int:
        return self.bitrate_kbps or default_bitrate_kbps(self.resolution)

    def key(self) -> str:
        blob = json.dumps(
            [
                RENDER_VERSION,
                self.resolution,
                self.fps,
                self.frames,
                self.gop_frames,
                self.kbps,
                self.seed,
                self.look,
                self.gap_s,
                self.preset,
            ]
        )
        w, h = self.resolution
        return f"{w}x{h}-{self.fps:g}fps-{hashlib.sha1(blob.encode()).hexdigest()[:10]}"


@dataclass
class CameraClip:
    clip: Path
    index: Path
    clip_truth: Path
    look: str
    phase_s: float
    passes: int
    faults: list[Fault] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "clip": str(self.clip),
            "index": str(self.index),
            "clip_truth": str(self.clip_truth),
            "look": self.look,
            "phase_s": self.phase_s,
            "passes": self.passes,
            "faults": [f.as_dict() for f in self.faults],
        }

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> CameraClip:
        return cls(
            Path(row["clip"]),
            Path(row["index"]),
            Path(row["clip_truth"]),
            row["look"],
            float(row["phase_s"]),
            int(row["passes"]),
            [Fault.from_dict(f) for f in row["faults"]],
        )

    def clip_passes(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.clip_truth.read_text(encoding="utf-8").splitlines() if line]


@dataclass
class Manifest:
    key: str
    dir: Path
    resolution: tuple[int, int]
    fps: float
    gop_frames: int
    bitrate_kbps: int
    duration_s: float
    frames: int
    cameras: dict[str, CameraClip]
    path: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "dir": str(self.dir),
            "resolution": list(self.resolution),
            "fps": self.fps,
            "gop_frames": self.gop_frames,
            "bitrate_kbps": self.bitrate_kbps,
            "duration_s": self.duration_s,
            "frames": self.frames,
            "plate_split": SPLIT_DOC,
            "cameras": {c: clip.to_json() for c, clip in self.cameras.items()},
        }

    def file_url(self, camera_id: str, loop: bool = True) -> str:
        """The `--realtime` file source of lpr/workers/feeds.py for this camera's clip."""
        return f"file://{self.cameras[camera_id].clip}?realtime=1&fps={self.fps:g}&loop={int(loop)}"


def load_manifest(path: Path) -> Manifest:
    row = json.loads(path.read_text(encoding="utf-8"))
    cameras = {c: CameraClip.from_json(v) for c, v in row["cameras"].items()}
    return Manifest(
        row["key"],
        Path(row["dir"]),
        tuple(row["resolution"]),
        float(row["fps"]),  # type: ignore[arg-type]
        int(row["gop_frames"]),
        int(row["bitrate_kbps"]),
        float(row["duration_s"]),
        int(row["frames"]),
        cameras,
        path,
    )


def camera_ids(cameras: int | Sequence[str]) -> list[str]:
    return [f"C{i:02d}" for i in range(1, cameras + 1)] if isinstance(cameras, int) else list(cameras)


def build_clips(
    cameras: int | Sequence[str] = 45,
    *,
    resolution: tuple[int, int] = (1280, 720),
    fps: float = 12.0,
    duration_s: float = 90.0,
    gop_s: float = 2.0,
    bitrate_kbps: int = 0,
    seed: int = 1,
    look: str | None = None,
    faults: Mapping[str, Sequence[Fault]] | None = None,
    root: Path | None = None,
    jobs: int = 1,
    log: Callable[[str], None] = print,
) -> Manifest:
    """Render and encode every camera's clip that is not cached yet; returns the manifest."""
    if look is not None and look not in LOOKS:
        raise ValueError(f"look must be one of {LOOKS}")
    params = ClipParams(resolution, fps, duration_s, gop_s, bitrate_kbps, seed, look)
    ids = camera_ids(cameras)
    faults = {c: list(faults.get(c, ())) for c in ids} if faults else {c: [] for c in ids}
    for fs in faults.values():
        check_faults(fs, params.frames / fps)
    out = (root or load_settings().paths.var_dir / "sim" / "clips") / params.key()
    out.mkdir(parents=True, exist_ok=True)
    order = plate_order(seed)
    todo = [(params, c, n, faults[c], out, order) for n, c in enumerate(ids)]
    missing = [t for t in todo if not _paths(out, t[1], t[3])[2].is_file()]
    if missing:
        log(f"rendering {len(missing)} clip(s) at {resolution[0]}x{resolution[1]} {fps:g} fps → {out}")
    if jobs > 1 and len(missing) > 1:
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_build_one_star, missing))
    else:
        for t in missing:
            _build_one(*t)
    clips = {t[1]: _camera_clip(*t) for t in todo}
    manifest = Manifest(
        params.key(),
        out.resolve(),
        resolution,
        fps,
        params.gop_frames,
        params.kbps,
        params.frames / fps,
        params.frames,
        clips,
    )
    tag = hashlib.sha1(json.dumps([ids, {c: [f.as_dict() for f in fs] for c, fs in faults.items()}]).encode())
    manifest.path = out / f"manifest-{tag.hexdigest()[:10]}.json"
    manifest.path.write_text(json.dumps(manifest.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


def plate_order(seed: int) -> list[int]:
    order = list(range(len(_plates())))
    random.Random(f"plates:{seed}").shuffle(order)
    return order


@lru_cache(maxsize=1)
def _plates() -> list[HeldOutPlate]:
    return held_out_plates()


@lru_cache(maxsize=1)
def _backgrounds() -> list[Background]:
    return backgrounds()


def _fault_tag(faults: Sequence[Fault]) -> str:
    if not faults:
        return "ok"
    return hashlib.sha1(json.dumps([f.as_dict() for f in faults]).encode()).hexdigest()[:8]


def _paths(out: Path, camera_id: str, faults: Sequence[Fault]) -> tuple[Path, Path, Path]:
    stem = f"{camera_id}-{_fault_tag(faults)}"
    return out / f"{stem}.h264", out / f"{stem}.index.json", out / f"{stem}.truth.jsonl"


def _camera_rng(params: ClipParams, camera_id: str) -> random.Random:
    return random.Random(f"{camera_id}:{params.seed}:real")


def shutter_s(params: ClipParams, camera_id: str) -> float:
    """The camera's exposure, from its own random stream, so that drawing it leaves the rest of
    the clip (scene, plates, paths) as it was."""
    road_kmh = random.Random(f"shutter:{camera_id}:{params.seed}").uniform(*SHUTTER_ROAD_KMH)
    return 1.0 / (11.0 * road_kmh)


def _camera_look(params: ClipParams, rng: random.Random) -> str:
    if params.look is not None:
        return params.look
    return rng.choices(list(LOOK_WEIGHTS), weights=list(LOOK_WEIGHTS.values()))[0]


def _camera_clip(
    params: ClipParams, camera_id: str, n: int, faults: list[Fault], out: Path, order: list[int]
) -> CameraClip:
    rng = _camera_rng(params, camera_id)
    look = _camera_look(params, rng)
    phase = random.Random(f"phase:{camera_id}:{params.seed}").randrange(params.frames) / params.fps
    clip, index, truth = _paths(out, camera_id, faults)
    passes = sum(1 for line in truth.read_text(encoding="utf-8").splitlines() if line)
    return CameraClip(clip.resolve(), index.resolve(), truth.resolve(), look, phase, passes, list(faults))


def _build_one_star(t: tuple[Any, ...]) -> None:
    _build_one(*t)


@dataclass
class _Pass:
    number: int
    plate: HeldOutPlate
    vehicle: Vehicle
    first: int | None = None  # first / last frame with the plate wholly in view
    last: int | None = None
    widths: list[float] = field(default_factory=list)
    mid: tuple[int, list[int]] | None = None


def _schedule(
    params: ClipParams,
    rng: random.Random,
    view: CameraView,
    look: str,
    faults: Sequence[Fault],
    crops: list[HeldOutPlate],
) -> list[_Pass]:
    w, h = params.resolution
    scale = h / 1080
    length = params.frames / params.fps
    blocked = [b for f in faults if (b := f.blocked()) is not None]
    approaching = rng.random() < 0.6  # a front camera, else a rear one
    passes: list[_Pass] = []
    t = rng.uniform(0.3, 2.0) + LEAD_S
    while True:
        crossing = rng.uniform(*CROSSING_S)
        drawn = (t - LEAD_S, t + crossing + TAIL_S)
        clash = [b for b in blocked if drawn[0] < b[1] and b[0] < drawn[1]]
        if clash:
            t = max(b[1] for b in clash) + LEAD_S + 0.1
            continue
        if drawn[1] > length - 0.2:
            break
        crop = crops[len(passes) % len(crops)]
        aspect = crop.image.shape[0] / crop.image.shape[1]
        w0, w1 = (rng.uniform(*PLATE_WIDTH_1080[0]) * scale, rng.uniform(*PLATE_WIDTH_1080[1]) * scale)
        x1 = rng.uniform(0.35, 0.65) * w
        x0 = w / 2 + (x1 - w / 2) * 0.45 + rng.uniform(-0.04, 0.04) * w
        y0 = w0 * aspect / 2 + 4  # plate's top edge just inside the frame's
        y1 = h - w1 * aspect / 2 - 4
        motion = Motion(t, t + crossing, w0, w1, x0, x1, y0, y1, approaching)
        glare = rng.random() < GLARE_SHARE[look]
        vehicle = make_vehicle(crop.image, rng.choice(CAR_COLOURS), look, glare, motion)
        passes.append(_Pass(len(passes) + 1, crop, vehicle))
        t = t + crossing + TAIL_S + rng.uniform(*params.gap_s) + LEAD_S
    return passes


def _build_one(
    params: ClipParams, camera_id: str, n: int, faults: list[Fault], out: Path, order: list[int]
) -> None:
    rng = _camera_rng(params, camera_id)
    look = _camera_look(params, rng)
    w, h = params.resolution
    view = CameraView((w, h), look, rng.uniform(-20, 20), rng.uniform(8, 22), shutter_s(params, camera_id))
    plates, bgs = _plates(), _backgrounds()
    bank = background_bank(load_background(rng.choice(bgs), (w, h), rng), look, rng)
    # Camera n takes every n-th crop of the shuffled held-out list, so cameras differ.
    stride = max(1, len(order) // 7)
    crops = [plates[order[(n + k * stride) % len(order)]] for k in range(len(order))]
    passes = _schedule(params, rng, view, look, faults, crops)
    clip, index, truth = _paths(out, camera_id, faults)
    encoder = _Encoder(clip.with_suffix(".part"), params)
    frozen: np.ndarray | None = None
    for k in range(params.frames):
        t = k / params.fps
        freeze = next((f for f in faults if f.kind == "freeze" and f.at_s <= t < f.end_s), None)
        if freeze is not None and frozen is not None:
            frame = frozen
        else:
            frame = bank[k % len(bank)].copy()
            for p in passes:
                m = p.vehicle.motion
                if m.enter_s - LEAD_S <= t <= m.leave_s + TAIL_S:
                    draw_vehicle(frame, view, p.vehicle, t)
                    _note_truth(p, k, t, (w, h))
            frozen = frame if freeze is not None else None
        resize = next((f for f in faults if f.kind == "resize" and f.at_s <= t < f.end_s), None)
        size = resize.size if resize is not None and resize.size else (w, h)
        encoder.add(frame if size == (w, h) else cv2.resize(frame, size, interpolation=cv2.INTER_AREA), size)
    encoder.close(index)
    rows = []
    for p in passes:
        if p.first is None or p.last is None or p.mid is None:
            continue
        rows.append(
            {
                "pass_id": f"{camera_id}-{p.number:05d}",
                "camera_id": camera_id,
                "plate": p.plate.text,
                "enter_s": round(p.first / params.fps, 4),
                "leave_s": round(p.last / params.fps, 4),
                "crop": p.plate.file,
                "split": SPLIT_NAME,
                "look": look,
                "shutter_s": round(view.shutter_s, 5),
                "glare": p.vehicle.glare,
                "approaching": p.vehicle.motion.approaching,
                "plate_px": [round(min(p.widths)), round(max(p.widths))],
                "mid_frame": p.mid[0],
                "mid_box": p.mid[1],
            }
        )
    truth.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    clip.with_suffix(".part").rename(clip)  # last: a clip without its truth is never taken as built


def _note_truth(p: _Pass, k: int, t: float, size: tuple[int, int]) -> None:
    """Record the frames in which the plate is wholly inside the picture."""
    state = p.vehicle.motion.at(t)
    if state is None:
        return
    cx, cy, pw = state
    ph = pw * p.plate.image.shape[0] / p.plate.image.shape[1]
    x1, y1, x2, y2 = cx - pw / 2, cy - ph / 2, cx + pw / 2, cy + ph / 2
    if x1 < 0 or y1 < 0 or x2 > size[0] or y2 > size[1]:
        return
    if p.first is None:
        p.first = k
    p.last = k
    p.widths.append(pw)
    m = p.vehicle.motion
    if p.mid is None and t >= (m.enter_s + m.leave_s) / 2:
        p.mid = (k, [round(x1), round(y1), round(x2), round(y2)])


class _Encoder:
    """libx264 into a raw Annex-B file; a new encoder (starting with an IDR and its own SPS/PPS)
    whenever the frame size changes."""

    def __init__(self, path: Path, params: ClipParams) -> None:
        self.path, self.params = path, params
        self.file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.offsets: list[int] = []
        self.keyframes: list[int] = []
        self.sizes: list[list[int]] = []
        self.codec: av.VideoCodecContext | None = None
        self.size: tuple[int, int] | None = None
        self.pts = 0

    def _open(self, size: tuple[int, int]) -> av.VideoCodecContext:
        p = self.params
        kbps, gop = p.kbps if size == p.resolution else default_bitrate_kbps(size), p.gop_frames
        codec = av.CodecContext.create("libx264", "w")
        codec.width, codec.height = size
        codec.pix_fmt = "yuv420p"
        rate = Fraction(p.fps).limit_denominator(1001)
        codec.time_base = 1 / rate
        codec.framerate = rate
        codec.bit_rate = kbps * 1000
        codec.gop_size = gop
        codec.max_b_frames = 0
        codec.thread_count = 1  # one clip per process: clips build in parallel instead
        codec.options = {
            "preset": p.preset,
            "profile": "main",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:vbv-maxrate={kbps}"
            f":vbv-bufsize={kbps * 2}:nal-hrd=vbr:repeat-headers=1",
        }
        codec.open()
        return codec

    def add(self, bgr: np.ndarray, size: tuple[int, int]) -> None:
        if size != self.size:
            self._flush()
            self.codec, self.size = self._open(size), size
        assert self.codec is not None
        frame = av.VideoFrame.from_ndarray(bgr, format="bgr24").reformat(format="yuv420p")
        frame.pts = self.pts
        self.pts += 1
        self._write(self.codec.encode(frame))

    def _write(self, packets: Sequence[av.Packet]) -> None:
        for packet in packets:
            if packet.is_keyframe:
                self.keyframes.append(len(self.offsets))
            self.offsets.append(self.file.tell())
            assert self.size is not None
            self.sizes.append(list(self.size))
            self.file.write(bytes(packet))

    def _flush(self) -> None:
        if self.codec is not None:
            self._write(self.codec.encode(None))
            self.codec = None

    def close(self, index: Path) -> None:
        self._flush()
        self.offsets.append(self.file.tell())
        self.file.close()
        frames = len(self.offsets) - 1
        if frames != self.params.frames:
            raise RuntimeError(f"encoded {frames} frames, expected {self.params.frames}")
        index.write_text(
            json.dumps({"offsets": self.offsets, "keyframes": self.keyframes, "sizes": self.sizes})
        )


def truth_rows(
    manifest: Manifest,
    epoch: datetime | Mapping[str, datetime],
    start: datetime,
    end: datetime,
    *,
    phase: bool = True,
    cameras: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Ground truth in wall-clock time: every pass, loop after loop, wholly inside [start, end].

    `epoch`: the RTSP server's (one for all cameras), or per camera the time its first frame was
    read (a file source: then `phase=False`, the file starts at clip time 0)."""
    rows = []
    length = manifest.duration_s
    for camera_id in cameras or list(manifest.cameras):
        cam = manifest.cameras[camera_id]
        base = epoch[camera_id] if isinstance(epoch, Mapping) else epoch
        loop0 = base - timedelta(seconds=cam.phase_s if phase else 0.0)  # wall time of clip time 0
        first = math.floor((start - loop0).total_seconds() / length) - 1
        last = math.floor((end - loop0).total_seconds() / length)
        passes = cam.clip_passes()
        for loop in range(max(0, first), last + 1):
            at = loop0 + timedelta(seconds=loop * length)
            for p in passes:
                enter, leave = at + timedelta(seconds=p["enter_s"]), at + timedelta(seconds=p["leave_s"])
                if enter < start or leave > end:
                    continue
                row = {k: v for k, v in p.items() if k not in ("enter_s", "leave_s", "mid_frame", "mid_box")}
                row.update(
                    pass_id=f"{p['pass_id']}-L{loop:04d}",
                    enter=enter.isoformat(),
                    leave=leave.isoformat(),
                    loop=loop,
                )
                rows.append(row)
    rows.sort(key=lambda r: r["leave"])
    return rows


def write_truth(path: Path, rows: Sequence[dict[str, Any]], append: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a" if append else "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
