"""Reads against the simulator's ground truth: a read belongs to a pass on the same camera whose
time in view overlaps the read's (± 1 s), as in the workers benchmark."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

SLACK = timedelta(seconds=1.0)


@dataclass(frozen=True)
class TruePass:
    pass_id: str
    camera_id: str
    plate: str
    enter: datetime
    leave: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.enter - SLACK <= end and self.leave + SLACK >= start


def load_truth(path: Path) -> list[TruePass]:
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        TruePass(r["pass_id"], r["camera_id"], r["plate"], datetime.fromisoformat(r["enter"]),
                 datetime.fromisoformat(r["leave"]))
        for r in rows
    ]  # fmt: skip


@dataclass
class PassMatch:
    passes: list[TruePass]
    reads_of: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # pass id → reads

    @property
    def found(self) -> list[TruePass]:
        return [p for p in self.passes if self.reads_of.get(p.pass_id)]

    @property
    def missed(self) -> list[TruePass]:
        return [p for p in self.passes if not self.reads_of.get(p.pass_id)]

    def duplicates(self) -> int:
        """Reads beyond one per pass."""
        return sum(max(0, len(r) - 1) for r in self.reads_of.values())

    def split_duplicates(self, worker_a: str, worker_b: str) -> tuple[int, int]:
        """(duplicates from one worker process alone, passes read by both `worker_a` and `worker_b`)."""
        same = across = 0
        for reads in self.reads_of.values():
            workers = [r.get("worker") for r in reads]
            if worker_a in workers and worker_b in workers:
                across += 1
            same += sum(max(0, workers.count(w) - 1) for w in set(workers))
        return same, across


def match(passes: list[TruePass], reads: list[dict[str, Any]]) -> PassMatch:
    by_camera: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for read in {r["read_id"]: r for r in reads}.values():
        by_camera[read["camera_id"]].append(read)
    result = PassMatch(passes)
    for p in passes:
        result.reads_of[p.pass_id] = [
            r for r in by_camera.get(p.camera_id, [])
            if p.overlaps(datetime.fromisoformat(r["first_seen"]), datetime.fromisoformat(r["last_seen"]))
        ]  # fmt: skip
    return result
