"""Benchmark the search API through gunicorn against reads seeded by scripts/seed_reads.

    scripts/seed_reads --reads 10000000 --days 90 --cameras 45 --prefix bench   # once
    nice scripts/bench/api_bench --prefix bench --out var/bench/api.json

Measures, over HTTP on 127.0.0.1 only: route latency (p50/p95/p99, distinct random plates so
the request cache rarely helps), partial-plate search latency (suffix, prefix, wildcard,
fuzzy), route throughput with N concurrent keep-alive clients, and index size per million reads.

Throughput is driven by `wrk` (Debian package `wrk`; C, so the load generator takes little of
the two cores) when it is installed, else by Python threads. With wrk the same route searches
are also sent to Elasticsearch directly, side by side: what the API adds on top of the store.
CPU seconds of gunicorn, Elasticsearch and the load generator are read from /proc per run.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from anpr.bench import write_report
from anpr.bench.seeding import index_size
from anpr.harness import local_node_pid
from anpr.launcher import Process, group_cpu_seconds, pid_cpu_seconds
from anpr_core.elastic.client import make_client, resolve_connection
from anpr_core.elastic.indices import reads_alias
from anpr_core.settings import PROJECT_ROOT as ROOT
from anpr_core.settings import Settings, load_settings
from search_api.route import route_search
from search_api.schemas import TimeRange
from search_api.serve import gunicorn_command
from search_api.users import DEMO_PASSWORD, UserStore, seed_demo_users

HOST = "127.0.0.1"
ACCESS = {"purpose": "benchmark of the search API", "case_number": "BENCH-0001"}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {
        "n": len(ordered),
        "p50_ms": pick(0.50),
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
    }


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, params: dict[str, object]) -> tuple[int, bytes]:
        query = urllib.parse.urlencode({**ACCESS, **params})
        self.conn.request("GET", f"{path}?{query}", headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()


def route_path(plate: str) -> str:
    return f"/api/v1/plates/{urllib.parse.quote(plate)}/route"


def timed(client: Client, path: str, params: dict[str, object]) -> float:
    started = time.perf_counter()
    status, body = client.get(path, params)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"{path} {params}: HTTP {status} {body[:200]!r}")
    return elapsed


def sample_busy_plates(es: Elasticsearch, prefix: str, count: int) -> list[str]:
    """Plates of random reads: a plate is picked in proportion to its sightings (busy plates)."""
    result = es.search(
        index=reads_alias(prefix),
        size=count * 2,
        source=["plate"],
        query={
            "function_score": {"query": {"match_all": {}}, "random_score": {"seed": 7, "field": "_seq_no"}}
        },
    )
    plates = list(dict.fromkeys(hit["_source"]["plate"] for hit in result["hits"]["hits"]))
    return plates[:count]


def sample_typical_plates(es: Elasticsearch, prefix: str, count: int) -> list[str]:
    """Distinct plates picked uniformly: one hash partition of all plate terms (a typical plate)."""
    distinct = es.search(index=reads_alias(prefix), size=0, aggs={"n": {"cardinality": {"field": "plate"}}})[
        "aggregations"
    ]["n"]["value"]
    partitions = max(1, distinct // count)
    result = es.search(
        index=reads_alias(prefix),
        size=0,
        aggs={
            "plates": {
                "terms": {
                    "field": "plate",
                    "size": count * 3,
                    "include": {"partition": 7 % partitions, "num_partitions": partitions},
                }
            }
        },
    )
    plates = [bucket["key"] for bucket in result["aggregations"]["plates"]["buckets"]]
    random.Random(5).shuffle(plates)
    return plates[:count]


def segments(es: Elasticsearch, prefix: str) -> dict[str, int]:
    rows = es.cat.segments(index=reads_alias(prefix), format="json", h="index")
    found: dict[str, int] = {}
    for row in rows:
        found[row["index"]] = found.get(row["index"], 0) + 1
    return dict(sorted(found.items()))


def mean_sightings(es: Elasticsearch, prefix: str, plates: list[str]) -> float:
    counts = [
        es.count(index=reads_alias(prefix), query={"term": {"plate": p}})["count"] for p in plates[:300]
    ]
    return round(statistics.fmean(counts), 1)


def start_gunicorn(settings: Settings, workers: int, threads: int) -> Process:
    """The API as `anpr api` runs it (search_api.serve), on settings.api.host:port; its own
    process group, so the CPU of master and workers is summed from /proc."""
    env = dict(
        os.environ,
        ANPR_ELASTICSEARCH__INDEX_PREFIX=settings.index_prefix,
        ANPR_API__WORKERS=str(workers),
        ANPR_API__THREADS=str(threads),
        ANPR_API__ACCESS_LOG="0",
    )
    process = Process(
        "gunicorn", gunicorn_command(settings), env=env, log_dir=Path(tempfile.mkdtemp())
    ).start()

    def ready() -> bool:
        conn = http.client.HTTPConnection(HOST, settings.api.port, timeout=2)
        conn.request("GET", "/ready")
        return conn.getresponse().status == 200

    try:
        process.wait_ready(ready, 60, "gunicorn")
    except BaseException:
        process.stop()
        raise
    return process


def throughput(
    port: int, token: str, plates: list[str], concurrency: int, seconds: float
) -> dict[str, float]:
    counts = [0] * concurrency
    errors = [0] * concurrency
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    stop = time.monotonic() + seconds

    def run(slot: int) -> None:
        client = Client(port, token)
        rng = random.Random(slot)
        while time.monotonic() < stop:
            started = time.perf_counter()
            status, _ = client.get(route_path(rng.choice(plates)), {})
            latencies[slot].append(time.perf_counter() - started)
            if status == 200:
                counts[slot] += 1
            else:
                errors[slot] += 1

    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(concurrency)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    all_latencies = [x for slot in latencies for x in slot]
    return {
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
        "requests": sum(counts),
        "errors": sum(errors),
        "requests_per_s": round(sum(counts) / elapsed, 1),
        "latency": percentiles(all_latencies),
    }


WRK_SCRIPT = ROOT / "scripts" / "bench" / "wrk" / "requests.lua"


def es_route_request(prefix: str, plate: str) -> str:
    """The API's route search for `plate`, as a wrk request line for Elasticsearch itself."""
    body, params = route_search(plate, TimeRange(), 2000)
    flat = {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}
    query = urllib.parse.urlencode(flat)
    return f"POST\t/{reads_alias(prefix)}/_search?{query}\t{json.dumps(body, ensure_ascii=False)}"


def wrk_throughput(
    url: str, lines: list[str], authorization: str, concurrency: int, seconds: float, cpu_of: dict[str, int]
) -> dict[str, object]:
    """Closed-loop load from wrk (one thread, `concurrency` keep-alive connections)."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False, encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    cmd = [
        str(shutil.which("wrk")), "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "10s",
        "-s", str(WRK_SCRIPT), url, "--", handle.name, authorization,
    ]  # fmt: skip
    before = _cpu_seconds(cpu_of)
    wrk = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    after = _cpu_seconds(cpu_of)
    os.unlink(handle.name)
    if wrk.returncode != 0:
        raise RuntimeError(f"wrk failed: {wrk.stderr.strip()}")
    result: dict[str, object] = json.loads(wrk.stdout.strip().splitlines()[-1])
    requests = int(result["requests"])  # type: ignore[call-overload]
    elapsed = float(result["seconds"])  # type: ignore[arg-type]
    result["concurrency"] = concurrency
    result["requests_per_s"] = round(requests / elapsed, 1)
    used = {name: after[name] - before[name] for name in after}
    per_request = {name: round(sec / max(requests, 1) * 1000, 3) for name, sec in used.items()}
    result["cpu_ms_per_request"] = per_request
    result["cpu_cores"] = {name: round(sec / elapsed, 2) for name, sec in used.items()}
    return result


def _cpu_seconds(cpu_of: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process (gunicorn: its whole group) and of wrk runs."""
    now = {
        name: group_cpu_seconds(pid) if name == "gunicorn" else pid_cpu_seconds(pid)
        for name, pid in cpu_of.items()
    }
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has been waited for
    now["wrk"] = children.ru_utime + children.ru_stime
    return now


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requests", type=int, default=300, help="per latency series")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--throughput-only", action="store_true", help="skip the latency series")
    args = parser.parse_args(argv)

    settings = load_settings(
        elasticsearch={"index_prefix": args.prefix}, api={"host": HOST, "port": args.port}
    )
    es = make_client(settings, request_timeout=60)
    if UserStore(es, args.prefix).get("investigator") is None:
        seed_demo_users(UserStore(es, args.prefix))
    samples = {
        "typical": sample_typical_plates(es, args.prefix, 2000),
        "busy": sample_busy_plates(es, args.prefix, 2000),
    }
    plates = samples["busy"]  # the partial searches use digits of read plates
    rng = random.Random(1)
    results: dict[str, object] = {
        "index": index_size(es, args.prefix),
        "segments_per_index": segments(es, args.prefix),
        "plates": {
            name: {"sampled": len(sample), "mean_sightings": mean_sightings(es, args.prefix, sample)}
            for name, sample in samples.items()
        },
    }
    server = start_gunicorn(settings, args.workers, args.threads)
    try:
        login = http.client.HTTPConnection(HOST, args.port)
        login.request(
            "POST",
            "/api/v1/auth/login",
            json.dumps({"username": "investigator", "password": DEMO_PASSWORD}),
            {"Content-Type": "application/json"},
        )
        token = json.loads(login.getresponse().read())["token"]
        client = Client(args.port, token)
        for plate in plates[:30]:  # warm-up: connections, Python caches, ES file cache
            timed(client, route_path(plate), {})
        if not args.throughput_only:
            # An investigation usually asks about a week: the date range lets ES skip the other months.
            week = {
                "from": (datetime.now(UTC) - timedelta(days=7)).isoformat(timespec="seconds"),
                "to": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            for name, sample in samples.items():
                route_plates = rng.sample(sample[30:], min(args.requests, len(sample) - 30))
                paths = [route_path(p) for p in route_plates]
                results[f"route_{name}"] = percentiles([timed(client, path, {}) for path in paths])
                last_week = [timed(client, path, week) for path in paths]
                results[f"route_{name}_last_7_days"] = percentiles(last_week)
            series = {
                "suffix *NNNN": lambda p: {"plate": "*" + p[-4:]},
                "prefix 12가*": lambda p: {"plate": p[:-4] + "*"},
                "wildcard 12가34??": lambda p: {"plate": p[:-2] + "??"},
                "fuzzy": lambda p: {"plate": p, "mode": "fuzzy", "max_cost": 0.6},
            }
            searches = {}
            for name, make in series.items():
                sample = rng.sample(plates, min(args.requests, len(plates)))
                searches[name] = percentiles([timed(client, "/api/v1/reads", make(p)) for p in sample])
            results["search"] = searches
        if shutil.which("wrk") is None:
            print("wrk not installed (apt-get install wrk): Python threads drive the load", file=sys.stderr)
            for name, sample in samples.items():
                results[f"route_throughput_{name}"] = throughput(
                    args.port, token, sample, args.concurrency, args.seconds
                )
        else:
            es_pid = local_node_pid()
            cpu_of = {"gunicorn": server.pid, **({"elasticsearch": es_pid} if es_pid else {})}
            url, user, password = resolve_connection(settings)
            basic = base64.b64encode(f"{user}:{password}".encode()).decode()
            for name, sample in samples.items():
                access = urllib.parse.urlencode(ACCESS)
                results[f"route_throughput_{name}"] = wrk_throughput(
                    f"http://{HOST}:{args.port}", [f"GET\t{route_path(p)}?{access}\t" for p in sample],
                    f"Bearer {token}", args.concurrency, args.seconds, cpu_of,
                )  # fmt: skip
                results[f"route_throughput_{name}_elasticsearch_direct"] = wrk_throughput(
                    url, [es_route_request(args.prefix, p) for p in sample], f"Basic {basic}",
                    args.concurrency, args.seconds, cpu_of,
                )  # fmt: skip
    finally:
        server.stop()
    results["config"] = {"workers": args.workers, "threads": args.threads, "cpus": os.cpu_count()}
    write_report(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
