"""Every benchmark: detector, recogniser, indexer, camera workers, search API, the whole pipeline
under load (`scripts/bench/*` are thin shims), and the synthetic-read seeder."""

from __future__ import annotations

import os
from pathlib import Path


def machine() -> dict[str, object]:
    """The machine a benchmark ran on, for its report: core count and CPU model."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), None)
    return {"cpus": os.cpu_count(), "model": model}
