"""The control room's page is served by the API's own app and needs nothing from outside the network."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from flask import Flask
from flask.testing import FlaskClient

from anpr_core.settings import Settings
from search_api.app import create_app

STATIC = Path(__file__).resolve().parents[2] / "search_api" / "web" / "static"


@pytest.fixture(scope="module")
def page_client(es_settings: Settings, es_client: Elasticsearch) -> Iterator[FlaskClient]:
    app: Flask = create_app(es_settings, es=es_client, cameras={})
    with app.test_client() as client:
        yield client


def test_an_operator_opening_the_address_gets_the_korean_page_with_a_login_form(
    page_client: FlaskClient,
) -> None:
    response = page_client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert 'id="login-form"' in html
    assert "로그인" in html
    # Personal data is shown on this page once logged in: browsers must not keep it.
    assert response.headers["Cache-Control"] == "no-store"


def test_every_module_the_page_imports_is_served_as_javascript(page_client: FlaskClient) -> None:
    html = page_client.get("/").get_data(as_text=True)
    entry = re.search(r'src="(/ui/static/[^"]+\.js)"', html)
    assert entry is not None
    pending, seen = [entry.group(1)], set()
    while pending:
        url = pending.pop()
        seen.add(url)
        response = page_client.get(url)
        assert response.status_code == 200, url
        assert "javascript" in response.mimetype, url
        for name in re.findall(r'from "\./([\w.-]+\.js)"', response.get_data(as_text=True)):
            target = f"/ui/static/{name}"
            if target not in seen:
                pending.append(target)
    assert {"/ui/static/app.js", "/ui/static/api.js", "/ui/static/i18n.js", "/ui/static/map.js"} <= seen


def test_nothing_on_the_page_is_fetched_from_outside_the_closed_network() -> None:
    # The project's own files name no outside address at all. Leaflet's (vendor/, from npm) name its
    # home page and the SVG namespace in comments and strings; the browser tests record every request
    # the page makes and see that none leaves the server's origin.
    own = [p for p in STATIC.rglob("*") if "vendor" not in p.relative_to(STATIC).parts]
    for path in [*own, STATIC.parent / "templates" / "index.html"]:
        if path.suffix in {".js", ".css", ".html", ".geojson"}:
            assert not re.search(r"https?://", path.read_text(encoding="utf-8")), path


def test_the_leaflet_files_the_page_loads_are_the_ones_setup_copies() -> None:
    setup = (STATIC.parents[2] / "scripts" / "setup").read_text(encoding="utf-8")
    html = (STATIC.parent / "templates" / "index.html").read_text(encoding="utf-8")
    module = re.search(r'import\("\./vendor/leaflet/([\w.-]+)"\)', (STATIC / "map.js").read_text("utf-8"))
    css = re.search(r"vendor/leaflet/([\w.-]+\.css)", html)
    assert module is not None and css is not None
    for name in (module.group(1), css.group(1)):
        assert f'"$dist/{name}"' in setup, name
    lock = json.loads((STATIC.parent / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/leaflet"]["version"] == "1.9.4"


def test_the_base_layer_is_asan_si_and_every_camera_lies_on_it(page_client: FlaskClient) -> None:
    response = page_client.get("/ui/static/basemap/asan.geojson")
    assert response.status_code == 200
    collection = json.loads(response.get_data(as_text=True))
    kinds = {f["properties"]["kind"] for f in collection["features"]}
    assert kinds == {"city", "emd", "neighbour"}
    city = next(f for f in collection["features"] if f["properties"]["kind"] == "city")
    assert city["properties"]["name"] == "아산시"
    assert "국토지리정보원" in collection["attribution"]
    # The camera network (config/cameras.toml) sits inside the base layer's extent.
    ring = [pt for polygon in _polygons(city["geometry"]) for pt in polygon[0]]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    cameras = tomllib.loads((STATIC.parents[2] / "config" / "cameras.toml").read_text(encoding="utf-8"))
    for camera in cameras["cameras"]:
        inside = min(lons) <= camera["lon"] <= max(lons) and min(lats) <= camera["lat"] <= max(lats)
        assert inside, camera["id"]


def _polygons(geometry: dict[str, Any]) -> list[Any]:
    return geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]


def test_every_ui_text_has_a_korean_and_an_english_version() -> None:
    source = (STATIC / "i18n.js").read_text(encoding="utf-8")
    ko_block, en_block = source.split("  en: {")
    keys = re.compile(r"(\w+): \"")
    assert set(keys.findall(ko_block.split("  ko: {")[1])) == set(keys.findall(en_block))
    html = (STATIC.parent / "templates" / "index.html").read_text(encoding="utf-8")
    for key in re.findall(r'data-i18n="(\w+)"', html):
        assert f"{key}:" in ko_block, key
