"""The demo's people cameras: `anpr people-monitor` on the demo's analytics file runs the two real
mall CCTV cameras through the person detector and the simulated walkers' camera without one; their
live status has counts and zones, and the events it writes are shipped into Elasticsearch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from elasticsearch import Elasticsearch

from anpr.demo import services
from anpr.people_demo import write_demo_analytics
from anpr_core.journal import JournalReader
from anpr_core.people_events import events_dir
from anpr_core.settings import PROJECT_ROOT, Settings, load_settings
from indexer.people_events import PeopleEventShipper
from monitor.analytics import load_analytics
from tests.alerts_delivery.conftest import free_port, wait_for
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "people" / "labels.json").is_file(), reason="shared crowd photos not present"
)


def scrape(port: int) -> str | None:
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except requests.RequestException:
        return None
    return text if 'anpr_people_frames_total{camera="SIM1"}' in text else None


def test_the_demo_supervises_a_people_monitor() -> None:
    names = [process.name for process in services({})]
    assert "people-monitor" in names and names.index("people-monitor") > names.index("indexer")


def test_demo_people_cameras_real_mall_frames_and_walkers_reach_elasticsearch(
    es_client: Elasticsearch, pe_settings: Settings, tmp_path: Path
) -> None:
    var = tmp_path / "var"
    config = write_demo_analytics(load_settings(paths={"var_dir": var}))
    cameras = {c.id: c for c in load_analytics(config).camera}
    assert set(cameras) == {"P01", "P02", "SIM1"} and cameras["SIM1"].source == "sim:walkers"
    assert len(list(Path(cameras["P01"].source or "").glob("*.jpg"))) == 100
    env = {**os.environ, "ANPR_PEOPLE__ANALYTICS_PATH": str(config), "ANPR_PATHS__VAR_DIR": str(var)}
    port = free_port()
    monitor = subprocess.Popen(
        [sys.executable, "-m", "anpr", "people-monitor", "--rounds", "60", "--metrics-port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip
    try:
        metrics = wait_for(lambda: scrape(port), 120, "the monitor's /metrics with the walkers' frames")
        assert 'anpr_people_count{camera="P01"}' in metrics
    finally:
        stdout, stderr = monitor.communicate(timeout=300)
    result = subprocess.CompletedProcess(monitor.args, monitor.returncode, stdout, stderr)
    assert result.returncode == 0, result.stderr[-2000:]
    people = var / "people"
    status = json.loads((people / "status.json").read_text())
    assert set(status) == {"P01", "P02", "SIM1"}
    assert status["P01"]["count"] >= 5 and status["P01"]["frame"] == [640, 480]  # real people found
    assert status["SIM1"]["frame"] == [640, 480]
    assert [z["name"] for z in status["SIM1"]["zones"]] == ["closed", "lobby"]
    assert "floor" in status["P01"]["levels"]
    written = JournalReader(events_dir(people)).read_batch(max_wait_s=0).records
    assert written, result.stderr[-2000:]  # P02's kiosk is closed: someone stands in front of it
    shipper = PeopleEventShipper(es_client, people, pe_settings.index_prefix)
    assert shipper.step() == len(written)
    ids = [record["event_id"] for record in written]
    found = es_client.mget(
        index=f"{pe_settings.index_prefix}-alerts", ids=ids, source_excludes=["snapshot_jpeg"]
    )
    assert all(
        doc["found"] and doc["_source"]["camera_id"] in {"P01", "P02", "SIM1"} for doc in found["docs"]
    )
