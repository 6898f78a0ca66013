"""The control room's page is served by the API's own app and needs nothing from outside the network."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

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
    for path in STATIC.rglob("*"):
        if path.suffix in {".js", ".css", ".html"}:
            assert not re.search(r"https?://", path.read_text(encoding="utf-8")), path


def test_every_ui_text_has_a_korean_and_an_english_version() -> None:
    source = (STATIC / "i18n.js").read_text(encoding="utf-8")
    ko_block, en_block = source.split("  en: {")
    keys = re.compile(r"(\w+): \"")
    assert set(keys.findall(ko_block.split("  ko: {")[1])) == set(keys.findall(en_block))
    html = (STATIC.parent / "templates" / "index.html").read_text(encoding="utf-8")
    for key in re.findall(r'data-i18n="(\w+)"', html):
        assert f"{key}:" in ko_block, key
