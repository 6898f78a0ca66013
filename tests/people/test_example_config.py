"""The example analytics file an operator copies is one the service accepts, heads and all."""

from __future__ import annotations

from pathlib import Path

from anpr_core.settings import load_settings
from monitor.analytics import load_analytics

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "people.example.toml"


def test_people_example_config_loads_with_its_density_head() -> None:
    config = load_analytics(EXAMPLE, model_dir=load_settings().people.model)
    (camera,) = config.camera
    assert camera.crowd_counter == "density" and camera.density_head == "mall"
    assert {zone.name for zone in camera.zone} == {"rooftop", "lobby", "square"}
