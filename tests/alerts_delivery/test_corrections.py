"""An investigator sees a read is wrong and corrects it; searches and routes find the corrected
text at once, the original stays findable and in the audit trail, and the watchlist is matched
again on the corrected text. Operators see the crop of the hits they must confirm."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from elasticsearch import Elasticsearch
from flask import Flask
from flask.testing import FlaskClient

from anpr_core.elastic.indices import alerts_index, audit_pattern
from anpr_core.settings import Settings
from indexer.corrections import CorrectionRematcher
from indexer.outbox import DeliveryOutbox
from indexer.watchlist_matcher import WatchlistIndex
from search_api.audit import AuditLog
from tests.alerts_delivery.conftest import bearer, crop_file
from tests.alerts_delivery.helpers import a_read, clear_subscriptions, index_reads, watch

WHY = {"purpose": "수배", "case_number": "2026-아산-0042"}


def audit(app: Flask, es: Elasticsearch, prefix: str, endpoint: str) -> list[dict[str, Any]]:
    services = app.extensions["anpr"]
    audit_log: AuditLog = services.audit
    audit_log.flush(refresh=True)
    hits = es.search(index=audit_pattern(prefix), query={"term": {"endpoint": endpoint}}, size=100,
                     sort=[{"at": "desc"}])["hits"]["hits"]  # fmt: skip
    return [hit["_source"] for hit in hits]


def search(client: FlaskClient, tokens: dict[str, str], plate: str) -> list[dict[str, Any]]:
    response = client.get(
        "/api/v1/reads", query_string={"plate": plate, **WHY}, headers=bearer(tokens, "investigator")
    )
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["hits"])


def ingest(es: Elasticsearch, settings: Settings, tmp_path: Path, reads: list) -> None:
    clear_subscriptions(es, settings.index_prefix)
    outbox = DeliveryOutbox(es, settings.index_prefix, settings.webhooks)  # no subscription: nothing to send
    index_reads(es, settings.index_prefix, tmp_path / "journal", reads, outbox)
    es.indices.refresh(index=f"{settings.index_prefix}-reads")


def test_a_corrected_read_is_found_by_its_corrected_text_within_2_s_and_the_original_is_kept(
    dl_app: Flask, dl_tokens: dict[str, str], es_client: Elasticsearch, dl_settings: Settings, tmp_path: Path
) -> None:
    prefix = dl_settings.index_prefix
    wrong = a_read("98우1234", "cam-01", crop_ref="cam-01/98우1234.jpg")
    ingest(es_client, dl_settings, tmp_path, [wrong])
    investigator = bearer(dl_tokens, "investigator")
    with dl_app.test_client() as client:
        started = time.monotonic()
        fix = {"plate": "96우1234", "reason": "8 and 6 confused; crop is clear"}
        response = client.post(f"/api/v1/reads/{wrong.read_id}/correction", headers=investigator, json=fix)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["original_plate"] == "98우1234"
        found = [hit["read_id"] for hit in search(client, dl_tokens, "96우1234")]
        route = client.get(
            f"/api/v1/plates/{quote('96우1234')}/route", query_string=WHY, headers=investigator
        )
        elapsed = time.monotonic() - started
        assert wrong.read_id in found
        assert [s["read_id"] for s in route.get_json()["sightings"]] == [wrong.read_id]
        assert elapsed < 2.0
        # The recogniser's text still finds the read (e.g. a report made before the correction).
        assert wrong.read_id in [hit["read_id"] for hit in search(client, dl_tokens, "98우1234")]
        trail = client.get(f"/api/v1/reads/{wrong.read_id}/corrections", headers=investigator).get_json()
        (record,) = trail["corrections"]
        assert (record["original_plate"], record["corrected_plate"]) == ("98우1234", "96우1234")
        assert record["by"] == "investigator" and record["reason"] == fix["reason"]
        bad = client.post(f"/api/v1/reads/{wrong.read_id}/correction", headers=investigator,
                          json={"plate": "96우12", "reason": "typo"})  # fmt: skip
        assert bad.status_code == 400
        as_analyst = bearer(dl_tokens, "analyst")
        analyst = client.post(f"/api/v1/reads/{wrong.read_id}/correction", headers=as_analyst,
                              json={"plate": "96우1235", "reason": "no"})  # fmt: skip
        assert analyst.status_code == 403
    records = audit(dl_app, es_client, prefix, "corrections.correct")
    change = next(r["change"] for r in records if r["status"] == 200)
    assert "98우1234" in change and "96우1234" in change and "8 and 6 confused" in change


def test_the_watchlist_is_matched_again_on_the_corrected_text(
    dl_app: Flask, dl_tokens: dict[str, str], es_client: Elasticsearch, dl_settings: Settings, tmp_path: Path
) -> None:
    prefix = dl_settings.index_prefix
    watch(es_client, prefix, "45너6789")
    wrong = a_read("46머6709", "cam-02")  # too far from the wanted plate for any tolerant match
    ingest(es_client, dl_settings, tmp_path, [wrong])
    es_client.indices.refresh(index=alerts_index(prefix))
    assert (
        es_client.count(index=alerts_index(prefix), query={"term": {"read_id": wrong.read_id}})["count"] == 0
    )
    with dl_app.test_client() as client:
        fix = {"plate": "45너6789", "reason": "read in the rain; checked the crop"}
        response = client.post(
            f"/api/v1/reads/{wrong.read_id}/correction", headers=bearer(dl_tokens, "investigator"), json=fix
        )
        assert response.status_code == 200, response.get_json()
    entries = [h["_source"] for h in es_client.search(index=f"{prefix}-watchlist", size=1000)["hits"]["hits"]]
    rematcher = CorrectionRematcher(es_client, prefix, lambda: WatchlistIndex(entries))
    assert rematcher.rematch() == 1
    assert rematcher.rematch() == 0  # each correction is matched once
    es_client.indices.refresh(index=alerts_index(prefix))
    (alert,) = [h["_source"] for h in es_client.search(
        index=alerts_index(prefix), query={"term": {"read_id": wrong.read_id}})["hits"]["hits"]]  # fmt: skip
    assert alert["plate"] == "45너6789" and alert["match_kind"] == "exact" and alert["from_correction"]


def test_operators_see_the_crop_of_their_alerts_and_correct_only_those_reads(
    dl_app: Flask, dl_tokens: dict[str, str], es_client: Elasticsearch, dl_settings: Settings, tmp_path: Path
) -> None:
    prefix = dl_settings.index_prefix
    watch(es_client, prefix, "57서5757")
    hit = a_read("57서5757", "cam-01", crop_ref="cam-01/57서5757.jpg")
    other = a_read("11가1111", "cam-01", crop_ref="cam-01/11가1111.jpg")
    crop_file(dl_settings, hit.crop_ref or "")
    ingest(es_client, dl_settings, tmp_path, [hit, other])
    es_client.indices.refresh(index=alerts_index(prefix))
    (alert,) = [h["_source"] for h in es_client.search(
        index=alerts_index(prefix), query={"term": {"read_id": hit.read_id}})["hits"]["hits"]]  # fmt: skip
    operator = bearer(dl_tokens, "operator")
    with dl_app.test_client() as client:
        crop = client.get(f"/api/v1/alerts/{alert['alert_id']}/crop", headers=operator)
        assert crop.status_code == 200 and crop.mimetype.startswith("image/")
        assert crop.headers["Cache-Control"].startswith("no-store")
        assert client.get(f"/api/v1/alerts/{alert['alert_id']}/crop",
                          headers=bearer(dl_tokens, "analyst")).status_code == 403  # fmt: skip
        assert client.get("/api/v1/alerts/nope/crop", headers=operator).status_code == 404
        # Operators correct what they confirm on the board, not reads in general.
        mine = client.post(
            f"/api/v1/reads/{hit.read_id}/confirm", headers=operator, json={"reason": "crop matches"}
        )
        assert mine.status_code == 200
        theirs = client.post(f"/api/v1/reads/{other.read_id}/correction", headers=operator,
                             json={"plate": "11가1112", "reason": "not an alert"})  # fmt: skip
        assert theirs.status_code == 403
    views = audit(dl_app, es_client, prefix, "evidence.alert_crop")
    ok = [v for v in views if v["status"] == 200]
    assert ok and ok[0]["user"] == "operator" and ok[0]["purpose"] == "alert confirmation"
    assert ok[0]["case_number"] == "2026-아산-0042"


def test_review_queue_and_training_export(
    dl_app: Flask, dl_tokens: dict[str, str], es_client: Elasticsearch, dl_settings: Settings, tmp_path: Path
) -> None:
    unsure = [a_read(f"3{i}보482{i}", "cam-02", crop_ref=f"cam-02/3{i}보482{i}.jpg") for i in range(3)]
    unsure = [r.model_copy(update={"confidence": 0.3 + 0.1 * i}) for i, r in enumerate(unsure)]
    for read in unsure:
        crop_file(dl_settings, read.crop_ref or "")
    ingest(es_client, dl_settings, tmp_path, unsure)
    investigator = bearer(dl_tokens, "investigator")
    review = {"camera_id": "cam-02", "max_confidence": 0.6, **WHY}
    with dl_app.test_client() as client:
        queue = client.get("/api/v1/review", headers=investigator, query_string=review).get_json()
        ids = [r["read_id"] for r in queue["reads"]]
        assert ids[:3] == [r.read_id for r in unsure]  # lowest confidence first
        assert (
            client.post(
                f"/api/v1/reads/{unsure[0].read_id}/confirm", headers=investigator, json={}
            ).status_code
            == 200
        )
        fix = client.post(f"/api/v1/reads/{unsure[1].read_id}/correction", headers=investigator,
                          json={"plate": "31보4829", "reason": "last digit is 9"})  # fmt: skip
        assert fix.status_code == 200
        queue = client.get("/api/v1/review", headers=investigator, query_string=review).get_json()
        assert unsure[0].read_id not in [r["read_id"] for r in queue["reads"]]
        assert client.get("/api/v1/review/export", headers=investigator).status_code == 403
        exported = client.get("/api/v1/review/export", headers=bearer(dl_tokens, "admin"))
        assert exported.status_code == 200 and exported.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(exported.data))
    rows = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode())))
    assert list(rows[0]) == ["file", "text", "format", "source"]
    texts = {row["text"]: row for row in rows}
    assert texts["31보4829"]["source"] == "anpr-corrected/cam-02" and texts["31보4829"]["format"] == "old7"
    assert texts["30보4820"]["source"] == "anpr-confirmed/cam-02"
    assert all(row["file"] in archive.namelist() for row in rows)
