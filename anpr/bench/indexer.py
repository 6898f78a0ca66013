"""Indexer benchmark: bulk ingest rate into the real node, watchlist matching per read against
10,000 entries, and journal → alert latency."""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from anpr.harness import local_node_pid
from anpr.launcher import pid_cpu_seconds
from anpr_core.elastic.client import make_client
from anpr_core.elastic.indices import alerts_index, reads_alias, watchlist_index
from anpr_core.elastic.mappings import ensure_indices
from anpr_core.journal import JournalReader, ReadJournal
from anpr_core.reads import PlateRead, make_read_id
from anpr_core.settings import load_settings
from indexer.consumer import ReadIndexer, tune_garbage_collector
from indexer.watchlist_matcher import WatchlistIndex


def reads(n: int, start: datetime) -> list[PlateRead]:
    out = []
    for i in range(n):
        seen = start + timedelta(milliseconds=37 * i)
        camera = f"C{i % 45:02d}"
        out.append(
            PlateRead(
                read_id=make_read_id(camera, seen, str(i)), plate=f"{10 + i % 60}가{i % 10_000:04d}",
                confidence=0.97, camera_id=camera, first_seen=seen, last_seen=seen, best_seen=seen,
                location={"lat": 36.78 + (i % 45) / 1000, "lon": 127.0 + (i % 45) / 1000},
            )
        )  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=200_000)
    parser.add_argument("--prefix", default="benchix")
    args = parser.parse_args(argv)
    settings = load_settings(elasticsearch={"index_prefix": args.prefix})
    client = make_client(settings, request_timeout=120)
    for index in client.indices.get(index=f"{args.prefix}-*", expand_wildcards="all").body:
        client.indices.delete(index=index)
    ensure_indices(client, args.prefix)
    print(f"machine: {os.uname().machine}, {len(os.sched_getaffinity(0))} cores")

    with tempfile.TemporaryDirectory() as tmp:
        journal_dir = Path(tmp)
        batch = reads(args.reads, datetime(2026, 11, 20, tzinfo=UTC))
        t0 = time.perf_counter()
        journal = ReadJournal(journal_dir)
        for i in range(0, len(batch), 1000):
            journal.append_many(batch[i : i + 1000])
        append_s = time.perf_counter() - t0
        # The indexer service never holds the whole journal in memory; the benchmark must not
        # either, or the garbage collector keeps scanning 200,000 reads it has nothing to do with.
        del batch
        gc.collect()
        tune_garbage_collector()
        indexer = ReadIndexer(
            client, JournalReader(journal_dir), args.prefix, batch_size=10_000, max_wait_s=0
        )
        es_pid = local_node_pid(settings.paths.var_dir)
        es_cpu0, own_cpu0 = pid_cpu_seconds(es_pid) if es_pid else None, time.process_time()
        t0 = time.perf_counter()
        while indexer.stats.indexed < args.reads:
            indexer.step()
        ingest_s = time.perf_counter() - t0
        es_cpu1, own_cpu1 = pid_cpu_seconds(es_pid) if es_pid else None, time.process_time()
        client.indices.refresh(index=reads_alias(args.prefix))
        stored = client.count(index=reads_alias(args.prefix))["count"]
        print(f"journal append (1,000 per fsync): {args.reads / append_s:,.0f} reads/s")
        print(f"bulk ingest journal → Elasticsearch: {args.reads / ingest_s:,.0f} reads/s "
              f"({args.reads:,} reads in {ingest_s:.1f} s; {stored:,} documents stored)")  # fmt: skip
        # Where the time goes on a small server: the indexer's Python and the node share the cores.
        print(f"  indexer CPU per read: {(own_cpu1 - own_cpu0) / args.reads * 1e6:.0f} µs")
        if es_cpu0 is not None and es_cpu1 is not None:
            print(f"  Elasticsearch CPU per read: {(es_cpu1 - es_cpu0) / args.reads * 1e6:.0f} µs "
                  f"(local node; {os.cpu_count()} cores ⇒ at most "
                  f"{os.cpu_count() / max(es_cpu1 - es_cpu0, 1e-9) * args.reads:,.0f} reads/s "
                  "for the node alone)")  # fmt: skip

    entries = [{"id": f"w{i}", "plate": f"{10 + i % 80}나{i:04d}", "active": True} for i in range(10_000)]
    entries += [{"id": f"p{i}", "plate": f"*{i:04d}", "active": True} for i in range(0, 10_000, 97)]
    index = WatchlistIndex(entries)
    sample = reads(5000, datetime(2026, 11, 21, tzinfo=UTC))
    t0 = time.perf_counter()
    matched = sum(bool(index.match(r)) for r in sample)
    per_read = (time.perf_counter() - t0) / len(sample)
    print(f"watchlist matching: {per_read * 1e6:.0f} µs per read against {len(entries):,} entries "
          f"({matched} of {len(sample)} reads matched something)")  # fmt: skip

    # Journal → alert latency: a live indexer thread, a watchlisted read appended every 200 ms.
    with tempfile.TemporaryDirectory() as tmp:
        journal_dir = Path(tmp)
        hot = {"id": "hot", "plate": "77허7777", "reason": "stolen", "active": True}
        client.index(index=watchlist_index(args.prefix), id="hot", refresh=True, document=hot)
        live = ReadIndexer(client, JournalReader(journal_dir), args.prefix, max_wait_s=0.05)
        live.refresh_watchlist(force=True)
        stop = threading.Event()
        worker = threading.Thread(target=lambda: [live.step() for _ in iter(stop.is_set, True)], daemon=True)
        worker.start()
        journal = ReadJournal(journal_dir)
        latencies = []
        for i in range(30):
            seen = datetime.now(UTC)
            read = PlateRead(read_id=make_read_id("C17", seen, f"hot{i}"), plate="77허7777", confidence=0.9,
                             camera_id="C17", first_seen=seen, last_seen=seen, best_seen=seen)  # fmt: skip
            t0 = time.perf_counter()
            journal.append(read)
            while not client.count(
                index=alerts_index(args.prefix), query={"term": {"read_id": read.read_id}}
            )["count"]:
                time.sleep(0.005)
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.2)
        stop.set()
        worker.join(timeout=5)
        p50, p95 = np.percentile(latencies, [50, 95]) * 1000
        print(f"journal → alert searchable: p50 {p50:.0f} ms, p95 {p95:.0f} ms ({len(latencies)} alerts)")
    for index_name in client.indices.get(index=f"{args.prefix}-*", expand_wildcards="all").body:
        client.indices.delete(index=index_name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
