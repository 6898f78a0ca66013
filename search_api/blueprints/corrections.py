"""People correct reads: a correction (or a confirmation), its audit trail, the review queue of
low-confidence reads, and the export of reviewed crops as recogniser training data.

Who may correct: investigators any read; operators the reads of alerts (what they confirm on
the board). A correction keeps the recogniser's text in ``original_plate`` and puts the person's
text in ``plate`` and its search fields, so searches and routes find the corrected text at once
(immediate refresh) and an exact search for the original text still finds the read. Every
correction is a document in ``<prefix>-corrections`` (who, role, when, original, corrected,
reason) and in the request's audit record. The indexer re-matches the watchlist on the
corrected text (indexer/corrections.py): a new hit raises an alert like any other.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from flask import Blueprint, Response, g, jsonify
from pydantic import Field

from anpr_core.elastic.indices import alerts_index, corrections_index, reads_alias
from anpr_core.plates import InvalidPlate, parse_plate, plate_search_fields
from search_api.context import services, set_audit_change, set_result_count
from search_api.errors import ApiError, field_error
from search_api.registry import endpoint
from search_api.roles import ADMINS, Role
from search_api.schemas import AccessReason, CameraId, Strict, TimeRange

bp = Blueprint("corrections", __name__, url_prefix="/api/v1")
READ_ID = {"read_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,80}$"}}
CORRECTORS = frozenset({Role.INVESTIGATOR, Role.OPERATOR})
REVIEWERS = frozenset({Role.INVESTIGATOR})
HISTORY_READERS = frozenset({Role.INVESTIGATOR, Role.ANALYST, Role.OPERATOR, Role.ADMIN})
REVIEW_FIELDS = ["read_id", "plate", "confidence", "camera_id", "best_seen", "crop_ref", "alternatives"]
MAX_EXPORT = 10_000  # one search page (index.max_result_window)


class CorrectionBody(Strict):
    plate: str = Field(min_length=2, max_length=24, description="the right text, e.g. 12가3456")
    reason: str = Field(min_length=2, max_length=500, description="why the read was wrong")


class ConfirmBody(Strict):
    reason: str = Field(default="", max_length=500)


class ReviewQuery(AccessReason, TimeRange):
    camera_id: list[CameraId] | None = None
    max_confidence: float = Field(default=0.8, gt=0, le=1, description="reads below this confidence")
    size: int = Field(default=50, ge=1, le=500)


class ExportQuery(TimeRange):
    pass


def _read(es: Elasticsearch, prefix: str, read_id: str) -> tuple[str, dict[str, Any]]:
    def find() -> list[dict[str, Any]]:
        return list(es.search(index=reads_alias(prefix), query={"ids": {"values": [read_id]}}, size=1,
                              ignore_unavailable=True, allow_no_indices=True)["hits"]["hits"])  # fmt: skip

    hits = find()
    if not hits:
        # An alert is searchable as soon as it is written, its read only after the next refresh
        # of the read indices: an operator correcting a fresh hit must not get "no such read".
        # Corrections are rare, so one explicit refresh on a miss costs nothing that matters.
        es.indices.refresh(index=reads_alias(prefix), ignore_unavailable=True, allow_no_indices=True)
        hits = find()
    if not hits:
        raise ApiError(404, "not_found", "no such read")
    return hits[0]["_index"], dict(hits[0]["_source"])


def _has_alert(es: Elasticsearch, prefix: str, read_id: str) -> bool:
    result = es.count(
        index=alerts_index(prefix), query={"term": {"read_id": read_id}}, ignore_unavailable=True
    )
    return int(result["count"]) > 0


def _may_touch(es: Elasticsearch, prefix: str, read_id: str) -> None:
    # Operators act on the alerts on their board, not on reads in general (least privilege).
    if g.user.role is Role.OPERATOR and not _has_alert(es, prefix, read_id):
        raise ApiError(403, "forbidden", "operators may correct only the reads of alerts")


def _record(
    es: Elasticsearch, prefix: str, read_index: str, source: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    correction_id = hashlib.blake2b(f"{source['read_id']}|{now}|{g.user.username}".encode(), digest_size=10)
    doc = {"correction_id": correction_id.hexdigest(), "read_id": source["read_id"], "read_index": read_index,
           "camera_id": source.get("camera_id"), "by": g.user.username, "role": g.user.role.value, "at": now,
           **fields}  # fmt: skip
    es.index(index=corrections_index(prefix), id=doc["correction_id"], document=doc, refresh="true")
    return doc


@endpoint(
    bp, "/reads/<read_id>/correction", method="POST", roles=CORRECTORS, body=CorrectionBody,
    path_params=READ_ID,
    summary="correct a read: the right text and why (original kept and still findable; watchlist re-matched)",
)  # fmt: skip
def correct(read_id: str, body: CorrectionBody) -> Response:
    ctx = services()
    _may_touch(ctx.es, ctx.prefix, read_id)
    try:
        plate = parse_plate(body.plate)
    except InvalidPlate as exc:
        raise field_error("plate", str(exc)) from None
    read_index, source = _read(ctx.es, ctx.prefix, read_id)
    if plate.text == source["plate"]:
        raise field_error("plate", "is what the read already says; confirm it instead")
    original = source.get("original_plate") or source["plate"]
    now = datetime.now(UTC).isoformat()
    update = {**plate_search_fields(plate), "original_plate": original, "corrected": True,
              "reviewed": "corrected", "reviewed_by": g.user.username, "reviewed_at": now}  # fmt: skip
    # An immediate refresh (not wait_for, up to a second): a person corrects a handful of reads,
    # and the corrected text must be searchable the moment the answer arrives.
    ctx.es.update(index=read_index, id=read_id, doc=update, refresh="true")
    record = _record(ctx.es, ctx.prefix, read_index, source, verdict="corrected", original_plate=original,
                     previous_plate=source["plate"], corrected_plate=plate.text, reason=body.reason,
                     rematched=False)  # fmt: skip
    set_result_count(1)
    set_audit_change(
        action="correct_read", read_id=read_id, before=source["plate"], after=plate.text,
        original=original, reason=body.reason, correction_id=record["correction_id"],
    )  # fmt: skip
    return jsonify(read_id=read_id, plate=plate.text, original_plate=original, correction=record)


@endpoint(
    bp, "/reads/<read_id>/confirm", method="POST", roles=CORRECTORS, body=ConfirmBody, path_params=READ_ID,
    summary="confirm that a read is right (it leaves the review queue; its crop becomes training data)",
)  # fmt: skip
def confirm(read_id: str, body: ConfirmBody) -> Response:
    ctx = services()
    _may_touch(ctx.es, ctx.prefix, read_id)
    read_index, source = _read(ctx.es, ctx.prefix, read_id)
    now = datetime.now(UTC).isoformat()
    update = {"reviewed": "confirmed", "reviewed_by": g.user.username, "reviewed_at": now}
    ctx.es.update(index=read_index, id=read_id, doc=update, refresh="true")
    record = _record(ctx.es, ctx.prefix, read_index, source, verdict="confirmed",
                     original_plate=source.get("original_plate") or source["plate"],
                     corrected_plate=source["plate"], reason=body.reason, rematched=True)  # fmt: skip
    set_result_count(1)
    set_audit_change(action="confirm_read", read_id=read_id, plate=source["plate"], reason=body.reason)
    return jsonify(read_id=read_id, plate=source["plate"], reviewed="confirmed", correction=record)


@endpoint(
    bp, "/reads/<read_id>/corrections", roles=HISTORY_READERS, path_params=READ_ID,
    summary="the audit trail of one read's corrections and confirmations, oldest first",
)  # fmt: skip
def history(read_id: str) -> Response:
    ctx = services()
    hits = ctx.es.search(index=corrections_index(ctx.prefix), query={"term": {"read_id": read_id}}, size=200,
                         sort=[{"at": "asc"}], ignore_unavailable=True)["hits"]["hits"]  # fmt: skip
    corrections = [hit["_source"] for hit in hits]
    set_result_count(len(corrections))
    return jsonify(read_id=read_id, corrections=corrections)


@endpoint(
    bp, "/review", roles=REVIEWERS, query=ReviewQuery,
    summary="the review queue: low-confidence reads nobody has confirmed or corrected, lowest first",
)  # fmt: skip
def review_queue(q: ReviewQuery) -> Response:
    ctx = services()
    filters: list[dict[str, Any]] = [{"range": {"confidence": {"lt": q.max_confidence}}}]
    if q.camera_id:
        filters.append({"terms": {"camera_id": q.camera_id}})
    if q.start or q.end:
        bounds = {k: v.isoformat() for k, v in (("gte", q.start), ("lte", q.end)) if v is not None}
        filters.append({"range": {"best_seen": bounds}})
    result = ctx.es.search(
        index=reads_alias(ctx.prefix), size=q.size, source=REVIEW_FIELDS,
        query={"bool": {"filter": filters, "must_not": [{"exists": {"field": "reviewed"}}]}},
        sort=[{"confidence": "asc"}, {"best_seen": "desc"}], ignore_unavailable=True, allow_no_indices=True,
    )  # fmt: skip
    reads = [hit["_source"] for hit in result["hits"]["hits"]]
    set_result_count(len(reads))
    return jsonify(reads=reads)


@endpoint(
    bp, "/review/export", roles=ADMINS, query=ExportQuery, produces=("application/zip",),
    summary="corrected and confirmed crops + texts as a zip in the layout of the plate data set (labels.csv)",
)  # fmt: skip
def export(q: ExportQuery) -> Response:
    ctx = services()
    filters: list[dict[str, Any]] = [{"exists": {"field": "reviewed"}}]
    if q.start or q.end:
        bounds = {k: v.isoformat() for k, v in (("gte", q.start), ("lte", q.end)) if v is not None}
        filters.append({"range": {"reviewed_at": bounds}})
    result = ctx.es.search(
        index=reads_alias(ctx.prefix), size=MAX_EXPORT, query={"bool": {"filter": filters}},
        source=["read_id", "plate", "format", "camera_id", "crop_ref", "reviewed"],
        sort=[{"reviewed_at": "asc"}],
        ignore_unavailable=True, allow_no_indices=True,
    )  # fmt: skip
    root = ctx.settings.paths.crops.resolve()
    buffer, labels = io.BytesIO(), io.StringIO()
    writer = csv.writer(labels, lineterminator="\n")
    writer.writerow(["file", "text", "format", "source"])
    count = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for hit in result["hits"]["hits"]:
            source = hit["_source"]
            path = (root / str(source.get("crop_ref") or "")).resolve()
            if not source.get("crop_ref") or not path.is_relative_to(root) or not Path(path).is_file():
                continue  # no crop (never stored, or gone with retention): nothing to train on
            count += 1
            name = f"r{count:06d}{path.suffix.lower() or '.jpg'}"
            archive.write(path, name)
            writer.writerow([name, source["plate"], source.get("format", ""),
                             f"anpr-{source['reviewed']}/{source.get('camera_id', '')}"])  # fmt: skip
        archive.writestr("labels.csv", labels.getvalue())
    set_result_count(count)
    set_audit_change(action="export_reviewed", crops=count)
    response = Response(buffer.getvalue(), mimetype="application/zip")
    response.headers["Content-Disposition"] = "attachment; filename=reviewed-plates.zip"
    return response
