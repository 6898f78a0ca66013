"""An operator and an investigator use the page in a real (headless Debian) Chromium against the real
API and Elasticsearch: alerts arrive live, are acknowledged, reads are searched, routed and exported."""

from __future__ import annotations

import csv
import io
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch, helpers
from werkzeug.serving import make_server

from anpr_core.elastic.mappings import ensure_read_index
from anpr_core.reads import GeoPoint, PlateRead, make_read_id
from anpr_core.settings import Settings
from indexer.alerts import alert_document, write_alerts
from indexer.watchlist_matcher import WatchlistIndex
from search_api.app import create_app
from search_api.read_documents import read_document
from search_api.users import DEMO_PASSWORD, seed_demo_users

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium package is not installed")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
TARGET = "38거1234"  # a plate no other suite uses: their exact counts stay theirs
SEEN = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
ROUTE = [("C01", 0), ("C02", 3), ("C05", 9)]


@pytest.fixture(scope="module")
def web_settings(es_settings: Settings, es_client: Elasticsearch) -> Iterator[Settings]:
    # A prefix of their own, dropped here: real indexer sequences are epoch microseconds and would
    # hide the small hand-numbered alerts other suites write; other suites count all their reads.
    prefix = f"anprwebtest-{uuid.uuid4().hex[:8]}"
    yield es_settings.model_copy(
        update={"elasticsearch": es_settings.elasticsearch.model_copy(update={"index_prefix": prefix})}
    )
    for index in es_client.indices.get(index=f"{prefix}*", expand_wildcards="all").body:
        es_client.indices.delete(index=index)


@pytest.fixture(scope="module")
def server(web_settings: Settings, es_client: Elasticsearch) -> Iterator[str]:
    es_settings = web_settings
    app = create_app(es_settings, es=es_client)
    seed_demo_users(app.extensions["anpr"].users)
    cameras = app.extensions["anpr"].cameras
    actions = []
    for camera_id, minutes in ROUTE:
        camera = cameras[camera_id]
        doc = read_document(
            TARGET, camera_id, SEEN + timedelta(minutes=minutes), camera["lat"], camera["lon"]
        )
        index = ensure_read_index(es_client, es_settings.index_prefix, SEEN)
        actions.append({"_index": index, "_id": doc["read_id"], "_source": doc})
    helpers.bulk(es_client, actions, refresh="wait_for")
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(5000)
    page.goto(server)
    yield page
    context.close()


def log_in(page, role: str, password: str = DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.fill("#login-form [name=username]", role)
    page.fill("#login-form [name=password]", password)
    page.click("#login-form button[type=submit]")


def simulate_watchlisted_read(es: Elasticsearch, prefix: str, plate: str) -> str:
    """What the indexer does for a read that hits the watchlist: match it, write the alert."""
    seen = datetime.now(UTC)
    read = PlateRead(
        read_id=make_read_id("C03", seen, plate), plate=plate, confidence=0.97, camera_id="C03",
        first_seen=seen, last_seen=seen, best_seen=seen, location=GeoPoint(lat=36.79, lon=127.0),
    )  # fmt: skip
    entry = {"id": "wl-browser", "plate": plate, "reason": "도난 차량", "case_number": "2026-아산-0042"}
    matches = WatchlistIndex([entry]).match(read)
    assert matches, "the watchlist matcher should hit its own plate"
    documents = [alert_document(read, match) for match in matches]
    write_alerts(es, prefix, documents)
    return str(documents[0]["alert_id"])


def test_operator_sees_a_watchlisted_read_within_two_seconds_and_acknowledges_it(
    page, es_client: Elasticsearch, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    es_settings = web_settings
    log_in(page, "operator")
    page.wait_for_selector("#stream-state:has-text('실시간')")
    alert_id = simulate_watchlisted_read(es_client, es_settings.index_prefix, "34나7890")
    item = page.locator(f"li.alert[data-alert-id='{alert_id}']")
    item.wait_for(timeout=2000)
    assert "34나7890" in item.inner_text()
    item.locator("button.ack").click()
    page.fill("#ack-dialog textarea", "순찰차 출동")
    page.click("#ack-dialog button[value=ok]")
    page.locator(f"li.alert.acked[data-alert-id='{alert_id}']").wait_for()
    stored = es_client.get(index=f"{es_settings.index_prefix}-alerts", id=alert_id)["_source"]
    assert stored["acknowledged"] is True and stored["ack_note"] == "순찰차 출동"


def fill_search(page, plate: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#nav").wait_for()
    page.click("#nav [data-view=search]")
    page.fill("#search-form [name=plate]", plate)
    page.fill("#search-form [name=purpose]", "도난 차량 추적 수사")
    page.fill("#search-form [name=case_number]", "2026-아산-0042")


def test_analyst_searches_a_plate_opens_its_route_and_exports_csv(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "analyst")
    fill_search(page, TARGET)
    page.click("#search-form button[type=submit]")
    rows = page.locator("#results tbody tr")
    rows.first.wait_for()
    assert rows.count() == len(ROUTE)
    rows.first.locator("button.open-route").click()
    timeline = page.locator("#timeline li")
    timeline.first.wait_for()
    texts = timeline.all_inner_texts()
    assert [t.split("— ")[1][:3] for t in texts] == [camera for camera, _ in ROUTE]  # in time order
    fill_search(page, TARGET)
    with page.expect_download() as download_info:
        page.click("[data-export=csv]")
    content = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    records = list(csv.DictReader(io.StringIO(content)))
    assert len(records) == len(ROUTE)
    assert {r.get("plate") for r in records} == {TARGET}


def test_a_wrong_password_shows_a_message_and_stays_on_login(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "operator", "wrong-password-1")
    page.wait_for_selector("#message:has-text('비밀번호가 틀렸습니다')")
    assert page.locator("#view-login").is_visible()


def test_an_expired_session_shows_a_message_and_goes_back_to_login(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "investigator")
    page.locator("#nav").wait_for()
    page.context.clear_cookies()  # what an expired cookie amounts to: the server no longer knows us
    fill_search(page, TARGET)
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#message:has-text('세션이 만료')")
    assert page.locator("#view-login").is_visible()
