"""On the page (headless Debian Chromium, real API and Elasticsearch): an operator sees each people
camera's live count, its zones' density levels and outlines over the latest snapshot, the people
events with their snapshot (also on the live board, arriving through the stream), acknowledges one,
in Korean and English; an administrator sees the counts but no events and no snapshot."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from anpr_core.elastic.indices import alerts_index, people_status_index
from anpr_core.settings import Settings
from indexer.people_events import PeopleEventShipper
from tests.browser import chromium_page, needs_chromium
from tests.browser import log_in as browser_log_in
from tests.people_events.conftest import an_event, write_events

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium
ZONES = [
    {
        "name": "shopfront",
        "polygon": [[300, 200], [620, 200], [620, 470], [300, 470]],
        "rules": ["intrusion"],
    },
    {"name": "floor", "polygon": [[0, 480], [640, 480], [500, 90], [140, 90]], "rules": ["density"]},
]


@pytest.fixture()
def page(pe_server: str) -> Iterator[Any]:
    with chromium_page(pe_server, timeout_ms=15_000) as page:
        yield page


def log_in(page: Any, role: str) -> None:
    browser_log_in(page, role)
    page.locator("#nav").wait_for()
    page.statuses.clear()  # the page's first /auth/me before the login answers 401, as it should


def ship(es: Elasticsearch, settings: Settings, people: Path) -> None:
    shipper = PeopleEventShipper(es, people, settings.index_prefix, status_every_s=0)
    while shipper.step():
        pass
    shipper.ship_status()
    es.indices.refresh(index=alerts_index(settings.index_prefix))
    es.indices.refresh(index=people_status_index(settings.index_prefix))


def live_status(people: Path, count: int, level: str) -> None:
    people.mkdir(parents=True, exist_ok=True)
    status = {"P01": {"count": count, "levels": {"floor": level}, "at": time.time(), "frame": [640, 480],
                      "zones": ZONES}}  # fmt: skip
    (people / "status.json").write_text(json.dumps(status, ensure_ascii=False))


def test_operator_sees_counts_levels_zones_and_events_and_acknowledges(
    page: Any, es_client: Elasticsearch, pe_settings: Settings, tmp_path: Path
) -> None:
    people = tmp_path / "people"
    live_status(people, 37, "경계")
    (intrusion,) = write_events(people, [an_event("intrusion", 5)])
    ship(es_client, pe_settings, people)
    log_in(page, "operator")
    page.click("#nav [data-view=people]")
    card = page.locator("#people-grid .people-camera[data-camera=P01]")
    card.wait_for()
    assert "현재 인원 37명" in card.inner_text()
    assert card.locator("li[data-zone=floor] .level").inner_text() == "경계"
    assert card.locator("svg.zones polygon").count() == 2
    assert card.locator("svg.zones polygon[data-zone=floor]").get_attribute("class") == "zone level-2"
    assert f"/people/events/{intrusion}/snapshot" in (
        card.locator("svg.zones image").get_attribute("href") or ""
    )

    item = page.locator(f"#people-events li[data-alert-id='{intrusion}']")
    item.wait_for()
    assert "침입" in item.inner_text() and "shopfront" in item.inner_text()
    image = item.locator("img.snapshot")
    page.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=image.element_handle())

    # The live count moves with the monitor's status (the page polls it).
    live_status(people, 52, "심각")
    ship(es_client, pe_settings, people)
    page.wait_for_function(
        "() => document.querySelector('#people-grid [data-camera=P01]')?.innerText.includes('52')"
    )
    assert card.locator("li[data-zone=floor] .level").inner_text() == "심각"

    page.click("#lang")
    expect = playwright_api.expect
    expect(card).to_contain_text("52 people now")
    expect(card.locator("li[data-zone=floor] .level")).to_have_text("Severe")
    expect(item).to_contain_text("Intrusion")

    item.locator("button.ack").click()
    page.fill("#ack-dialog textarea", "CCTV operator checked: staff member")
    page.click("#ack-dialog button[value=ok]")
    page.locator(f"#people-events li.acked[data-alert-id='{intrusion}']").wait_for()
    doc = es_client.get(index=alerts_index(pe_settings.index_prefix), id=intrusion)["_source"]
    assert doc["acknowledged"] and doc["ack_note"] == "CCTV operator checked: staff member"

    # On the live board beside plate hits: a new event arrives through the stream.
    page.click("#nav [data-view=alerts]")
    (loitering,) = write_events(people, [an_event("loitering", 6)])
    ship(es_client, pe_settings, people)
    board_item = page.locator(f"#alert-list li[data-alert-id='{loitering}']")
    expect(board_item).to_contain_text("Loitering")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=board_item.locator("img.snapshot").element_handle()
    )
    page.wait_for_load_state("networkidle")
    assert [url for status, url in page.statuses if status >= 400] == []


def test_administrator_sees_counts_but_no_events_and_no_snapshot(
    page: Any, es_client: Elasticsearch, pe_settings: Settings, tmp_path: Path
) -> None:
    people = tmp_path / "people"
    live_status(people, 12, "관심")
    write_events(people, [an_event("intrusion", 8)])
    ship(es_client, pe_settings, people)
    log_in(page, "admin")
    page.click("#nav [data-view=people]")
    card = page.locator("#people-grid .people-camera[data-camera=P01]")
    card.wait_for()
    assert "12" in card.inner_text() and card.locator("li[data-zone=floor] .level").inner_text() == "관심"
    assert card.locator("svg.zones polygon").count() == 2 and card.locator("svg.zones image").count() == 0
    assert page.locator("#people-events li").count() == 0 and page.locator("#people-events-title").is_hidden()
    page.wait_for_load_state("networkidle")
    assert [url for status, url in page.statuses if status >= 400] == []
    assert not any("/snapshot" in url or "/people/events" in url for _, url in page.statuses)
