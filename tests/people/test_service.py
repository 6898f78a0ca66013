"""The people analytics service on real CCTV frames: a closed zone over the mall floor raises
intrusion events with a snapshot, and the live status has the camera's count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anpr.people_demo import write_demo_analytics
from anpr_core.journal import JournalReader
from anpr_core.settings import PROJECT_ROOT, load_settings
from monitor.analytics import load_analytics
from monitor.service import density_counters
from tests.conftest import SHARED_DATA

MALL = sorted((SHARED_DATA / "people" / "images").glob("q00[0-1]*.jpg"))[:8]


@pytest.mark.skipif(not MALL, reason="shared crowd photos not present")
def test_a_closed_zone_over_the_mall_floor_raises_an_intrusion_with_a_snapshot(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    for path in MALL:
        (frames / path.name).write_bytes(path.read_bytes())
    config = tmp_path / "people.toml"
    config.write_text(
        f'[[camera]]\nid = "P01"\nfps = 5\nsource = "{frames}"\n'
        '[[camera.zone]]\nname = "floor"\npolygon = [[0, 200], [640, 200], [640, 480], [0, 480]]\n'
        'closed = ["always"]\nconfirm_s = 0\n'
    )
    env = {**os.environ, "ANPR_PEOPLE__ANALYTICS_PATH": str(config)}
    env["ANPR_PATHS__VAR_DIR"] = str(tmp_path / "var")
    result = subprocess.run(
        [sys.executable, "-m", "anpr", "people-monitor", "--rounds", "8"],
        capture_output=True, text=True, timeout=180, cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    root = tmp_path / "var" / "people"
    events = JournalReader(root / "events").read_batch(max_wait_s=0).records
    assert events and {e["kind"] for e in events} == {"intrusion"}
    assert all(e["camera_id"] == "P01" and e["zone"] == "floor" for e in events)
    # one event per person (track), not one per frame
    assert len({e["track_id"] for e in events}) == len(events)
    assert all((root / "snapshots" / e["snapshot"]).stat().st_size > 10_000 for e in events)
    status = json.loads((root / "status.json").read_text())
    assert status["P01"]["count"] > 5
    assert status["P01"]["zones"][0]["name"] == "floor" and status["P01"]["frame"] == [640, 480]


def _monitor(config: Path, tmp_path: Path, rounds: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANPR_PEOPLE__ANALYTICS_PATH": str(config)}
    env["ANPR_PATHS__VAR_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "-m", "anpr", "people-monitor", "--rounds", str(rounds), "--metrics-port", "0"],
        capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip


CROWD_CAMERA = """[[camera]]
id = "{id}"
fps = 5
source = "{source}"
crowd_counter = "density"
density_head = "{head}"
image_points = [[0, 480], [640, 480], [640, 0], [0, 0]]
ground_points = [[0, 0], [20, 0], [20, 20], [0, 20]]
[[camera.zone]]
name = "floor"
polygon = [[0, 0], [640, 0], [640, 480], [0, 480]]
density_levels = [0.02, 0.04, 0.06, 0.08]
"""


@pytest.mark.skipif(not MALL, reason="shared crowd photos not present")
def test_each_camera_counts_its_crowd_with_the_density_head_it_names(tmp_path: Path) -> None:
    labels = json.loads((SHARED_DATA / "people" / "labels.json").read_text())
    # a frame of the mall sequence's held-out second half (the mall head was fitted on the first)
    mall = sorted((item for item in labels if item["set"] == "mall"), key=lambda item: item["file"])
    frame = mall[len(mall) // 2 + 20]
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / frame["file"]).write_bytes((SHARED_DATA / "people" / "images" / frame["file"]).read_bytes())
    config = tmp_path / "people.toml"
    config.write_text(
        CROWD_CAMERA.format(id="MALL", source=frames, head="mall")
        + CROWD_CAMERA.format(id="STREET", source=frames, head="street")
    )
    result = _monitor(config, tmp_path, rounds=1)
    assert result.returncode == 0, result.stderr[-2000:]
    status = json.loads((tmp_path / "var" / "people" / "status.json").read_text())
    mall, street = status["MALL"]["zone_counts"]["floor"], status["STREET"]["zone_counts"]["floor"]
    # The mall head (read at 960, trained on this camera's other frames) counts the frame's labelled
    # heads closely; the street head (read at 2048, trained on elevated street views) counts otherwise.
    assert abs(mall - frame["count"]) <= 5, (mall, frame["count"])
    print("heads on", frame["file"], "labelled", frame["count"], "mall", mall, "street", street)
    assert abs(street - mall) > 1, (street, mall)


def test_a_density_head_that_is_not_there_is_refused_naming_the_field(tmp_path: Path) -> None:
    config = tmp_path / "people.toml"
    for head in ("subway", "nowhere.npz"):
        config.write_text(CROWD_CAMERA.format(id="P01", source=tmp_path, head=head))
        result = _monitor(config, tmp_path, rounds=1)
        assert result.returncode == 2
        assert "density_head" in result.stderr and "camera.0.density_head" in result.stderr, result.stderr[
            -2000:
        ]


@pytest.mark.skipif(not MALL, reason="shared crowd photos not present")
def test_the_demo_mall_crowd_camera_counts_with_the_mall_head(tmp_path: Path) -> None:
    settings = load_settings(paths={"var_dir": tmp_path / "var"})
    config = write_demo_analytics(settings)
    cameras = {c.id: c for c in load_analytics(config, settings.people.model).camera}
    assert cameras["P01"].crowd_counter == "density" and cameras["P01"].density_head == "mall"
    counters = density_counters(list(cameras.values()), settings)
    assert set(counters) == {"P01"} and counters["P01"].input_size == settings.people.input_size
