"""An operator edits config/cameras.toml; a mistake must be rejected with the line at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from anpr_core.cameras import CameraRegistryError, load_camera_registry, parse_camera_registry
from anpr_core.settings import PROJECT_ROOT

GOOD = """
[[cameras]]
id = "C01"
name = "아산시청 앞"
road = "시민로"
direction = "남→북"
lat = 36.7898
lon = 127.0020
stream_url = "rtsp://10.0.0.1/stream1"
"""


def test_the_shipped_registry_has_45_distinct_cameras_in_asan() -> None:
    cameras = load_camera_registry(PROJECT_ROOT / "config" / "cameras.toml")
    assert len(cameras) == 45
    assert len({(c.lat, c.lon) for c in cameras.values()}) == 45
    assert all(c.enabled and c.stream_url.startswith("http://127.0.0.1") for c in cameras.values())


def test_a_good_entry_loads_with_enabled_defaulting_to_true() -> None:
    camera = parse_camera_registry(GOOD)["C01"]
    assert (camera.road, camera.direction, camera.enabled) == ("시민로", "남→북", True)


def test_coordinates_outside_asan_name_the_camera_and_its_line() -> None:
    bad = GOOD + GOOD.replace('"C01"', '"C02"').replace("36.7898", "37.5665")
    with pytest.raises(CameraRegistryError, match=r"cams.toml:12: camera C02: coordinates 37.5665"):
        parse_camera_registry(bad, "cams.toml")


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(CameraRegistryError, match="camera C01: duplicate camera id"):
        parse_camera_registry(GOOD + GOOD)


def test_an_unknown_url_scheme_is_rejected() -> None:
    with pytest.raises(CameraRegistryError, match="scheme 'ftp'"):
        parse_camera_registry(GOOD.replace("rtsp://", "ftp://"))


def test_a_missing_field_and_a_misspelt_field_are_named() -> None:
    with pytest.raises(CameraRegistryError, match="road: Field required"):
        parse_camera_registry(GOOD.replace('road = "시민로"\n', ""))
    with pytest.raises(CameraRegistryError, match="lattitude"):
        parse_camera_registry(GOOD.replace("lat =", "lattitude ="))


def test_broken_toml_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CameraRegistryError, match="not valid TOML"):
        parse_camera_registry("[[cameras]\nid=")
    with pytest.raises(CameraRegistryError, match="cannot read"):
        load_camera_registry(tmp_path / "none.toml")
