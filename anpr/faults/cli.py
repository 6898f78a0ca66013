"""`scripts/faults [--short] [--only es-kill,indexer-kill,worker-kill,stall]`

Starts its own Elasticsearch node (never the shared one: this suite kills it), runs each fault
scenario, prints one table, and exits 1 if any target is missed: reads lost = 0 and duplicates
= 0 in every scenario, a stalled camera up again ≤ 5 s after its stream returns.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from anpr.faults.ingest import es_kill, indexer_kill
from anpr.faults.live import Stall, stall, worker_kill
from anpr.faults.node import FAULTS_VAR, FaultNode
from anpr.faults.report import ScenarioResult, details, table

SCENARIOS = ("es-kill", "indexer-kill", "worker-kill", "stall")


@dataclass(frozen=True)
class Size:
    """How big each scenario is: the full run (issue figures) or the short one (CI, 2 cores)."""

    reads: int
    es_kills: tuple[float, ...]
    es_down_s: float
    indexer_kills: tuple[float, ...]
    cameras: int
    worker_run_s: float
    worker_down_s: float
    stalls: tuple[Stall, ...]  # lengths vary so the return lands at different points of the
    # feed reader's reconnect cycle; the last full one is timed to its worst point


FULL = Size(
    200_000, (0.3, 0.7), 10.0, (0.15, 0.35, 0.55, 0.75, 0.9), 6, 60.0, 5.0,
    (Stall(8.0), Stall(14.0), Stall(23.0), Stall(37.0), Stall(35.0, in_backoff=True)),
)  # fmt: skip
# Short: enough reads that a kill at 40 % lands well before the end at the indexer's rate, and a
# stall long enough for the camera to be marked down (live.STALL_DOWN_AFTER_S).
SHORT = Size(60_000, (0.4,), 3.0, (0.4,), 4, 20.0, 2.0, (Stall(14.0),))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="faults", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the small CI version (≈ 3 min on 2 cores)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("--reads", type=int, default=None, help="journal size for es-kill/indexer-kill")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory under var/faults")
    return parser.parse_args(argv)


def run_suite(
    only: list[str], size: Size, keep: bool = False, log: Callable[[str], None] = print
) -> list[ScenarioResult]:
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}; choose from {SCENARIOS}")
    runs = FAULTS_VAR / f"run-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    node = FaultNode(runs)
    results: list[ScenarioResult] = []
    try:
        t0 = time.monotonic()
        node.start()
        log(f"fault node (own data dir, port {node.port}) up in {time.monotonic() - t0:.1f} s")
        for name in only:
            log(f"--- {name}")
            run_dir = runs / name
            if name == "es-kill":
                result = es_kill(node, run_dir, size.reads, list(size.es_kills), size.es_down_s)
            elif name == "indexer-kill":
                result = indexer_kill(node, run_dir, size.reads, list(size.indexer_kills))
            elif name == "worker-kill":
                result = worker_kill(node, run_dir, size.cameras, size.worker_run_s, size.worker_down_s)
            else:
                result = stall(node, run_dir, size.cameras, list(size.stalls))
            log(details(result))
            results.append(result)
    finally:
        node.stop()
        if keep:
            log(f"logs, journals and the node's data kept in {runs}")
        else:
            node.remove()
            shutil.rmtree(runs, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    size = SHORT if args.short else FULL
    if args.reads:
        size = Size(**{**size.__dict__, "reads": args.reads})
    started = time.monotonic()
    print(f"fault suite ({'short' if args.short else 'full'}), {len(os.sched_getaffinity(0))} cores")
    results = run_suite([s for s in args.only.split(",") if s], size, keep=args.keep)
    print()
    print(table(results))
    print(f"total {time.monotonic() - started:.0f} s")
    return 0 if results and all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
