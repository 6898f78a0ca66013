"""Scenarios 1 and 2: a large journal ingested by `anpr indexer` while Elasticsearch (es-kill) or
the indexer itself (indexer-kill) is killed with SIGKILL and restarted.

Afterwards every read id in the journal must be in Elasticsearch exactly once. Replays are
expected (the indexer commits its journal position only after the bulk ack, so a kill between
ack and commit re-sends the batch); they show as `_version` > 1 on one document, never as a
second document.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from anpr.bench.indexer import reads as synthetic_reads
from anpr.faults.checks import compare, journal_records, stored_reads
from anpr.faults.node import FaultNode
from anpr.faults.procs import service, wait_until
from anpr.faults.report import ScenarioResult
from anpr.launcher import Process
from anpr_core.journal import JournalReader, ReadJournal

INGEST_TIMEOUT_S = 900.0
# After the ingest reaches a kill point, wait a little more so the kill lands inside a bulk
# request (between the ack and the position commit now and then) rather than on a batch edge.
_JITTER = random.Random(8)


def _jitter() -> None:
    # Up to about one batch at the pipelined indexer's rate (5,000 reads at ≥ 15k reads/s).
    time.sleep(_JITTER.uniform(0.0, 0.3))


def write_journal(directory: Path, count: int) -> None:
    """`count` synthetic reads (the indexer benchmark's generator), 1,000 per fsync."""
    journal = ReadJournal(directory)
    start = datetime(2026, 11, 20, tzinfo=UTC)
    for first in range(0, count, 10_000):
        batch = synthetic_reads(min(10_000, count - first), start)
        # The generator numbers from 0: shift ids so every chunk's reads are distinct.
        batch = [r.model_copy(update={"read_id": f"{r.read_id}-{first}"}) for r in batch]
        for i in range(0, len(batch), 1000):
            journal.append_many(batch[i : i + 1000])
    journal.close()


def indexed_share(journal_dir: Path, total_bytes: int) -> float:
    return 1.0 - JournalReader(journal_dir).lag_bytes() / total_bytes


def journal_bytes(journal_dir: Path) -> int:
    return sum(p.stat().st_size for p in journal_dir.glob("seg-*.jsonl"))


def indexer_service(node: FaultNode, prefix: str, run_dir: Path) -> Process:
    env = node.env(prefix) | {
        "ANPR_PATHS__VAR_DIR": str(run_dir / "var"),
        "ANPR_PATHS__JOURNAL_DIR": str(run_dir / "journal"),
    }
    return service("indexer", ["indexer", "--metrics-port", "0"], env, run_dir / "logs")


def _finish(
    result: ScenarioResult, node: FaultNode, prefix: str, run_dir: Path, indexer: Process, started: float
) -> ScenarioResult:
    journal_dir = run_dir / "journal"
    total = journal_bytes(journal_dir)
    caught_up = wait_until(lambda: indexed_share(journal_dir, total) >= 1.0, INGEST_TIMEOUT_S, 0.2)
    survived = indexer.alive()
    indexer.stop()
    result.check("indexer caught up with the journal", caught_up, f"{indexed_share(journal_dir, total):.1%}")
    result.check("indexer process kept running", survived, on_failure=indexer.log_tail(5))
    comparison = compare(journal_records(journal_dir), stored_reads(node.client(), prefix))
    result.journal_reads, result.es_docs = comparison.journal_reads, comparison.es_docs
    result.lost, result.duplicates = comparison.lost, comparison.duplicates
    result.check("reads lost = 0", comparison.lost == 0, ", ".join(comparison.lost_ids))
    result.check("duplicates = 0", comparison.duplicates == 0)
    result.check("no document without a journal read", comparison.foreign == 0, str(comparison.foreign))
    result.notes.append(f"replays absorbed by _id (documents with _version > 1): {comparison.replayed:,}")
    result.seconds = time.monotonic() - started
    return result


def _ingest_with_kills(
    scenario: str,
    node: FaultNode,
    run_dir: Path,
    reads: int,
    kill_at: list[float],
    fault: Callable[[Process, float], str],
) -> ScenarioResult:
    """Ingest `reads` with `anpr indexer`; at each share in `kill_at` apply `fault` (returns a note)."""
    started = time.monotonic()
    result = ScenarioResult(scenario)
    prefix = f"faults-{scenario}"
    journal_dir = run_dir / "journal"
    write_journal(journal_dir, reads)
    total = journal_bytes(journal_dir)
    indexer = indexer_service(node, prefix, run_dir).start()
    try:
        for share in kill_at:
            if not wait_until(lambda s=share: indexed_share(journal_dir, total) >= s, INGEST_TIMEOUT_S, 0.02):
                result.check(
                    f"ingest reached {share:.0%} before the kill", False, on_failure=indexer.log_tail()
                )
                break
            _jitter()
            at = indexed_share(journal_dir, total)
            # A kill after the last batch proves nothing (issue 22): it must land mid-ingest.
            result.check(f"kill at {share:.0%} landed mid-ingest", at < 1.0, f"{at:.1%} indexed at the kill")
            result.notes.append(fault(indexer, at))
        result.notes.append(f"{reads:,} reads in the journal ({total / 1e6:.1f} MB)")
        return _finish(result, node, prefix, run_dir, indexer, started)
    finally:
        if indexer.alive():  # only when something above failed: never leave it running
            indexer.kill9()


def es_kill(
    node: FaultNode, run_dir: Path, reads: int, kill_at: list[float], down_s: float
) -> ScenarioResult:
    """SIGKILL Elasticsearch at each share of the ingest in `kill_at`; restart after `down_s`."""

    def kill_elasticsearch(_: Process, at: float) -> str:
        pid = node.kill()
        time.sleep(down_s)
        t0 = time.monotonic()
        node.start()
        return (
            f"Elasticsearch (pid {pid}) killed at {at:.0%} of the journal indexed, down {down_s:.0f} s, "
            f"restarted in {time.monotonic() - t0:.1f} s"
        )

    return _ingest_with_kills("es-kill", node, run_dir, reads, kill_at, kill_elasticsearch)


def indexer_kill(node: FaultNode, run_dir: Path, reads: int, kill_at: list[float]) -> ScenarioResult:
    """SIGKILL `anpr indexer` at each share of the ingest in `kill_at` and start it again."""

    def kill_indexer(indexer: Process, at: float) -> str:
        pid = indexer.pid
        indexer.kill9()
        time.sleep(0.5)
        indexer.start()
        return f"indexer (pid {pid}) killed at {at:.0%} of the journal indexed, restarted 0.5 s later"

    return _ingest_with_kills("indexer-kill", node, run_dir, reads, kill_at, kill_indexer)
