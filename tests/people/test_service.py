"""The people analytics service on real CCTV frames: a closed zone over the mall floor raises
intrusion events with a snapshot, and the live status has the camera's count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anpr_core.journal import JournalReader
from anpr_core.settings import PROJECT_ROOT
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
