"""Real-plate clips: held-out plates on real backgrounds, encoded once as H.264, truthful in clip time."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest

from anpr.simulator.camera_faults import FaultError, parse_fault
from anpr.simulator.real_clips import Manifest, build_clips, truth_rows
from anpr_core.splits import is_validation_text

SIZE = (640, 360)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    root = tmp_path_factory.mktemp("clips")
    faults = dict([parse_fault("C02:resize@3+2:320x180")])
    return build_clips(
        ["C01", "C02"],
        resolution=SIZE,
        duration_s=8.0,
        root=root,
        faults={"C02": [faults["C02"]]},
        log=lambda _: None,
    )


def _decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path), format="h264") as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def test_clips_are_annex_b_h264_with_a_true_frame_index(manifest: Manifest) -> None:
    cam = manifest.cameras["C01"]
    data = cam.clip.read_bytes()
    index = json.loads(cam.index.read_text())
    assert data.startswith(b"\x00\x00\x00\x01") and index["offsets"][-1] == len(data)
    assert len(index["offsets"]) - 1 == manifest.frames == 96  # 8 s at 12 fps, whole GOPs
    # An IDR every GOP, the first frame one: the loop point and any seek land on a keyframe.
    assert index["keyframes"] == list(range(0, manifest.frames, manifest.gop_frames))
    frames = _decode(cam.clip)
    assert len(frames) == manifest.frames and frames[0].shape == (SIZE[1], SIZE[0], 3)


def test_a_resize_fault_is_encoded_at_its_size_from_a_new_keyframe(manifest: Manifest) -> None:
    cam = manifest.cameras["C02"]
    index = json.loads(cam.index.read_text())
    small = [k for k, s in enumerate(index["sizes"]) if s == [320, 180]]
    assert small == list(range(36, 60))  # 3 s .. 5 s at 12 fps
    assert 36 in index["keyframes"] and 60 in index["keyframes"]
    sizes = [f.shape[:2] for f in _decode(cam.clip)]
    assert sizes[36] == (180, 320) and sizes[35] == sizes[60] == (360, 640)


def test_passes_carry_held_out_plates_that_are_drawn_where_the_truth_says(manifest: Manifest) -> None:
    cam = manifest.cameras["C01"]
    passes = cam.clip_passes()
    assert passes and cam.passes == len(passes)
    frames = _decode(cam.clip)
    for p in passes:
        # Never a plate the recogniser was trained on.
        assert p["split"] == "validation" and is_validation_text(p["plate"])
        assert 0 <= p["enter_s"] < p["leave_s"] <= manifest.duration_s
        assert 1 / 1000 < p["shutter_s"] < 1 / 300  # an ANPR camera's exposure
        x1, y1, x2, y2 = p["mid_box"]
        assert 0 <= x1 < x2 <= SIZE[0] and 0 <= y1 < y2 <= SIZE[1]
        # The plate is really there: the box differs from the empty road of the first frame.
        here = frames[p["mid_frame"]][y1:y2, x1:x2].astype(int)
        empty = frames[0][y1:y2, x1:x2].astype(int)
        assert np.abs(here - empty).mean() > 20


def test_a_second_build_reuses_the_cache(manifest: Manifest) -> None:
    said: list[str] = []
    root = manifest.dir.parent
    again = build_clips(["C01"], resolution=SIZE, duration_s=8.0, root=root, log=said.append)
    assert said == [] and again.cameras["C01"].clip == manifest.cameras["C01"].clip


def test_truth_rows_repeat_every_loop_in_wall_time(manifest: Manifest) -> None:
    epoch = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    length = timedelta(seconds=manifest.duration_s)
    rows = truth_rows(manifest, epoch, epoch, epoch + 3 * length + timedelta(seconds=5), cameras=["C01"])
    per_loop = manifest.cameras["C01"].passes
    assert per_loop * 2 <= len(rows) <= per_loop * 4
    assert len({r["pass_id"] for r in rows}) == len(rows)
    same = [r for r in rows if r["pass_id"].startswith("C01-00001-")]
    gaps = {
        datetime.fromisoformat(b["enter"]) - datetime.fromisoformat(a["enter"])
        for a, b in itertools.pairwise(same)
    }
    assert gaps == {length}


def test_bad_fault_specs_are_refused_with_the_reason() -> None:
    assert parse_fault("C03:drop@30+8")[1].blocked() == (30.0, 44.0)
    for bad, why in [
        ("C03:melt@1+1", "kind"),
        ("C03:resize@1+1", "WxH"),
        ("C03:resize@1+1:641x360", "even"),
        ("C03 drop", "CAM:KIND"),
    ]:
        with pytest.raises(FaultError, match=why):
            parse_fault(bad)
