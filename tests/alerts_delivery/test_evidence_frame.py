"""The small frame of the pass next to the plate crop (issue 21): the workers keep the frame the
best crop came from, scaled down and private like the crops; the alert carries its reference;
operators get it through the alert (audited, no search purpose asked), nobody else does; and
retention removes it with its read."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from elasticsearch import Elasticsearch
from flask import Flask

from anpr.simulator.scene import CameraScene
from anpr_core.cameras import Camera
from anpr_core.elastic.indices import alerts_index
from anpr_core.elastic.mappings import ensure_indices, ensure_read_index
from anpr_core.journal import ReadJournal
from anpr_core.reads import PlateRead
from anpr_core.settings import Settings
from indexer.documents import read_action
from indexer.retention import Cutoffs, RetentionReport, expire_crops, expire_reads
from lpr.workers.crops import FRAME_MAX_WIDTH, frame_thumbnail, store_crop, store_frame
from lpr.workers.worker import PlateWorker
from tests.alerts_delivery.conftest import bearer, crop_file
from tests.alerts_delivery.helpers import a_read, watch
from tests.alerts_delivery.test_corrections import audit, ingest

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CAMERA = Camera(
    id="C07", name="충무교차로", road="충무로", direction="서→동", lat=36.785, lon=127.008,
    stream_url="http://127.0.0.1:8554/cam/C07.mjpg",
)  # fmt: skip


@pytest.fixture(scope="module")
def reader():  # type: ignore[no-untyped-def]
    from anpr_core.settings import VisionSettings
    from lpr.pipeline import PlateReader
    from lpr.recognizer import RecognizerUnavailable, load_recognizer

    try:
        return PlateReader.for_workers(VisionSettings(detector_precision="fp32"), load_recognizer(threads=2))
    except (RecognizerUnavailable, FileNotFoundError) as exc:
        pytest.skip(f"models not available: {exc}")


def _decode(path: Path) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, path
    return image


def _difference(thumb: np.ndarray, frame: np.ndarray) -> float:
    scaled = cv2.resize(frame, (thumb.shape[1], thumb.shape[0]), interpolation=cv2.INTER_AREA)
    return float(np.abs(scaled.astype(np.int16) - thumb.astype(np.int16)).mean())


def test_each_read_keeps_a_small_private_frame_of_the_moment_of_its_best_crop(reader, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scene = CameraScene(CAMERA.id, seed=3, start=T0, gap_s=(2.0, 3.0))
    crops = tmp_path / "crops"
    worker = PlateWorker([CAMERA], reader, ReadJournal(tmp_path / "journal"), crops)
    fps = 8
    for i in range(12 * fps):
        at = T0 + timedelta(seconds=i / fps)
        worker.process([(CAMERA.id, at, scene.frame_at(at))])
    worker.tick(T0 + timedelta(seconds=17))
    reads = [json.loads(line.split(" ", 1)[1]) for p in sorted((tmp_path / "journal").glob("seg-*.jsonl"))
             for line in p.read_text().splitlines()]  # fmt: skip
    assert len(reads) >= 2
    for read in reads:
        path = crops / read["frame_ref"]
        assert path.parent == (crops / read["crop_ref"]).parent  # same day folder: same retention
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        folders = [crops / p for p in path.relative_to(crops).parents]  # the day folders and the root
        assert {stat.S_IMODE(folder.stat().st_mode) for folder in folders} == {0o700}
        thumb = _decode(path)
        best = datetime.fromisoformat(read["best_seen"])
        full = scene.frame_at(best)
        assert thumb.shape[1] == min(FRAME_MAX_WIDTH, full.shape[1])
        assert abs(thumb.shape[0] / thumb.shape[1] - full.shape[0] / full.shape[1]) < 0.01
        assert path.stat().st_size < 40_000
        # It is the frame of the best sighting, not another moment of the pass: the vehicle moves.
        same = _difference(thumb, full)
        others = [_difference(thumb, scene.frame_at(best + timedelta(seconds=s))) for s in (-0.5, 0.5)]
        assert same < 4.0 and all(other > same + 1.0 for other in others), (same, others)


def test_a_frame_is_scaled_down_only_when_wider_than_the_bound() -> None:
    small = np.full((90, 160, 3), 120, np.uint8)
    wide = np.full((1080, 1920, 3), 120, np.uint8)
    as_image = [cv2.imdecode(np.frombuffer(frame_thumbnail(f) or b"", np.uint8), cv2.IMREAD_COLOR)
                for f in (small, wide)]  # fmt: skip
    assert [i.shape[:2] for i in as_image] == [(90, 160), (180, FRAME_MAX_WIDTH)]


def test_operators_get_the_frame_of_their_alert_and_every_view_is_audited(
    dl_app: Flask, dl_tokens: dict[str, str], es_client: Elasticsearch, dl_settings: Settings, tmp_path: Path
) -> None:
    prefix = dl_settings.index_prefix
    watch(es_client, prefix, "63무6363")
    watch(es_client, prefix, "64무6464")
    hit = a_read("63무6363", "cam-02", crop_ref="cam-02/63무6363.jpg", frame_ref="cam-02/63무6363.frame.jpg")
    bare = a_read("64무6464", "cam-02", crop_ref="cam-02/64무6464.jpg")  # a read stored before frames were
    crop_file(dl_settings, hit.crop_ref or "")
    crop_file(dl_settings, hit.frame_ref or "")
    ingest(es_client, dl_settings, tmp_path, [hit, bare])
    es_client.indices.refresh(index=alerts_index(prefix))
    query = {"terms": {"read_id": [hit.read_id, bare.read_id]}}
    hits = es_client.search(index=alerts_index(prefix), query=query)["hits"]["hits"]
    alerts = {h["_source"]["read_id"]: h["_source"] for h in hits}
    assert alerts[hit.read_id]["frame_ref"] == hit.frame_ref  # the alert carries it from the read
    url = f"/api/v1/alerts/{alerts[hit.read_id]['alert_id']}/frame"
    with dl_app.test_client() as client:
        listed = client.get(
            "/api/v1/alerts", headers=bearer(dl_tokens, "operator"), query_string={"size": 200}
        )
        assert hit.frame_ref in {a.get("frame_ref") for a in listed.get_json()["alerts"]}
        frame = client.get(url, headers=bearer(dl_tokens, "operator"))
        assert frame.status_code == 200 and frame.mimetype == "image/jpeg"
        assert frame.headers["Cache-Control"].startswith("no-store")
        assert frame.data == (dl_settings.paths.crops / (hit.frame_ref or "")).read_bytes()
        for role in ("investigator", "analyst", "admin"):  # they see reads through search, with a purpose
            assert client.get(url, headers=bearer(dl_tokens, role)).status_code == 403, role
        assert client.get(url).status_code == 401
        no_frame = client.get(f"/api/v1/alerts/{alerts[bare.read_id]['alert_id']}/frame",
                              headers=bearer(dl_tokens, "operator"))  # fmt: skip
        assert no_frame.status_code == 404 and "frame" in no_frame.get_json()["message"]
        assert (
            client.get("/api/v1/alerts/nope/frame", headers=bearer(dl_tokens, "operator")).status_code == 404
        )
    views = audit(dl_app, es_client, prefix, "evidence.alert_frame")
    ok = [v for v in views if v["status"] == 200 and v["path"] == url]
    assert len(ok) == 1 and ok[0]["user"] == "operator" and ok[0]["role"] == "operator"
    assert ok[0]["purpose"] == "alert confirmation" and ok[0]["case_number"] == "2026-아산-0042"
    denied = {v["user"] for v in views if v["status"] == 403 and v["path"] == url}
    assert denied == {"investigator", "analyst", "admin"}


def test_retention_removes_the_frame_with_its_read(es_client: Elasticsearch, test_index_prefix: str,
                                                   tmp_path: Path) -> None:  # fmt: skip
    prefix = f"{test_index_prefix}-frameret"
    ensure_indices(es_client, prefix)
    cutoff = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    image = np.zeros((20, 60, 3), np.uint8)
    reads = []
    for name, seen in (("old", cutoff - timedelta(hours=1)), ("new", cutoff + timedelta(hours=1))):
        read_id = f"C01-{name}-read"
        reads.append(PlateRead(
            read_id=read_id, plate="12가3456", confidence=0.9, camera_id="C01", first_seen=seen,
            last_seen=seen, best_seen=seen, crop_ref=store_crop(tmp_path, read_id, seen, image),
            frame_ref=store_frame(tmp_path, read_id, seen, frame_thumbnail(image) or b""),
        ))  # fmt: skip
    ensure_read_index(es_client, prefix, cutoff)
    for read in reads:
        action = read_action(read, prefix)
        es_client.index(index=action.index, id=action.doc_id, document=action.source, refresh=True)
    report = RetentionReport(now=cutoff, cutoffs=Cutoffs(cutoff, cutoff, cutoff))
    refs = expire_reads(es_client, prefix, cutoff, report)
    expire_crops(tmp_path, cutoff, refs, report)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jpg"))
    assert left == ["2026/10/24/C01-new-read.frame.jpg", "2026/10/24/C01-new-read.jpg"]
    assert report.crop_files == 2
