"""Every benchmark: detector, recogniser, indexer, camera workers, search API, the whole pipeline
under load (`scripts/bench/*` are thin shims), and the synthetic-read seeder."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from anpr_core.settings import Settings


def machine() -> dict[str, object]:
    """The machine a benchmark ran on, for its report: core count and CPU model."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), None)
    return {"cpus": os.cpu_count(), "model": model}


def write_report(result: Mapping[str, object], out: Path | None, summary: str | None = None) -> None:
    """Every benchmark's ending: the JSON report written to `out` (its folder made), and printed,
    or in its place a human summary followed by where the JSON went."""
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text if summary is None else summary)
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    if summary is not None:
        print(f"→ {out}")


def fresh_indices(prefix: str) -> tuple[Settings, Elasticsearch]:
    """Settings and a client for a benchmark's own index prefix, its indices dropped and made
    anew, with the machine line printed first (the alert and people-event benches both start so)."""
    from anpr_core.elastic.client import make_client
    from anpr_core.elastic.mappings import ensure_indices
    from anpr_core.settings import load_settings

    settings = load_settings(elasticsearch={"index_prefix": prefix})
    client = make_client(settings)
    for index in client.indices.get(index=f"{prefix}-*", expand_wildcards="all").body:
        client.indices.delete(index=index)
    ensure_indices(client, prefix)
    print(f"machine: {os.uname().machine}, {len(os.sched_getaffinity(0))} cores, "
          f"load average {os.getloadavg()[0]:.1f} at start")  # fmt: skip
    return settings, client
