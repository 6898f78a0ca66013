"""`anpr retention`: delete what has outlived its retention period (PIPA), and say so.

Plate reads and their crop images are kept ``retention.read_days`` (default 30), alerts
``retention.alert_days`` (365), audit records ``retention.audit_days`` (≥ 730). One run:

- read indices (one per UTC month) whose whole month is older than the cut-off are deleted; in
  the boundary month's index the reads with ``best_seen`` before the exact cut-off are deleted by
  query (about one day's reads per daily run);
- crop folders (``crops/YYYY/MM/DD``) of days older than the cut-off are deleted; on the boundary
  day, the crops of the reads deleted by query and any crop written before the cut-off go too;
- alerts with ``created_at`` before their cut-off are deleted by query, and so are their outbox
  entries (``<prefix>-deliveries``, which carry the alert); read corrections
  (``<prefix>-corrections``, with the plates) go with the reads, by ``at`` before the read cut-off
  (the audit records of the corrections stay for the audit period);
- monthly audit indices whose whole month is older than the audit cut-off are deleted; in the
  boundary month's index the records before the cut-off are deleted by query.

Then the read indices of months that have ended (no reads are written to them any more) are
force-merged to one segment, as an ILM "warm" phase would: a route or search then does one term
lookup per month instead of one per segment (docs/benchmarks.md, search API).

"By query" is a range query scrolled and bulk-deleted by id: it works on every distribution,
including the local integ-test node that has no ``_delete_by_query`` (reindex module).

Only names of the project's own patterns for the configured prefix are touched (matched exactly,
not by wildcard). Every removal is logged (one line per index, crop folder or query, with
counts; never a plate), then a summary, and one audit record says what retention removed.
``dry_run`` counts and logs what would go and deletes nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, Elasticsearch, helpers
from elasticsearch.helpers import ScanError

from anpr_core.elastic.indices import (
    alerts_index,
    audit_index,
    corrections_index,
    deliveries_index,
    reads_index,
)
from anpr_core.settings import RetentionSettings, Settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# A boundary month's expired reads (≈ 100k–400k a day) are a long scroll; one page may be slow under load.
_QUERY_TIMEOUT_S = 300
_BATCH = 5000
# Merging a month of reads (a few GB) to one segment takes minutes on a small node.
_MERGE_TIMEOUT_S = 3600


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Cutoffs:
    """Everything strictly before these instants has expired."""

    reads: datetime
    alerts: datetime
    audit: datetime


def compute_cutoffs(retention: RetentionSettings, now: datetime) -> Cutoffs:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    return Cutoffs(
        reads=now - timedelta(days=retention.read_days),
        alerts=now - timedelta(days=retention.alert_days),
        audit=now - timedelta(days=retention.audit_days),
    )


@dataclass
class RetentionReport:
    """What one run removed (or, with ``dry_run``, would remove)."""

    now: datetime
    cutoffs: Cutoffs
    dry_run: bool = False
    read_indices: list[str] = field(default_factory=list)
    reads: int = 0  # documents deleted by query from the boundary month's index
    crop_dirs: list[str] = field(default_factory=list)  # whole days, relative to the crop root
    crop_files: int = 0  # every crop file, in whole days and on the boundary day
    alerts: int = 0
    deliveries: int = 0  # alert outbox entries (webhook / MQTT delivery states with the alert)
    corrections: int = 0
    audit_indices: list[str] = field(default_factory=list)
    audit_records: int = 0  # deleted by query from the boundary month's index
    errors: list[str] = field(default_factory=list)
    # Not a removal: read indices of ended months merged to one segment (see merge_ended_months).
    merged_indices: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "read_indices": len(self.read_indices),
            "reads": self.reads,
            "crop_dirs": len(self.crop_dirs),
            "crop_files": self.crop_files,
            "alerts": self.alerts,
            "deliveries": self.deliveries,
            "corrections": self.corrections,
            "audit_indices": len(self.audit_indices),
            "audit_records": self.audit_records,
        }

    @property
    def removed_anything(self) -> bool:
        return any(self.counts().values())

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["now"] = self.now.isoformat()
        data["cutoffs"] = {k: v.isoformat() for k, v in asdict(self.cutoffs).items()}
        data["counts"] = self.counts()
        return data


# --- which indices are ours, and when they end ------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _matching(client: Elasticsearch, prefix: str, kind: str, regex: str) -> dict[str, re.Match[str]]:
    """Concrete indices named exactly ``{prefix}-{kind}-<regex>``; aliases and look-alikes are ignored."""
    exact = re.compile(rf"^{re.escape(prefix)}-{kind}-{regex}$")
    indices = client.indices.get(
        index=f"{prefix}-{kind}-*",
        expand_wildcards=["open", "closed"],
        allow_no_indices=True,
        features=["settings"],
    )
    found: dict[str, re.Match[str]] = {}
    for name in indices.body:  # concrete index names, even where the wildcard matched an alias
        match = exact.match(name)
        if match:
            found[name] = match
    return found


def _monthly_indices(
    client: Elasticsearch, prefix: str, kind: str, name_of: Callable[[str, date], str]
) -> dict[str, date]:
    """The prefix's monthly ``kind`` indices and the first day of their month."""
    months: dict[str, date] = {}
    for name, m in _matching(client, prefix, kind, r"(\d{4})\.(\d{2})").items():
        try:
            first = date(int(m[1]), int(m[2]), 1)
        except ValueError:
            log.warning("retention skips an index with an impossible date", extra={"index": name})
            continue
        # Keep only names the service itself would have made for that month.
        if name_of(prefix, first) == name:
            months[name] = first
    return months


def read_index_months(client: Elasticsearch, prefix: str) -> dict[str, date]:
    """The prefix's monthly read indices and the first day of their month."""
    return _monthly_indices(client, prefix, "reads", reads_index)


def audit_index_months(client: Elasticsearch, prefix: str) -> dict[str, date]:
    """The prefix's monthly audit indices and the first day of their month."""
    return _monthly_indices(client, prefix, "audit", audit_index)


# --- Elasticsearch deletions ------------------------------------------------------------------


def _delete_index(client: Elasticsearch, name: str, kind: str, report: RetentionReport) -> bool:
    verb = "would remove" if report.dry_run else "removed"
    if not report.dry_run:
        try:
            client.indices.delete(index=name)
        except ApiError as exc:
            report.errors.append(f"delete index {name}: {exc}")
            log.error(
                "retention could not delete an index", extra={"kind": kind, "index": name, "error": str(exc)}
            )
            return False
    log.info(f"retention {verb} {kind}", extra={"kind": kind, "index": name, "dry_run": report.dry_run})
    return True


def _expired(client: Elasticsearch, index: str, field_name: str, cutoff: datetime, source: list[str]) -> Any:
    body = {"query": {"range": {field_name: {"lt": cutoff.isoformat()}}}, "_source": source or False}
    return helpers.scan(client, index=index, query=body, size=_BATCH, ignore_unavailable=True)


def _delete_older(
    client: Elasticsearch,
    index: str,
    field_name: str,
    cutoff: datetime,
    kind: str,
    report: RetentionReport,
    crop_refs: set[str] | None = None,
) -> int:
    """Delete (or count) the documents of one index whose ``field_name`` is before ``cutoff``.

    Scroll + bulk delete by id rather than ``_delete_by_query``, which lives in the reindex
    module that some distributions (the integ-test one the project runs locally) do not ship.
    A document indexed behind the scroll's snapshot is simply left for the next run.
    """
    es = client.options(request_timeout=_QUERY_TIMEOUT_S)
    files = ["crop_ref", "frame_ref"]  # a read's plate crop and its small frame of the pass
    hits = _expired(es, index, field_name, cutoff, files if crop_refs is not None else [])

    def each_hit() -> Iterator[dict[str, Any]]:
        for hit in hits:
            source = hit.get("_source") or {}
            if crop_refs is not None:
                crop_refs.update(str(source[f]) for f in files if source.get(f))
            yield hit

    removed = 0
    try:
        if report.dry_run:
            removed = sum(1 for _ in each_hit())
        else:
            actions = ({"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]} for h in each_hit())
            for ok, item in helpers.streaming_bulk(es, actions, chunk_size=_BATCH, raise_on_error=False):
                result = item.get("delete", {})
                if ok and result.get("result") == "deleted":
                    removed += 1
                elif result.get("status") != 404:  # already gone is what we wanted
                    report.errors.append(f"delete from {index}: {result.get('error', result)}")
            if removed:
                es.indices.refresh(index=index)
    except (ApiError, ScanError) as exc:
        report.errors.append(f"delete from {index}: {exc}")
        log.error("retention query failed", extra={"kind": kind, "index": index, "error": str(exc)})
    if removed:
        verb = "would remove" if report.dry_run else "removed"
        log.info(
            f"retention {verb} {kind} by query",
            extra={"kind": kind, "index": index, "before": cutoff.isoformat(), "count": removed,
                   "dry_run": report.dry_run},
        )  # fmt: skip
    return removed


def expire_reads(client: Elasticsearch, prefix: str, cutoff: datetime, report: RetentionReport) -> set[str]:
    """Delete expired read indices and boundary-month reads; return the deleted reads' crop and
    frame refs."""
    crop_refs: set[str] = set()
    for name, first in sorted(read_index_months(client, prefix).items(), key=lambda item: item[1]):
        start, end = _day_start(first), _day_start(_next_month(first))
        if end <= cutoff:
            if _delete_index(client, name, "read index", report):
                report.read_indices.append(name)
        elif start < cutoff:
            report.reads += _delete_older(client, name, "best_seen", cutoff, "reads", report, crop_refs)
    return crop_refs


def merge_ended_months(client: Elasticsearch, prefix: str, now: datetime, report: RetentionReport) -> None:
    """Force-merge to one segment each read index whose month ended before ``now``.

    Runs after the deletions, so the boundary month's deleted reads are merged away once; an
    index already at one segment is left alone, so a daily run merges each month about once.
    """
    ended = [
        name
        for name, first in read_index_months(client, prefix).items()
        if _day_start(_next_month(first)) <= now
    ]
    if not ended:
        return
    counts: dict[str, int] = {}
    for row in client.cat.segments(index=",".join(ended), format="json", h="index"):
        counts[row["index"]] = counts.get(row["index"], 0) + 1
    verb = "would merge" if report.dry_run else "merged"
    for name in sorted(n for n in ended if counts.get(n, 0) > 1):
        if not report.dry_run:
            try:
                client.options(request_timeout=_MERGE_TIMEOUT_S).indices.forcemerge(
                    index=name, max_num_segments=1
                )
            except ApiError as exc:
                report.errors.append(f"merge {name}: {exc}")
                log.error("retention could not merge an index", extra={"index": name, "error": str(exc)})
                continue
        report.merged_indices.append(name)
        log.info(
            f"retention {verb} a read index of an ended month",
            extra={"kind": "merge", "index": name, "segments": counts[name], "dry_run": report.dry_run},
        )


def expire_alerts(client: Elasticsearch, prefix: str, cutoff: datetime, report: RetentionReport) -> None:
    report.alerts += _delete_older(client, alerts_index(prefix), "created_at", cutoff, "alerts", report)
    report.deliveries += _delete_older(
        client, deliveries_index(prefix), "created_at", cutoff, "alert deliveries", report
    )


def expire_corrections(client: Elasticsearch, prefix: str, cutoff: datetime, report: RetentionReport) -> None:
    report.corrections += _delete_older(
        client, corrections_index(prefix), "at", cutoff, "corrections", report
    )


def expire_audit(client: Elasticsearch, prefix: str, cutoff: datetime, report: RetentionReport) -> None:
    for name, first in sorted(audit_index_months(client, prefix).items(), key=lambda item: item[1]):
        start, end = _day_start(first), _day_start(_next_month(first))
        if end <= cutoff:
            if _delete_index(client, name, "audit index", report):
                report.audit_indices.append(name)
        elif start < cutoff:
            report.audit_records += _delete_older(client, name, "at", cutoff, "audit records", report)


# --- crop files ---------------------------------------------------------------------------------

_YEAR, _TWO = re.compile(r"^\d{4}$"), re.compile(r"^\d{2}$")


def _dated_dirs(root: Path, pattern: re.Pattern[str]) -> Iterable[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and pattern.match(p.name))


def crop_days(root: Path) -> dict[Path, date]:
    """The crop store's day folders (``YYYY/MM/DD``); anything else under the root is not ours."""
    days: dict[Path, date] = {}
    if not root.is_dir():
        return days
    for year in _dated_dirs(root, _YEAR):
        for month in _dated_dirs(year, _TWO):
            for day in _dated_dirs(month, _TWO):
                try:
                    days[day] = date(int(year.name), int(month.name), int(day.name))
                except ValueError:
                    continue
    return days


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() or p.is_symlink()]


def _boundary_crops(folder: Path, root: Path, cutoff: datetime, refs: set[str]) -> list[Path]:
    """Crops of the boundary day that have expired: those of expired reads, and any file written
    before the cut-off (a crop is written after its read's best frame, so that is never early)."""
    expired = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.is_symlink():
            continue
        ref = path.relative_to(root).as_posix()
        written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        if ref in refs or written < cutoff:
            expired.append(path)
    return expired


def expire_crops(root: Path, cutoff: datetime, refs: set[str], report: RetentionReport) -> None:
    verb = "would remove" if report.dry_run else "removed"
    for folder, day in crop_days(root).items():
        start, end = _day_start(day), _day_start(day + timedelta(days=1))
        relative = folder.relative_to(root).as_posix()
        if end <= cutoff:
            count = len(_files(folder))
            if not report.dry_run:
                try:
                    shutil.rmtree(folder)
                except OSError as exc:
                    report.errors.append(f"crop folder {relative}: {exc}")
                    log.error("retention could not delete crops", extra={"path": relative, "error": str(exc)})
                    continue
            report.crop_dirs.append(relative)
            report.crop_files += count
            log.info(
                f"retention {verb} crop folder",
                extra={"kind": "crop folder", "path": relative, "count": count, "dry_run": report.dry_run},
            )
        elif start < cutoff:
            expired = _boundary_crops(folder, root, cutoff, refs)
            removed = 0
            for path in expired:
                if not report.dry_run:
                    try:
                        path.unlink()
                    except FileNotFoundError:
                        continue
                    except OSError as exc:
                        report.errors.append(f"crop {path.relative_to(root)}: {exc}")
                        continue
                removed += 1
            report.crop_files += removed
            if removed:
                log.info(
                    f"retention {verb} crops",
                    extra={"kind": "crops", "path": relative, "before": cutoff.isoformat(), "count": removed,
                           "dry_run": report.dry_run},
                )  # fmt: skip
    if not report.dry_run:
        _remove_empty_months(root, cutoff)


def _remove_empty_months(root: Path, cutoff: datetime) -> None:
    """Drop month and year folders left empty, but only those entirely past (workers write the rest)."""
    if not root.is_dir():
        return
    for year in _dated_dirs(root, _YEAR):
        for month in _dated_dirs(year, _TWO):
            try:
                first = date(int(year.name), int(month.name), 1)
            except ValueError:
                continue
            if _day_start(_next_month(first)) <= cutoff and not any(month.iterdir()):
                month.rmdir()
        if _day_start(date(int(year.name) + 1, 1, 1)) <= cutoff and not any(year.iterdir()):
            year.rmdir()


# --- the audit record of retention itself ---------------------------------------------------------


def audit_document(report: RetentionReport) -> dict[str, Any]:
    """Same fields as the API's access records (search_api/audit.py), written by the system."""
    removed = {
        "cutoffs": {k: v.isoformat() for k, v in asdict(report.cutoffs).items()},
        "counts": report.counts(),
        "read_indices": report.read_indices,
        "crop_dirs": report.crop_dirs,
        "audit_indices": report.audit_indices,
        "merged_indices": report.merged_indices,
        "errors": report.errors,
    }
    return {
        "at": report.now.isoformat(),
        "user": "system:retention",
        "role": "system",
        "endpoint": "retention",
        "method": "DELETE",
        "path": "anpr retention",
        "query": json.dumps(removed, ensure_ascii=False, sort_keys=True),
        "purpose": "retention period expired (PIPA): reads, crops, alerts and audit records past their days",
        "case_number": None,
        "result_count": sum(report.counts().values()),
        "status": 500 if report.errors else 200,
        "outcome": "error" if report.errors else "allowed",
        "client_address": None,
    }


def write_audit_record(client: Elasticsearch, prefix: str, report: RetentionReport) -> None:
    document = audit_document(report)
    try:
        client.index(index=audit_index(prefix, report.now.date()), document=document, refresh="wait_for")
    except ApiError as exc:
        report.errors.append(f"audit record: {exc}")
        # Like the API's audit log: a record that cannot be written is logged in full.
        log.error("audit-record %s", json.dumps(document, ensure_ascii=False))


# --- one run, and the command -----------------------------------------------------------------------


def run_retention(
    client: Elasticsearch, settings: Settings, *, dry_run: bool = False, clock: Clock = utc_now
) -> RetentionReport:
    """Delete everything past its retention period; return what was removed."""
    now = clock().astimezone(UTC)
    cutoffs = compute_cutoffs(settings.retention, now)
    prefix = settings.index_prefix
    report = RetentionReport(now=now, cutoffs=cutoffs, dry_run=dry_run)
    crop_refs = expire_reads(client, prefix, cutoffs.reads, report)
    expire_crops(settings.paths.crops, cutoffs.reads, crop_refs, report)
    expire_alerts(client, prefix, cutoffs.alerts, report)
    expire_corrections(client, prefix, cutoffs.reads, report)
    expire_audit(client, prefix, cutoffs.audit, report)
    merge_ended_months(client, prefix, now, report)
    if not dry_run:
        write_audit_record(client, prefix, report)
    log.info(
        "retention would remove" if dry_run else "retention done",
        extra={**report.counts(), "dry_run": dry_run, "errors": len(report.errors),
               "cutoffs": {k: v.isoformat() for k, v in asdict(cutoffs).items()}},
    )  # fmt: skip
    return report


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("retention", help="delete reads, crops, alerts and audit records past retention")
    parser.add_argument("--dry-run", action="store_true", help="report what would be removed; delete nothing")
    parser.add_argument(
        "--every", type=float, default=None, metavar="SECONDS",
        help="keep running, once every SECONDS (e.g. 86400); stops on SIGTERM/SIGINT",
    )  # fmt: skip


def run(args: argparse.Namespace, settings: Settings) -> int:
    from anpr_core.elastic.client import make_client
    from anpr_core.elastic.mappings import ensure_indices

    if args.every is not None and args.every <= 0:
        log.error("--every must be a positive number of seconds")
        return 2
    client = make_client(settings)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("retention stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    if args.every is not None:
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    status = 0
    while not stop.is_set():
        try:
            if not args.dry_run:
                ensure_indices(client, settings.index_prefix)  # the audit template, for our record
            report = run_retention(client, settings, dry_run=args.dry_run)
            status = 1 if report.errors else 0
            if args.every is None:
                print(json.dumps(report.as_dict(), ensure_ascii=False))
        except Exception:
            # A cluster outage must not end the loop; a single run reports failure.
            log.exception("retention run failed")
            status = 1
        if args.every is None:
            return status
        stop.wait(args.every)
    log.info("retention stopped")
    return 0
