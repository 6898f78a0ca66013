"""The bare decode floor: the same RTSP streams decoded by the workers' own PyAV path
(lpr/workers/decode.py: same options, `vision.decode_skip_loop_filter` included, one decoder
thread per camera), and nothing else — no
motion gate, no conversion, no detector. Run by anpr/bench/feeds.py as its own process, whose
process's CPU time (every thread) over --seconds after a --warmup (connections, first GOPs),
printed as one JSON line.

    python -m anpr.bench.feeds_decode --warmup 8 --seconds 30 rtsp://127.0.0.1:18555/C01 ...
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time

from anpr_core.settings import load_settings
from lpr.workers.decode import DECODER_THREADS, DecodeError, decoded_frames
from lpr.workers.health import CameraHealth


def decode_forever(url: str, health: CameraHealth, stop: threading.Event, skip_loop_filter: str) -> None:
    while not stop.is_set():
        try:
            for _ in decoded_frames(url, 5000, health, DECODER_THREADS, skip_loop_filter):
                if stop.is_set():
                    return
        except DecodeError as exc:
            health.errors += 1
            health.last_error = str(exc)
            stop.wait(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warmup", type=float, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    healths = [CameraHealth(url.rsplit("/", 1)[-1]) for url in args.urls]
    skip = load_settings().vision.decode_skip_loop_filter  # the workers' decode options
    threads = [
        threading.Thread(target=decode_forever, args=(url, h, stop, skip), daemon=True)
        for url, h in zip(args.urls, healths, strict=True)
    ]
    for thread in threads:
        thread.start()
    stop.wait(args.warmup)
    frames0, cpu0, wall0 = sum(h.decoded_frames for h in healths), time.process_time(), time.monotonic()
    stop.wait(args.seconds)
    frames, cpu, wall = (
        sum(h.decoded_frames for h in healths) - frames0,
        time.process_time() - cpu0,
        time.monotonic() - wall0,
    )
    stop.set()
    for thread in threads:
        thread.join(timeout=6)
    print(json.dumps({
        "streams": len(args.urls),
        "wall_s": round(wall, 2),
        "decoded_frames": frames,
        "decoded_fps": round(frames / wall, 1),
        "process_cpu_s": round(cpu, 2),
        "cores": round(cpu / wall, 3),
        "errors": sum(h.errors for h in healths),
        "streams_decoding": sum(h.decoded_frames > 0 for h in healths),
    }), flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
