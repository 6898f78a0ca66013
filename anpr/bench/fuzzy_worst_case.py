"""Fuzzy search under attack (issue 22.1): the worst inputs cost milliseconds, and 20 clients
sending them at once leave route latency where it was.

    nice scripts/bench/fuzzy_worst_case --prefix benchfuzzy --out var/bench/fuzzy.json

1. In process: CPU time of the candidate generation alone for the issue's inputs and for the
   worst of a few thousand random texts of plate characters, all at the largest max_cost (2.0).
2. Through gunicorn, as `anpr api` runs it: server CPU per worst-case request (the whole
   gunicorn process group's CPU from /proc, over sequential requests), then route latency
   (p50/p95) with a few clients alone; while 20 worst-case fuzzy requests arrive at once every
   second; while 20 clients send them back to back; and, for comparison, while 20 clients send
   ordinary route requests back to back (what any 20 busy clients do to two cores).

Reads are seeded once under the prefix (`--reads`, default 200,000 over 7 days) if it has none.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from anpr.bench import write_report
from anpr.bench.api_bench import ACCESS, HOST, percentiles, route_path, sample_busy_plates, start_gunicorn
from anpr.bench.seeding import seed
from anpr.launcher import group_cpu_seconds
from anpr_core.elastic.client import make_client
from anpr_core.elastic.indices import reads_alias
from anpr_core.plates import PLATE_ALPHABET, ConfusionModel
from anpr_core.settings import load_settings
from search_api.search import FUZZY_CANDIDATES
from search_api.users import DEMO_PASSWORD, UserStore, seed_demo_users

# The request, and texts built to maximise the search: every shape of each length, the
# digits with the most cheap confusions, region and diplomatic prefixes, all-zero class digits.
WORST_TEXTS = (
    "888888888888",
    "88888888",
    "8888888",
    "888가8888",
    "88가8888",
    "서울88가8888",
    "서울8가8888",
    "외교888888",
    "00가0000",
    "000가0000",
    "광광00육0000",
    "888888888888888888888888",
)
MAX_COST = 2.0


def candidate_cpu(model: ConfusionModel, texts: list[str], repeats: int = 5) -> dict[str, float]:
    out = {}
    for text in texts:
        best = float("inf")
        for _ in range(repeats):  # the least disturbed of a few runs: the machine is shared
            started = time.thread_time()
            model.candidates(text, max_cost=MAX_COST, limit=FUZZY_CANDIDATES)
            best = min(best, time.thread_time() - started)
        out[text] = round(best * 1000, 2)
    return out


def worst_random(model: ConfusionModel, count: int) -> dict[str, object]:
    rng = random.Random(22)
    worst = (0.0, "")
    for _ in range(count):
        text = "".join(rng.choice(PLATE_ALPHABET) for _ in range(rng.choice((7, 8, 9))))
        started = time.thread_time()
        model.candidates(text, max_cost=MAX_COST, limit=FUZZY_CANDIDATES)
        worst = max(worst, (time.thread_time() - started, text))
    return {"texts": count, "worst_text": worst[1], "worst_cpu_ms": round(worst[0] * 1000, 2)}


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.port, self.headers = port, {"Authorization": f"Bearer {token}"}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def get(self, path: str, params: dict[str, object]) -> tuple[int, float]:
        query = urllib.parse.urlencode({**ACCESS, **params})
        started = time.perf_counter()
        self.conn.request("GET", f"{path}?{query}", headers=self.headers)
        response = self.conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started


def fuzzy_params(text: str) -> dict[str, object]:
    return {"plate": text, "mode": "fuzzy", "max_cost": MAX_COST}


def server_cpu_per_request(port: int, token: str, pgid: int, rounds: int) -> dict[str, object]:
    client = Client(port, token)
    per_text = {}
    for text in WORST_TEXTS:
        statuses = set()
        before = group_cpu_seconds(pgid)
        for _ in range(rounds):
            status, _ = client.get("/api/v1/reads", fuzzy_params(text))
            statuses.add(status)
        cpu = (group_cpu_seconds(pgid) - before) / rounds
        per_text[text] = {"status": sorted(statuses), "cpu_ms_per_request": round(cpu * 1000, 2)}
    before = group_cpu_seconds(pgid)
    for _ in range(rounds):
        client.get("/api/v1/auth/me", {})
    baseline = (group_cpu_seconds(pgid) - before) / rounds
    return {"per_text": per_text, "auth_me_cpu_ms_per_request": round(baseline * 1000, 2)}


def load(
    port: int,
    token: str,
    plates: list[str],
    route_clients: int,
    attackers: int,
    seconds: float,
    burst_every_s: float | None = None,
    attack_with_routes: bool = False,
) -> dict[str, object]:
    """Route latency while `attackers` clients send worst-case fuzzy searches: all at once every
    `burst_every_s` (20 concurrent requests, open loop), or back to back when it is None (closed
    loop: as fast as the server answers). `attack_with_routes`: the same clients send ordinary
    route requests instead, for comparison."""
    start = time.monotonic()
    stop = start + seconds
    route_latency: list[list[float]] = [[] for _ in range(route_clients)]
    attack_latency: list[list[float]] = [[] for _ in range(attackers)]
    errors = {"route": 0, "attack_5xx": 0}

    def route(slot: int) -> None:
        client, rng = Client(port, token), random.Random(slot)
        while time.monotonic() < stop:
            status, took = client.get(route_path(rng.choice(plates)), {})
            route_latency[slot].append(took)
            errors["route"] += status != 200

    def attack(slot: int) -> None:
        client, rng = Client(port, token), random.Random(100 + slot)
        number = slot
        tick = 0
        while time.monotonic() < stop:
            if burst_every_s is not None:
                tick += 1
                time.sleep(max(0.0, start + tick * burst_every_s - time.monotonic()))
                if time.monotonic() >= stop:
                    break
            if attack_with_routes:
                status, took = client.get(route_path(rng.choice(plates)), {})
            else:
                status, took = client.get(
                    "/api/v1/reads", fuzzy_params(WORST_TEXTS[number % len(WORST_TEXTS)])
                )
            number += 1
            attack_latency[slot].append(took)
            errors["attack_5xx"] += status >= 500

    threads = [threading.Thread(target=route, args=(i,)) for i in range(route_clients)]
    threads += [threading.Thread(target=attack, args=(i,)) for i in range(attackers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result: dict[str, object] = {
        "route_clients": route_clients,
        "attackers": attackers,
        "seconds": seconds,
        "attack": "routes" if attack_with_routes else "worst-case fuzzy",
        "attack_pattern": f"all at once every {burst_every_s} s" if burst_every_s else "back to back",
        "route": percentiles([x for slot in route_latency for x in slot]),
        "errors": errors,
    }
    if attackers:
        samples = [x for slot in attack_latency for x in slot]
        result["attack_latency"] = percentiles(samples)
        result["attack_requests_per_s"] = round(len(samples) / seconds, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prefix", default="benchfuzzy")
    parser.add_argument("--reads", type=int, default=200_000, help="seeded if the prefix has no reads")
    parser.add_argument("--port", type=int, default=8078)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--attackers", type=int, default=20)
    parser.add_argument("--route-clients", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=20, help="sequential requests per text for server CPU")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    model = ConfusionModel.load()
    results: dict[str, object] = {
        "candidates_cpu_ms": candidate_cpu(model, list(WORST_TEXTS)),
        "candidates_random": worst_random(model, 3000),
    }
    settings = load_settings(
        elasticsearch={"index_prefix": args.prefix}, api={"host": HOST, "port": args.port}
    )
    es = make_client(settings, request_timeout=120)
    if (
        not es.indices.exists(index=reads_alias(args.prefix))
        or not es.count(index=reads_alias(args.prefix))["count"]
    ):
        results["seeded"] = seed(
            es, args.prefix, reads=args.reads, days=7, camera_count=45, plates=args.reads // 8
        )
    if UserStore(es, args.prefix).get("investigator") is None:
        seed_demo_users(UserStore(es, args.prefix))
    plates = sample_busy_plates(es, args.prefix, 500)
    server = start_gunicorn(settings, args.workers, args.threads)
    try:
        login = http.client.HTTPConnection(HOST, args.port)
        body = json.dumps({"username": "investigator", "password": DEMO_PASSWORD})
        login.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
        token = json.loads(login.getresponse().read())["token"]
        warm = Client(args.port, token)
        for plate in plates[:30]:
            warm.get(route_path(plate), {})
        results["server_cpu"] = server_cpu_per_request(args.port, token, server.pid, args.rounds)
        results["route_alone"] = load(args.port, token, plates, args.route_clients, 0, args.seconds)
        results["route_with_20_concurrent_worst_case_each_second"] = load(
            args.port, token, plates, args.route_clients, args.attackers, args.seconds, burst_every_s=1.0
        )
        results["route_with_20_worst_case_clients_back_to_back"] = load(
            args.port, token, plates, args.route_clients, args.attackers, args.seconds
        )
        results["route_with_20_route_clients_back_to_back"] = load(
            args.port,
            token,
            plates,
            args.route_clients,
            args.attackers,
            args.seconds,
            attack_with_routes=True,
        )
    finally:
        server.stop()
    results["config"] = {
        "workers": args.workers, "threads": args.threads, "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2), "max_cost": MAX_COST,
    }  # fmt: skip
    write_report(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
