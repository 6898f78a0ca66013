"""Retention against the real node: what is past its period goes, everything else stays."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch, helpers

from anpr.launcher import Process, anpr_command
from anpr_core.elastic.indices import alerts_index, audit_pattern, corrections_index, deliveries_index
from anpr_core.elastic.mappings import ensure_indices
from anpr_core.settings import Settings, load_settings
from indexer.retention import Cutoffs, compute_cutoffs, run_retention

pytestmark = pytest.mark.es

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
# Default retention: reads 30 days → 2026-10-24 10:30; alerts 365 → 2025-11-23 10:30;
# audit 730 → 2024-11-23 10:30.
RETENTION = {"read_days": 30, "alert_days": 365, "audit_days": 730}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_cutoffs_are_exact_instants_from_the_settings() -> None:
    settings = load_settings(retention=RETENTION)
    assert compute_cutoffs(settings.retention, NOW) == Cutoffs(
        reads=at("2026-10-24T10:30"), alerts=at("2025-11-23T10:30"), audit=at("2024-11-23T10:30")
    )
    with pytest.raises(ValueError):
        compute_cutoffs(settings.retention, datetime(2026, 11, 23))


@dataclass
class World:
    prefix: str
    other: str
    settings: Settings
    crops: Path


@pytest.fixture()
def world(
    es_client: Elasticsearch, es_settings: Settings, test_index_prefix: str, tmp_path: Path
) -> Iterator[World]:
    prefix = f"{test_index_prefix}-rt{uuid.uuid4().hex[:6]}"
    other = f"{prefix}x"  # another deployment whose prefix starts with ours
    es = es_settings.elasticsearch
    settings = load_settings(
        elasticsearch={"url": es.url, "password": es.password, "index_prefix": prefix},
        paths={"var_dir": tmp_path / "var"},
        retention=RETENTION,
    )
    ensure_indices(es_client, prefix)
    _seed_elasticsearch(es_client, prefix, other)
    _seed_crops(settings.paths.crops)
    yield World(prefix, other, settings, settings.paths.crops)
    for name in es_client.indices.get(index=f"{prefix}*", expand_wildcards="all").body:
        es_client.indices.delete(index=name)
    es_client.indices.delete_index_template(name=f"{prefix}-api-*")


def _read(read_id: str, best_seen: str, crop_ref: str | None = None) -> dict[str, object]:
    return {
        "read_id": read_id,
        "plate": "12가3456",
        "camera_id": "C01",
        "best_seen": best_seen,
        "crop_ref": crop_ref,
    }


def _seed_elasticsearch(client: Elasticsearch, p: str, other: str) -> None:
    docs: list[tuple[str, str, dict[str, object]]] = [
        # read indices (monthly): two whole months past, the boundary month, the current one
        (f"{p}-reads-2026.08", "r8", _read("r8", "2026-08-15T09:00:00Z")),
        (f"{p}-reads-2026.09", "r0", _read("r0", "2026-09-30T23:59:59Z", "2026/09/30/r0.jpg")),
        (f"{p}-reads-2026.10", "r1", _read("r1", "2026-10-22T09:00:00Z", "2026/10/22/r1.jpg")),
        (f"{p}-reads-2026.10", "r2", _read("r2", "2026-10-23T23:59:59Z", "2026/10/23/r2.jpg")),
        (f"{p}-reads-2026.10", "r3", _read("r3", "2026-10-24T10:29:59Z", "2026/10/24/r3.jpg")),
        (f"{p}-reads-2026.10", "r4", _read("r4", "2026-10-24T10:30:00Z", "2026/10/24/r4.jpg")),
        (f"{p}-reads-2026.10", "r5", _read("r5", "2026-10-25T00:00:00Z", "2026/10/25/r5.jpg")),
        (f"{p}-reads-2026.11", "r6", _read("r6", "2026-11-23T10:00:00Z", "2026/11/23/r6.jpg")),
        # look-alikes: not a monthly read index of this prefix, must never be touched
        (f"{p}-reads-2026.09-restored", "r7", _read("r7", "2026-09-01T09:00:00Z")),
        (f"{other}-reads-2026.09", "o1", {"best_seen": "2026-09-01T09:00:00Z"}),
        # alerts
        (alerts_index(p), "a1", {"alert_id": "a1", "created_at": "2025-11-01T00:00:00Z"}),
        (alerts_index(p), "a2", {"alert_id": "a2", "created_at": "2025-11-23T10:29:00Z"}),
        (alerts_index(p), "a3", {"alert_id": "a3", "created_at": "2025-11-23T10:31:00Z"}),
        (alerts_index(p), "a4", {"alert_id": "a4", "created_at": "2026-11-01T00:00:00Z"}),
        (alerts_index(other), "oa", {"alert_id": "oa", "created_at": "2020-01-01T00:00:00Z"}),
        # the alert outbox goes with the alerts; read corrections with the reads
        (
            deliveries_index(p),
            "d1",
            {"alert_id": "a1", "state": "delivered", "created_at": "2025-11-01T00:00:00Z"},
        ),
        (
            deliveries_index(p),
            "d4",
            {"alert_id": "a4", "state": "delivered", "created_at": "2026-11-01T00:00:00Z"},
        ),
        (corrections_index(p), "c1", {"read_id": "r1", "at": "2026-10-01T00:00:00Z"}),
        (corrections_index(p), "c6", {"read_id": "r6", "at": "2026-11-23T10:00:00Z"}),
        # audit months: two whole months past, the boundary month, recent ones, look-alikes
        (f"{p}-audit-2024.09", "u1", {"at": "2024-09-15T00:00:00Z", "user": "kim"}),
        (f"{p}-audit-2024.10", "u2", {"at": "2024-10-31T23:59:59Z", "user": "kim"}),
        (f"{p}-audit-2024.11", "u3", {"at": "2024-11-10T00:00:00Z", "user": "kim"}),
        (f"{p}-audit-2024.11", "u4", {"at": "2024-11-30T00:00:00Z", "user": "kim"}),
        (f"{p}-audit-2024.12", "u5", {"at": "2024-12-01T00:00:00Z", "user": "kim"}),
        (f"{p}-audit-2026.11", "u6", {"at": "2026-11-20T00:00:00Z", "user": "kim"}),
        (f"{p}-audit-archive", "u7", {"at": "2020-01-01T00:00:00Z", "user": "kim"}),
        (f"{other}-audit-2020.01", "ou", {"at": "2020-01-01T00:00:00Z", "user": "kim"}),
    ]
    actions = [{"_index": index, "_id": doc_id, "_source": source} for index, doc_id, source in docs]
    helpers.bulk(client, actions, refresh=True)


OLD_CROPS = ["2025/12/31/r0.jpg", "2026/09/30/r0.jpg", "2026/10/22/r1.jpg", "2026/10/23/r2.jpg"]
BOUNDARY_CROPS = [
    "2026/10/24/r3.jpg",
    "2026/10/24/r4.jpg",
    "2026/10/24/orphan-old.jpg",
    "2026/10/24/orphan-new.jpg",
]
RECENT_CROPS = ["2026/10/25/r5.jpg", "2026/11/23/r6.jpg"]
FOREIGN_FILES = ["README.txt", "exports/2020/01/01/x.jpg", "2026/notes.txt"]


def _seed_crops(root: Path) -> None:
    for ref in OLD_CROPS + BOUNDARY_CROPS + RECENT_CROPS + FOREIGN_FILES:
        path = root / ref
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8jpeg")
    # A crop with no read in the index (not indexed yet, or lost) written before the cut-off.
    old = at("2026-10-24T08:00").timestamp()
    os.utime(root / "2026/10/24/orphan-old.jpg", (old, old))
    os.utime(root / "exports/2020/01/01/x.jpg", (old, old))


def _indices(client: Elasticsearch, pattern: str) -> set[str]:
    return set(client.indices.get(index=pattern, expand_wildcards="all").body)


def _ids(client: Elasticsearch, index: str) -> set[str]:
    client.indices.refresh(index=index)
    hits = client.search(index=index, size=100, query={"match_all": {}})["hits"]["hits"]
    return {h["_id"] for h in hits}


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


EXPECTED_COUNTS = {
    "read_indices": 2,
    "reads": 3,
    "crop_dirs": 4,
    "crop_files": 6,
    "alerts": 2,
    "deliveries": 1,
    "corrections": 1,
    "audit_indices": 2,
    "audit_records": 1,
}


def test_retention_removes_exactly_what_is_past_its_period(
    es_client: Elasticsearch, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    p, other = world.prefix, world.other
    with caplog.at_level(logging.INFO, logger="indexer.retention"):
        report = run_retention(es_client, world.settings, clock=lambda: NOW)

    assert report.errors == []
    assert report.counts() == EXPECTED_COUNTS
    assert report.read_indices == [f"{p}-reads-2026.08", f"{p}-reads-2026.09"]
    assert report.audit_indices == [f"{p}-audit-2024.09", f"{p}-audit-2024.10"]

    # Reads: whole past months gone, the boundary month keeps only what is not older than the cut-off.
    assert _indices(es_client, f"{p}-reads-*") == {
        f"{p}-reads-2026.10", f"{p}-reads-2026.11", f"{p}-reads-2026.09-restored",
    }  # fmt: skip
    assert _ids(es_client, f"{p}-reads-2026.10") == {"r4", "r5"}
    assert _segments(es_client, f"{p}-reads-2026.10") == 1  # an ended month, merged after the deletions
    assert _ids(es_client, f"{p}-reads") == {"r4", "r5", "r6", "r7"}  # the alias still serves the rest
    # Alerts and audit: by their own, longer periods.
    assert _ids(es_client, alerts_index(p)) == {"a3", "a4"}
    assert _ids(es_client, deliveries_index(p)) == {"d4"}
    assert _ids(es_client, corrections_index(p)) == {"c6"}
    assert _indices(es_client, f"{p}-audit-*") == {
        f"{p}-audit-2024.11", f"{p}-audit-2024.12", f"{p}-audit-2026.11", f"{p}-audit-archive",
    }  # fmt: skip
    assert _ids(es_client, f"{p}-audit-2024.11") == {"u4"}
    assert _ids(es_client, f"{p}-audit-archive") == {"u7"}
    # Another prefix is another deployment's data.
    assert _ids(es_client, f"{other}-reads-2026.09") == {"o1"}
    assert _ids(es_client, alerts_index(other)) == {"oa"}
    assert _ids(es_client, f"{other}-audit-2020.01") == {"ou"}

    # Crops: past days' folders gone (and months/years left empty), boundary day by the exact cut-off.
    assert _files(world.crops) == {
        "2026/10/24/r4.jpg", "2026/10/24/orphan-new.jpg", *RECENT_CROPS, *FOREIGN_FILES,
    }  # fmt: skip
    assert not (world.crops / "2025").exists()
    assert not (world.crops / "2026/09").exists()
    assert (world.crops / "2026/10").is_dir()

    # One audit record says what retention removed, in the audit index of the current month.
    es_client.indices.refresh(index=audit_pattern(p))
    hits = es_client.search(index=audit_pattern(p), query={"term": {"user": "system:retention"}})["hits"][
        "hits"
    ]
    assert len(hits) == 1
    record = hits[0]
    assert record["_index"] == f"{p}-audit-2026.11"
    assert record["_source"]["endpoint"] == "retention"
    assert record["_source"]["outcome"] == "allowed"
    assert record["_source"]["result_count"] == sum(EXPECTED_COUNTS.values())
    detail = json.loads(record["_source"]["query"])
    assert detail["counts"] == EXPECTED_COUNTS
    assert detail["read_indices"] == report.read_indices
    assert detail["cutoffs"]["reads"] == "2026-10-24T10:30:00+00:00"

    # Logs: one line per thing removed, then a summary.
    removed = [
        (r.kind, getattr(r, "index", None) or r.path)  # type: ignore[attr-defined]
        for r in caplog.records
        if hasattr(r, "kind") and r.kind != "merge"  # type: ignore[attr-defined]  # not a removal
    ]
    assert sorted(removed) == sorted(
        [
            ("read index", f"{p}-reads-2026.08"),
            ("read index", f"{p}-reads-2026.09"),
            ("reads", f"{p}-reads-2026.10"),
            ("crop folder", "2025/12/31"),
            ("crop folder", "2026/09/30"),
            ("crop folder", "2026/10/22"),
            ("crop folder", "2026/10/23"),
            ("crops", "2026/10/24"),
            ("alerts", alerts_index(p)),
            ("alert deliveries", deliveries_index(p)),
            ("corrections", corrections_index(p)),
            ("audit index", f"{p}-audit-2024.09"),
            ("audit index", f"{p}-audit-2024.10"),
            ("audit records", f"{p}-audit-2024.11"),
        ]
    )
    summary = [r for r in caplog.records if r.getMessage() == "retention done"]
    assert len(summary) == 1 and summary[0].reads == 3  # type: ignore[attr-defined]

    # A second run finds nothing more to remove.
    again = run_retention(es_client, world.settings, clock=lambda: NOW)
    assert again.errors == [] and not again.removed_anything


def _segments(client: Elasticsearch, index: str) -> int:
    return len(client.cat.segments(index=index, format="json", h="index"))


def test_ended_months_are_merged_to_one_segment_and_the_current_month_is_not(
    es_client: Elasticsearch, world: World
) -> None:
    p = world.prefix
    october, november = f"{p}-reads-2026.10", f"{p}-reads-2026.11"
    for index, day in ((october, "2026-10-30"), (november, "2026-11-20")):
        for i in range(3):  # each refresh writes one more segment
            doc = _read(f"s{i}", f"{day}T0{i}:00:00Z")
            es_client.index(index=index, id=f"s{i}", document=doc, refresh=True)
    assert _segments(es_client, october) > 1 and _segments(es_client, november) > 1

    report = run_retention(es_client, world.settings, clock=lambda: NOW)

    assert report.errors == []
    assert report.merged_indices == [october]  # September was deleted whole; November is being written
    assert _segments(es_client, october) == 1
    assert _segments(es_client, november) > 1
    assert _ids(es_client, october) == {"r4", "r5", "s0", "s1", "s2"}  # merging keeps every live read
    assert run_retention(es_client, world.settings, clock=lambda: NOW).merged_indices == []


def test_dry_run_reports_the_same_and_deletes_nothing(es_client: Elasticsearch, world: World) -> None:
    p = world.prefix
    indices_before = _indices(es_client, f"{world.prefix}*")
    files_before = _files(world.crops)

    report = run_retention(es_client, world.settings, dry_run=True, clock=lambda: NOW)

    assert report.dry_run and report.errors == []
    assert report.counts() == EXPECTED_COUNTS
    assert sorted(report.crop_dirs) == ["2025/12/31", "2026/09/30", "2026/10/22", "2026/10/23"]
    assert _indices(es_client, f"{world.prefix}*") == indices_before
    assert _files(world.crops) == files_before
    assert _ids(es_client, f"{p}-reads-2026.10") == {"r1", "r2", "r3", "r4", "r5"}
    assert _ids(es_client, alerts_index(p)) == {"a1", "a2", "a3", "a4"}
    assert _ids(es_client, f"{p}-audit-2024.11") == {"u3", "u4"}
    # Nothing was removed, so nothing is audited.
    assert _ids(es_client, f"{p}-audit-2026.11") == {"u6"}


def test_cli_every_runs_then_stops_cleanly_on_sigterm(
    es_client: Elasticsearch, world: World, tmp_path: Path
) -> None:
    settings = world.settings
    password = settings.elasticsearch.password
    env = {
        **os.environ,
        "ANPR_ELASTICSEARCH__URL": str(settings.elasticsearch.url),
        "ANPR_ELASTICSEARCH__PASSWORD": password.get_secret_value() if password else "",
        "ANPR_ELASTICSEARCH__INDEX_PREFIX": world.prefix,
        "ANPR_PATHS__VAR_DIR": str(settings.paths.var_dir),
    }
    service = Process("retention", anpr_command("retention", "--every", "3600"), env=env, log_dir=tmp_path)
    service.start()

    def summary() -> dict[str, object] | None:
        lines = [
            json.loads(line) for line in service.log_path.read_text().splitlines() if line.startswith("{")
        ]
        return next((line for line in lines if line.get("msg") == "retention done"), None)

    try:
        service.wait_ready(lambda: summary() is not None, 120, "the first retention run")
        done = summary()
        assert done is not None and done["service"] == "anpr-retention"
        assert done["errors"] == 0 and int(str(done["read_indices"])) >= 2  # against the real clock
        assert service.stop(grace_s=20) == 0  # SIGTERM: a clean stop, not the SIGKILL after the grace
    finally:
        service.stop(grace_s=5)
    assert f"{world.prefix}-reads-2026.09" not in _indices(es_client, f"{world.prefix}-reads-*")
    assert _ids(es_client, f"{world.other}-reads-2026.09") == {"o1"}
    es_client.indices.refresh(index=audit_pattern(world.prefix))
    audited = es_client.count(index=audit_pattern(world.prefix), query={"term": {"user": "system:retention"}})
    assert audited["count"] == 1
