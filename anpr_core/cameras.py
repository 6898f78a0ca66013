"""Camera registry: the 45 ANPR cameras, loaded from one TOML file and validated on load.

Shared by the workers (stream URLs), the indexer (locations) and the API (public fields).
A bad entry rejects the whole file with an error naming the camera and its line, because a
silently dropped camera is worse than a service that refuses to start.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Asan city's administrative area with a small margin; a camera outside it is a typo.
ASAN_LAT = (36.60, 36.98)
ASAN_LON = (126.78, 127.20)
URL_SCHEMES = ("rtsp", "rtsps", "http", "https", "file", "folder")
_ID_LINE = re.compile(r'^\s*id\s*=\s*"([^"]*)"', re.MULTILINE)


class CameraRegistryError(ValueError):
    """The registry file is unusable; the message names the camera id and line at fault."""


class Camera(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    name: str = Field(min_length=1)
    road: str = Field(min_length=1)
    direction: str = Field(min_length=1)
    lat: float
    lon: float
    stream_url: str
    enabled: bool = True

    @property
    def is_file_source(self) -> bool:
        return urlparse(self.stream_url).scheme in ("file", "folder", "")


def _line_of(text: str, camera_id: object, index: int) -> int:
    """Line number of the camera's `id = ...` line (or of its table when the id is missing)."""
    tables = [m.start() for m in re.finditer(r"^\s*\[\[cameras\]\]", text, re.MULTILINE)]
    if isinstance(camera_id, str):
        for match in _ID_LINE.finditer(text):
            if match.group(1) == camera_id:
                return text.count("\n", 0, match.start()) + 1
    if index < len(tables):
        return text.count("\n", 0, tables[index]) + 1
    return 0


def _check(camera: Camera) -> str | None:
    if not (ASAN_LAT[0] <= camera.lat <= ASAN_LAT[1] and ASAN_LON[0] <= camera.lon <= ASAN_LON[1]):
        return f"coordinates {camera.lat}, {camera.lon} are outside Asan ({ASAN_LAT}, {ASAN_LON})"
    scheme = urlparse(camera.stream_url).scheme
    if scheme not in URL_SCHEMES:
        return f"stream_url scheme {scheme!r} is not one of {', '.join(URL_SCHEMES)}"
    return None


def parse_camera_registry(text: str, source: str = "<registry>") -> dict[str, Camera]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CameraRegistryError(f"{source}: not valid TOML: {exc}") from exc
    entries = data.get("cameras")
    if not isinstance(entries, list) or not entries:
        raise CameraRegistryError(f"{source}: no [[cameras]] tables")
    cameras: dict[str, Camera] = {}
    for index, entry in enumerate(entries):
        camera_id = entry.get("id") if isinstance(entry, dict) else None
        where = f"{source}:{_line_of(text, camera_id, index)}: camera {camera_id or f'#{index + 1}'}"
        try:
            camera = Camera.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise CameraRegistryError(f"{where}: {problems}") from exc
        problem = _check(camera)
        if problem:
            raise CameraRegistryError(f"{where}: {problem}")
        if camera.id in cameras:
            raise CameraRegistryError(f"{where}: duplicate camera id")
        cameras[camera.id] = camera
    return cameras


def load_camera_registry(path: Path) -> dict[str, Camera]:
    """All cameras by id, in file order; raises `CameraRegistryError` naming the line at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CameraRegistryError(f"{path}: cannot read camera registry: {exc}") from exc
    return parse_camera_registry(text, str(path))
