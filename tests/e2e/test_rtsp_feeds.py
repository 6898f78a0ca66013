"""Issue 20, end to end on real-plate H.264: GStreamer's RTSP server (installed by scripts/setup)
serves three cameras' pre-encoded clips (held-out real plates on real backgrounds), `anpr workers`
reads them over RTSP with PyAV, and the reads in its journal are compared with the server's ground
truth: passes found, plates read exactly, no duplicates, reads soon after the vehicle left.

Select with `-m e2e`; about a minute (the three clips are rendered once and cached in var/sim/clips).
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from anpr.bench.workers import evaluate, journal_reads
from anpr.launcher import Process, anpr_command
from anpr.simulator.real_clips import build_clips
from anpr.simulator.rtsp import SYSTEM_PYTHON, RtspSimulator, free_port
from anpr.simulator.truth import TruePass

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(SYSTEM_PYTHON).is_file(), reason="Debian python3 (scripts/setup)"),
]

CAMERAS = ["C01", "C02", "C03"]
WINDOW_S = 36  # passes wholly inside this window are judged: about 15 on three cameras


def _passes(rows: list[dict[str, Any]]) -> list[TruePass]:
    return [TruePass(r["pass_id"], r["camera_id"], r["plate"], datetime.fromisoformat(r["enter"]),
                     datetime.fromisoformat(r["leave"])) for r in rows]  # fmt: skip


def _health(port: int) -> dict[str, Any]:
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5))


@pytest.mark.timeout(300)
def test_workers_read_real_plates_from_three_rtsp_cameras(tmp_path: Path) -> None:
    # The benchmark's clip settings (1280x720, 12 fps, 30 s loops), so both share the cache.
    manifest = build_clips(CAMERAS, resolution=(1280, 720), fps=12.0, duration_s=30.0, jobs=2, log=print)
    health_port = free_port()
    with RtspSimulator(manifest, log_dir=tmp_path) as sim:
        stream = f"rtsp://127.0.0.1:{sim.port}/{{id}}"
        argv = anpr_command("workers", "--cameras", ",".join(CAMERAS), "--no-es", "--health-port",
                            str(health_port), "--stream-template", stream)  # fmt: skip
        env = {**os.environ, "ANPR_PATHS__VAR_DIR": str(tmp_path / "var")}
        workers = Process("workers", argv, env=env, log_dir=tmp_path).start()
        try:
            workers.wait_ready(lambda: _health(health_port)["up"] == len(CAMERAS), 90, "three cameras up")
            start = datetime.now(UTC)
            journal = tmp_path / "var" / "journal"
            reads: dict[str, tuple[dict, float]] = {}  # read id → (read, when it was durable)
            while (datetime.now(UTC) - start).total_seconds() < WINDOW_S + 4:
                time.sleep(0.1)  # the last 4 s: the last passes' tracks end, are voted, made durable
                if journal.exists():
                    journal_reads(journal, reads)
            end = start + timedelta(seconds=WINDOW_S)
            health = _health(health_port)
        finally:
            workers.stop(grace_s=10)
        rows = sim.truth(start, end)
        # Passes that straddle the window's edges are not judged, but their reads are no junk.
        margin = timedelta(seconds=15)
        around = _passes(sim.truth(start - margin, end + margin))
    truth = _passes(rows)
    in_window = {
        k: v for k, v in reads.items()
        if start - timedelta(seconds=1) <= datetime.fromisoformat(v[0]["first_seen"])
        and datetime.fromisoformat(v[0]["last_seen"]) <= end + timedelta(seconds=1)
    }  # fmt: skip
    result = evaluate(truth, in_window)
    junk = evaluate(around, in_window)["unmatched_reads"]  # reads of no vehicle at all
    print(json.dumps({k: result[k] for k in ("passes", "recall", "exact_plate", "duplicates",
                                             "latency_after_leave_s")} | {"junk_reads": junk}))  # fmt: skip
    print(json.dumps(health["stage_cpu_s"]))
    assert len(truth) >= 8
    # Every camera decoded its 12 fps throughout. One error is tolerated: CI's two shared cores
    # can starve a reader past its 5 s timeout (first connections no longer stall by themselves:
    # tests/simulator/test_rtsp_feeder.py).
    cams = {c["camera_id"]: (c["state"], c["decoded_frames"], c["errors"]) for c in health["cameras"]}
    assert all(st == "up" and n > WINDOW_S * 12 * 0.8 and err <= 1 for st, n, err in cams.values()), cams
    # Loose bounds: CI's two shared cores starve the detector at times (the benchmark measures
    # the real figures); a broken stream, clock or tracker falls far below them.
    assert result["recall"] >= 0.6, result["missed"]
    assert result["exact_plate"] > 0  # real plates never trained on: some are read exactly
    # Junk (reads of no vehicle): C03's plate-like patch is read once before it counts as parked
    # (lpr/workers/parked.py), and one or two more are allowed for CI's starved detector.
    assert result["duplicates"] <= len(truth) // 3 and junk <= 3
    assert result["latency_after_leave_s"]["p50"] <= 3.0
    assert {"gate", "convert", "detect", "read"} <= set(health["stage_cpu_s"])
