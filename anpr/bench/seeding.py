"""Synthetic reads for benchmarks: vehicles driving trips across a grid of cameras.

Every document is built by the indexer's own `indexer.documents.read_document`, so seeded reads
look exactly like indexed ones. Fast enough for 10 million reads on 2 cores: reads are
constructed without re-validation (their values are valid by construction), the plates' search
fields are cached by the builder, and documents are encoded with orjson into NDJSON bulk bodies.

`sample_read` / `sample_document` make one read for the API and page tests.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from elasticsearch import Elasticsearch

from anpr_core.elastic.client import make_client
from anpr_core.elastic.indices import reads_alias, reads_index
from anpr_core.elastic.mappings import ensure_indices, ensure_read_index
from anpr_core.plates import parse_plate, random_plate
from anpr_core.reads import GeoPoint, PlateRead, make_read_id
from anpr_core.settings import load_settings
from indexer.documents import read_document
from indexer.retention import RetentionReport, compute_cutoffs, merge_ended_months

SEED_READS_USAGE = """Bulk-load synthetic reads for the API benchmarks, under their own index prefix.

    scripts/seed_reads --reads 10000000 --days 90 --cameras 45 --prefix bench
    scripts/seed_reads --reads 20000 --days 3 --prefix benchci     # the bounded CI version

Run it with `nice`; 10 M reads take 10-25 minutes on 2 cores. `--drop` deletes the prefix's
read indices first. Afterwards the indices of ended months are merged to one segment, as the
daily retention run does in service (`indexer.retention.merge_ended_months`), so benchmarks see
the steady-state layout; `--no-merge` leaves them as bulk loading left them.
"""

CENTRE = (37.5665, 126.9780)  # Seoul City Hall


@dataclass(frozen=True)
class SeedCamera:
    id: str
    lat: float
    lon: float


def make_cameras(count: int, rng: random.Random) -> list[SeedCamera]:
    """Cameras on a jittered grid about 1.5 km apart around the centre."""
    side = math.ceil(math.sqrt(count))
    cameras = []
    for index in range(count):
        row, col = divmod(index, side)
        lat = CENTRE[0] + (row - side / 2) * 0.0135 + rng.uniform(-0.002, 0.002)
        lon = CENTRE[1] + (col - side / 2) * 0.017 + rng.uniform(-0.002, 0.002)
        cameras.append(SeedCamera(f"cam-{index + 1:02d}", round(lat, 6), round(lon, 6)))
    return cameras


def plate_pool(size: int, rng: random.Random) -> list[str]:
    """`size` distinct random plates (canonical text)."""
    seen: dict[str, None] = {}
    while len(seen) < size:
        seen.setdefault(random_plate(rng).text)
    return list(seen)


def sample_read(
    plate: str,
    camera_id: str,
    seen: datetime,
    lat: float,
    lon: float,
    *,
    confidence: float = 0.95,
    crop_ref: str | None = None,
    direction: str | None = None,
    track_key: str = "t",
) -> PlateRead:
    """One validated read of `plate` at a camera, seen for 0.8 s around `seen`."""
    seen = seen.astimezone(UTC)
    text = parse_plate(plate).text
    return PlateRead(
        read_id=make_read_id(camera_id, seen, f"{track_key}|{text}"),
        plate=text,
        confidence=confidence,
        camera_id=camera_id,
        first_seen=seen - timedelta(milliseconds=400),
        last_seen=seen + timedelta(milliseconds=400),
        best_seen=seen,
        direction=direction,
        crop_ref=crop_ref,
        location=GeoPoint(lat=lat, lon=lon),
        frames=5,
    )


def sample_document(
    plate: str, camera_id: str, seen: datetime, lat: float, lon: float, **extra: Any
) -> dict[str, Any]:
    """`sample_read`'s document, as the indexer stores it."""
    return read_document(sample_read(plate, camera_id, seen, lat, lon, **extra))


def _neighbours(cameras: list[SeedCamera]) -> dict[int, list[int]]:
    out = {}
    for i, a in enumerate(cameras):
        dists = sorted(
            (math.hypot(a.lat - b.lat, (a.lon - b.lon) * 0.79), j) for j, b in enumerate(cameras) if j != i
        )
        out[i] = [j for _, j in dists[:4]]
    return out


def generate_reads(
    total: int, days: int, cameras: list[SeedCamera], plates: list[str], end: datetime, seed: int
) -> Iterator[PlateRead]:
    """`total` reads in trips of 2-8 cameras."""
    rng = random.Random(seed)
    neighbours = _neighbours(cameras)
    start = end - timedelta(days=days)
    span_s = days * 86400
    produced = 0
    # Zipf-like popularity, flattened so the busiest plate (a daily commuter) makes a few hundred
    # trips in 90 days, not tens of thousands; the median plate makes one or two.
    weights_cum = list(_cumulative([1.0 / (rank + 1000) for rank in range(len(plates))]))
    while produced < total:
        plate = plates[_pick(weights_cum, rng.random())]
        when = start + timedelta(seconds=rng.random() * span_s)
        camera = rng.randrange(len(cameras))
        for _ in range(min(rng.randint(2, 8), total - produced)):
            cam = cameras[camera]
            confidence = round(0.6 + rng.random() * 0.4, 3)
            # Valid by construction (canonical plate, UTC times, camera coordinates): no re-validation.
            yield PlateRead.model_construct(
                read_id=make_read_id(cam.id, when, plate), plate=plate, confidence=confidence,
                alternatives=(), camera_id=cam.id, first_seen=when, last_seen=when, best_seen=when,
                location=GeoPoint.model_construct(lat=cam.lat, lon=cam.lon), frames=4,
            )  # fmt: skip
            produced += 1
            camera = rng.choice(neighbours[camera])
            when += timedelta(seconds=rng.uniform(60, 400))  # 1.5 km at 15-90 km/h


def _cumulative(weights: list[float]) -> Iterator[float]:
    total = sum(weights)
    running = 0.0
    for weight in weights:
        running += weight
        yield running / total


def _pick(cumulative: list[float], r: float) -> int:
    import bisect

    return min(bisect.bisect_left(cumulative, r), len(cumulative) - 1)


def seed(
    es: Elasticsearch,
    prefix: str,
    *,
    reads: int,
    days: int,
    camera_count: int,
    plates: int,
    seed_value: int = 42,
    batch: int = 5000,
    end: datetime | None = None,
    progress: bool = True,
) -> dict[str, float]:
    rng = random.Random(seed_value)
    ensure_indices(es, prefix)
    cameras = make_cameras(camera_count, rng)
    pool = plate_pool(plates, rng)
    end = end or datetime.now(UTC).replace(microsecond=0)
    created: set[str] = set()
    lines: list[bytes] = []
    started = time.monotonic()
    done = 0
    # Two bulk requests in flight keep Elasticsearch busy while Python builds the next batch.
    pool_executor = ThreadPoolExecutor(max_workers=2)
    pending: list[Future[None]] = []
    for read in generate_reads(reads, days, cameras, pool, end, seed_value):
        when = read.best_seen
        index = reads_index(prefix, when.date())
        if index not in created:
            ensure_read_index(es, prefix, when)
            # Bulk load: no refreshes until the end.
            es.indices.put_settings(index=index, settings={"refresh_interval": "-1"})
            created.add(index)
        action = orjson.dumps({"index": {"_index": index, "_id": read.read_id}})
        lines.append(action + b"\n" + orjson.dumps(read_document(read)) + b"\n")
        if len(lines) >= batch:
            pending.append(pool_executor.submit(_send, es, lines))
            if len(pending) > 2:
                pending.pop(0).result()
            done += len(lines)
            lines = []
            if progress and done % (batch * 40) == 0:
                rate = done / (time.monotonic() - started)
                print(f"{done:>10,} reads  {rate:,.0f}/s", flush=True)
    if lines:
        pending.append(pool_executor.submit(_send, es, lines))
        done += len(lines)
    for future in pending:
        future.result()
    pool_executor.shutdown()
    for index in created:
        es.indices.put_settings(index=index, settings={"refresh_interval": "1s"})
    es.indices.refresh(index=reads_alias(prefix))
    elapsed = time.monotonic() - started
    return {"reads": done, "seconds": round(elapsed, 1), "reads_per_s": round(done / elapsed)}


def _send(es: Elasticsearch, lines: list[bytes]) -> None:
    result = es.bulk(operations=b"".join(lines), refresh=False, filter_path="errors,items.*.error")
    if result.get("errors"):
        first = next(item for item in result["items"] if next(iter(item.values())).get("error"))
        raise RuntimeError(f"bulk indexing failed: {first}")


def index_size(es: Elasticsearch, prefix: str) -> dict[str, float]:
    stats = es.indices.stats(index=reads_alias(prefix), metric=["docs", "store"])["_all"]["primaries"]
    docs = stats["docs"]["count"]
    size = stats["store"]["size_in_bytes"]
    return {
        "docs": docs,
        "store_bytes": size,
        "mib_per_million_reads": round(size / max(docs, 1) * 1_000_000 / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """`scripts/seed_reads`: see its usage (--help)."""
    parser = argparse.ArgumentParser(
        description=SEED_READS_USAGE, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--cameras", type=int, default=45)
    parser.add_argument("--plates", type=int, default=0, help="distinct plates (default reads / 20)")
    parser.add_argument("--prefix", default="bench", help="index prefix; never the service's own")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--drop", action="store_true", help="delete this prefix's read indices first")
    parser.add_argument("--no-merge", action="store_true", help="do not merge the ended months' indices")
    args = parser.parse_args(argv)
    settings = load_settings(elasticsearch={"index_prefix": args.prefix})
    if args.prefix == load_settings().index_prefix:
        parser.error("--prefix must differ from the service's index prefix (keep benchmark data apart)")
    es = make_client(settings, request_timeout=120)
    if args.drop:
        for index in es.indices.get(index=f"{args.prefix}-reads-*", expand_wildcards="all").body:
            es.indices.delete(index=index)
    plates = args.plates or max(100, args.reads // 20)
    result = seed(es, args.prefix, reads=args.reads, days=args.days, camera_count=args.cameras, plates=plates,
                  seed_value=args.seed)  # fmt: skip
    if not args.no_merge:
        now = datetime.now(UTC)
        report = RetentionReport(now=now, cutoffs=compute_cutoffs(settings.retention, now))
        merge_ended_months(es, args.prefix, now, report)
        result["merged_indices"] = report.merged_indices
    result.update(index_size(es, args.prefix))
    print(json.dumps(result))
    return 0
