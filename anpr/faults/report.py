"""One result per scenario and the table the suite prints."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Target:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class ScenarioResult:
    scenario: str
    journal_reads: int = 0
    es_docs: int = 0
    lost: int = 0
    duplicates: int = 0
    reconnect_s: float | None = None
    seconds: float = 0.0
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.targets) and bool(self.targets)

    def check(self, name: str, ok: bool, detail: str = "", on_failure: str = "") -> None:
        """Record a target; `on_failure` (e.g. a log tail) is shown only when it is missed."""
        self.targets.append(Target(name, ok, detail if ok or not on_failure else f"{detail}\n{on_failure}"))


COLUMNS = ("scenario", "reads in journal", "in ES", "lost", "duplicates", "reconnect s", "wall s", "result")


def table(results: list[ScenarioResult]) -> str:
    rows = [COLUMNS] + [
        (
            r.scenario,
            f"{r.journal_reads:,}",
            f"{r.es_docs:,}",
            str(r.lost),
            str(r.duplicates),
            "—" if r.reconnect_s is None else f"{r.reconnect_s:.2f}",
            f"{r.seconds:.0f}",
            "ok" if r.ok else "FAILED",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def details(result: ScenarioResult) -> str:
    lines = [f"[{result.scenario}]"]
    lines += [
        f"  {'ok  ' if t.ok else 'MISS'} {t.name}{': ' + t.detail if t.detail else ''}"
        for t in result.targets
    ]
    lines += [f"  · {note}" for note in result.notes]
    return "\n".join(lines)
