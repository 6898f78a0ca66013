"""Benchmark the camera workers against the 45-camera simulator, on this machine, 127.0.0.1 only.

    nice scripts/bench/workers --cameras 45 --fps 8 --seconds 300 --out var/bench/workers.json

Starts `anpr simulate` and `anpr workers` as two launcher processes with a temporary var dir
and registry, watches the journal for new reads (arrival time = when the read became durable),
then matches reads to the simulator's ground truth: pass recall, exact plate, duplicates,
latency after the vehicle left (p50/p95), CPU of each process, frames received/processed/dropped
(from the worker's /health).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from anpr.bench import machine, write_report
from anpr.launcher import Process, anpr_command, pid_cpu_seconds
from anpr.simulator.truth import TruePass, load_truth, match
from anpr_core.plates import InvalidPlate, parse_plate
from anpr_core.settings import PROJECT_ROOT as ROOT


def journal_reads(directory: Path, seen: dict[str, tuple[dict, float]]) -> None:
    now = time.time()
    for seg in sorted(directory.glob("seg-*.jsonl")):
        for line in seg.read_text(encoding="utf-8").splitlines():
            record = json.loads(line.split(" ", 1)[1])
            seen.setdefault(record["read_id"], (record, now))


def plate_format(text: str) -> str:
    try:
        return parse_plate(text).format.value
    except InvalidPlate:
        return "invalid"


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def evaluate(truth: list[TruePass], reads: dict[str, tuple[dict, float]]) -> dict:
    reads_of = match(truth, [record for record, _ in reads.values()]).reads_of
    matched_reads: set[str] = set()
    found = exact = duplicates = 0
    latencies = []
    wrong, missed, duplicated, timing = [], [], [], []
    by_format: dict[str, list[int]] = {}
    for t in truth:
        hits = reads_of[t.pass_id]
        counts = by_format.setdefault(plate_format(t.plate), [0, 0])
        counts[0] += 1
        if not hits:
            missed.append({"pass_id": t.pass_id, "plate": t.plate})
            continue
        found += 1
        duplicates += len(hits) - 1
        matched_reads.update(r["read_id"] for r in hits)
        best = max(hits, key=lambda r: r["confidence"])
        exact += best["plate"] == t.plate
        counts[1] += best["plate"] == t.plate
        latency = min(reads[r["read_id"]][1] for r in hits) - t.leave.timestamp()
        latencies.append(latency)
        first = min(hits, key=lambda r: reads[r["read_id"]][1])
        last_seen = datetime.fromisoformat(first["last_seen"]).timestamp()
        # Where the time after the vehicle left went: its last sighting vs leaving, then from
        # the last sighting to the read being durable (track end, vote, crop + journal fsync).
        timing.append(
            {
                "pass_id": t.pass_id,
                "latency_s": round(latency, 3),
                "last_seen_after_leave_s": round(last_seen - t.leave.timestamp(), 3),
                "durable_after_last_seen_s": round(reads[first["read_id"]][1] - last_seen, 3),
                "frames": first.get("frames"),
            }
        )
        if len(hits) > 1:
            duplicated.append({"pass_id": t.pass_id, "plate": t.plate, "reads": [
                {"plate": r["plate"], "first_seen": r["first_seen"], "last_seen": r["last_seen"],
                 "frames": r.get("frames")} for r in hits]})  # fmt: skip
        if best["plate"] != t.plate:
            wrong.append(
                {
                    "pass_id": t.pass_id,
                    "plate": t.plate,
                    "read": best["plate"],
                    "confidence": best["confidence"],
                    "frames": best.get("frames"),
                    "alternatives": [a["plate"] for a in best.get("alternatives", [])],
                    "latency_s": round(latency, 3),
                }
            )
    return {
        "passes": len(truth),
        "recall": round(found / len(truth), 4) if truth else None,
        "exact_plate": round(exact / len(truth), 4) if truth else None,
        "exact_of_found": round(exact / found, 4) if found else None,
        "duplicates": duplicates,
        "duplicate_rate": round(duplicates / len(truth), 4) if truth else None,
        "unmatched_reads": len(reads) - len(matched_reads),
        "exact_by_format": {k: f"{v[1]}/{v[0]}" for k, v in sorted(by_format.items())},
        "wrong": wrong,
        "missed": missed,
        "duplicated": duplicated,
        "slowest": sorted(timing, key=lambda x: -x["latency_s"])[:8],
        "last_seen_after_leave_p50_s": percentile([x["last_seen_after_leave_s"] for x in timing], 0.5),
        "durable_after_last_seen_p50_p95_s": [
            percentile([x["durable_after_last_seen_s"] for x in timing], q) for q in (0.5, 0.95)
        ],
        "latency_after_leave_s": {
            "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95),
            "max": max(latencies) if latencies else None,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cameras", type=int, default=45)
    parser.add_argument("--fps", type=float, default=8)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--port", type=int, default=18554)
    parser.add_argument("--health-port", type=int, default=19108)
    parser.add_argument("--gap", type=float, nargs=2, default=(10.0, 60.0))
    parser.add_argument("--input-size", type=int, default=416)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "workers.json")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    registry = (
        (ROOT / "config" / "cameras.toml").read_text(encoding="utf-8").replace(":8554/", f":{args.port}/")
    )
    ids = [f"C{i:02d}" for i in range(1, args.cameras + 1)]
    (work / "cameras.toml").write_text(registry, encoding="utf-8")
    env = {
        **os.environ,
        "ANPR_PATHS__VAR_DIR": str(work / "var"),
        "ANPR_CAMERAS__REGISTRY_PATH": str(work / "cameras.toml"),
        "PYTHONUNBUFFERED": "1",
    }
    truth_path = work / "truth.jsonl"
    sim = Process(
        "simulator",
        anpr_command(
            "simulate", "--cameras", str(args.cameras), "--fps", str(args.fps), "--port", str(args.port),
            "--seed", str(args.seed), "--truth", str(truth_path), "--gap", *map(str, args.gap),
        ),
        env=env,
    ).start()  # fmt: skip
    time.sleep(2)
    workers = Process(
        "workers",
        anpr_command(
            "workers", "--cameras", ",".join(ids), "--no-es", "--health-port", str(args.health_port),
            "--input-size", str(args.input_size),
        ),
        env=env,
        log_dir=work,
    ).start()  # fmt: skip
    try:
        reads: dict[str, tuple[dict, float]] = {}
        journal = work / "var" / "journal"
        time.sleep(5)  # model load and connections
        cpu0 = {"simulator": pid_cpu_seconds(sim.pid), "workers": pid_cpu_seconds(workers.pid)}
        t0 = time.monotonic()
        measure_start = datetime.now(UTC)
        while time.monotonic() - t0 < args.seconds:
            time.sleep(0.1)
            if journal.exists():
                journal_reads(journal, reads)
        wall = time.monotonic() - t0
        cpu = {
            "simulator": pid_cpu_seconds(sim.pid) - cpu0["simulator"],
            "workers": pid_cpu_seconds(workers.pid) - cpu0["workers"],
        }
        health = json.load(urllib.request.urlopen(f"http://127.0.0.1:{args.health_port}/health", timeout=5))
        measure_end = datetime.now(UTC)
        # Passes are judged only if they left ≥ 3 s before the end (their read had time to land).
        time.sleep(3)
        journal_reads(journal, reads)
    finally:
        # Always stop both children, even when the measurement fails half-way.
        for process in (workers, sim):
            process.signal_group(process.stop_signal)
        for process in (workers, sim):
            process.stop(signalled=True)
    window = [t for t in load_truth(truth_path) if measure_start <= t.enter and t.leave <= measure_end]
    in_window = {
        k: v
        for k, v in reads.items()
        if measure_start - timedelta(seconds=1) <= datetime.fromisoformat(v[0]["first_seen"])
        and datetime.fromisoformat(v[0]["last_seen"]) <= measure_end + timedelta(seconds=1)
    }
    cams = health["cameras"]
    totals = {
        k: sum(c[k] for c in cams)
        for k in ("frames", "processed_frames", "dropped_frames", "bad_frames", "errors", "reconnects")
    }
    result = {
        "machine": machine(),
        "config": vars(args) | {"out": str(args.out)},
        "wall_s": round(wall, 1),
        "cpu_cores_used": {k: round(v / wall, 3) for k, v in cpu.items()},
        "feeds_per_core_workers": round(args.cameras / max(cpu["workers"] / wall, 1e-6), 1),
        "cameras_up": health["up"],
        "frames": totals,
        "frames_processed_share": round(totals["processed_frames"] / max(1, totals["frames"]), 4),
        "accuracy": evaluate(window, in_window),
    }
    write_report(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
