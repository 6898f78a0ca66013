"""Camera registry for the API: id -> {id, name, road, direction, lat, lon, enabled}.

The one registry (`anpr_core.cameras`, the same file the workers read). Stream URLs are left
out: they can carry credentials and the API never needs them.
"""

from __future__ import annotations

import logging
from typing import Any

from anpr_core.cameras import load_camera_registry
from anpr_core.settings import Settings

log = logging.getLogger(__name__)
PUBLIC_FIELDS = ("id", "name", "road", "direction", "lat", "lon", "enabled")


def load_cameras(settings: Settings) -> dict[str, dict[str, Any]]:
    path = settings.cameras.registry_path
    if not path.is_file():
        log.warning("camera registry %s not found; camera list is empty", path)
        return {}
    return {
        camera.id: {key: getattr(camera, key) for key in PUBLIC_FIELDS}
        for camera in load_camera_registry(path).values()
    }
