"""Camera registry for the API: id -> {id, name, road, direction, lat, lon, enabled}.

Uses `anpr_core.cameras.load_camera_registry` (owned by the camera engineer) when present.
Stream URLs are left out: they can carry credentials and the API never needs them.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from anpr_core.settings import Settings

log = logging.getLogger(__name__)
PUBLIC_FIELDS = ("id", "name", "road", "direction", "lat", "lon", "enabled")


def load_cameras(settings: Settings) -> dict[str, dict[str, Any]]:
    path = settings.cameras.registry_path
    try:
        module = importlib.import_module("anpr_core.cameras")
    except ImportError:
        return {}
    if not path.is_file():
        log.warning("camera registry %s not found; camera list is empty", path)
        return {}
    registry = module.load_camera_registry(path)
    cameras = registry.values() if isinstance(registry, dict) else registry
    out: dict[str, dict[str, Any]] = {}
    for camera in cameras:
        record = (
            camera
            if isinstance(camera, dict)
            else camera.model_dump()
            if hasattr(camera, "model_dump")
            else vars(camera)
        )
        out[str(record["id"])] = {key: record.get(key) for key in PUBLIC_FIELDS}
    return out
