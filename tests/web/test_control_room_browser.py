"""An operator and an investigator use the page in a real (headless Debian) Chromium against the real
API and Elasticsearch: alerts arrive live, are acknowledged, reads are searched, routed and exported."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from elasticsearch import Elasticsearch, helpers

from anpr.bench.seeding import sample_document
from anpr_core.elastic.mappings import ensure_read_index
from anpr_core.reads import GeoPoint, PlateRead, make_read_id
from anpr_core.settings import Settings
from indexer.alerts import alert_document, write_alerts
from indexer.watchlist_matcher import WatchlistIndex
from search_api.app import create_app
from search_api.users import seed_demo_users
from tests.browser import ARGS, CHROMIUM, log_in, needs_chromium, served

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium
TARGET = "38거1234"  # a plate no other suite uses: their exact counts stay theirs
SEEN = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
ROUTE = [("C01", 0), ("C02", 3), ("C05", 9)]
CAMERAS: dict[str, dict[str, Any]] = {}  # the served app's cameras (config/cameras.toml), set by `server`


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
    CAMERAS.update(cameras)
    actions = []
    for camera_id, minutes in ROUTE:
        camera = cameras[camera_id]
        doc = sample_document(
            TARGET, camera_id, SEEN + timedelta(minutes=minutes), camera["lat"], camera["lon"]
        )
        index = ensure_read_index(es_client, es_settings.index_prefix, SEEN)
        actions.append({"_index": index, "_id": doc["read_id"], "_source": doc})
    helpers.bulk(es_client, actions, refresh="wait_for")
    with served(app) as url:
        yield url


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


# ---- the map (Leaflet), the exports and logging out -------------------------------------------


def outside_requests(page, server: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every request the page makes from now on that does not go to the app itself."""
    seen: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else seen.append(r.url))
    return seen


def page_errors(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Console errors (a CSP violation is one) and uncaught exceptions from now on."""
    errors: list[str] = []
    # A refused request (the first /auth/me before logging in) is logged as a failed resource load.
    refused = "the server responded with a status of 401"

    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error" and refused not in message.text:
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_the_alert_board_map_is_leaflet_with_the_camera_network_and_each_hit(
    browser, server: str, es_client: Elasticsearch, web_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(5000)
    outside, errors = outside_requests(page, server), page_errors(page)
    page.goto(server)
    log_in(page, "operator")
    page.wait_for_selector("#stream-state:has-text('실시간')")
    board = page.locator("#alert-map")
    assert "leaflet-container" in (board.get_attribute("class") or ""), (
        "Leaflet did not load: are search_api/web/static/vendor/leaflet/* there (scripts/setup)?"
    )
    # The base layer: Asan-si and its 읍면동 as Leaflet vector paths, then the camera network on top.
    page.wait_for_selector("#alert-map[data-basemap]")
    assert int(board.get_attribute("data-basemap") or 0) > 10
    markers = board.locator(".leaflet-overlay-pane path.camera-marker")
    assert markers.count() == len(CAMERAS) == 45
    assert board.locator(".leaflet-overlay-pane path.camera-C01.state-unknown").count() == 1
    assert board.locator(".leaflet-overlay-pane path.road").count() >= 5
    # Each open alert is a Leaflet marker where its read was taken; a new one appears live.
    alert_id = simulate_watchlisted_read(es_client, web_settings.index_prefix, "56다1212")
    page.locator(f"li.alert[data-alert-id='{alert_id}']").wait_for(timeout=2000)
    hits = board.locator(".leaflet-overlay-pane path.alert-hit.open")
    assert hits.count() == page.locator("li.alert.open").count() >= 1
    # Clicking where an alert was seen centres the map on it (simulate_watchlisted_read: 36.79, 127.0).
    page.locator(f"li.alert[data-alert-id='{alert_id}'] .where").click()
    lat, lon = map(float, (board.get_attribute("data-center") or "0,0").split(","))
    assert abs(lat - 36.79) < 1e-3 and abs(lon - 127.0) < 1e-3
    # The camera-health view has its own map, markers coloured by state.
    page.click("#nav [data-view=cameras]")
    page.locator("#camera-map .leaflet-overlay-pane path.camera-marker").first.wait_for()
    assert page.locator("#camera-map path.camera-marker").count() == 45
    page.click(".camera[data-camera=C17]")  # a tile centres the map on its camera
    lat, lon = map(float, (page.locator("#camera-map").get_attribute("data-center") or "0,0").split(","))
    assert abs(lat - float(CAMERAS["C17"]["lat"])) < 1e-3 and abs(lon - float(CAMERAS["C17"]["lon"])) < 1e-3
    assert outside == [], outside
    assert errors == [], errors
    context.close()


def test_the_route_is_a_polyline_in_time_order_and_the_timeline_pans_the_map(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "analyst")
    fill_search(page, TARGET)
    page.click("#search-form button[type=submit]")
    page.locator("#results tbody tr").first.locator("button.open-route").click()
    route_map = page.locator("#route-map")
    line = route_map.locator(".leaflet-overlay-pane path.route-line")
    line.wait_for()
    # One SVG path through every sighting: a move then a line to each next one.
    path = line.get_attribute("d") or ""
    assert path.count("M") == 1 and path.count("L") == len(ROUTE) - 1, path
    stops = route_map.locator(".leaflet-marker-pane .route-stop")
    assert stops.all_inner_texts() == [str(i + 1) for i in range(len(ROUTE))]
    # The numbered stops are the sightings' cameras in time order (each marker's title names it).
    titles = [stops.nth(i).get_attribute("title") or "" for i in range(stops.count())]
    assert [title.split(". ")[1] for title in titles] == [camera for camera, _ in ROUTE]
    # Clicking the last timeline entry pans the map to that camera and marks its stop.
    page.locator("#timeline li").nth(2).click()
    last = CAMERAS[ROUTE[2][0]]
    lat, lon = map(float, (route_map.get_attribute("data-center") or "0,0").split(","))
    assert abs(lat - float(last["lat"])) < 1e-3 and abs(lon - float(last["lon"])) < 1e-3
    assert route_map.locator(".route-stop.selected").inner_text() == "3"
    page.locator("#timeline li").nth(0).click()
    first = CAMERAS[ROUTE[0][0]]
    lat, lon = map(float, (route_map.get_attribute("data-center") or "0,0").split(","))
    assert abs(lat - float(first["lat"])) < 1e-3 and abs(lon - float(first["lon"])) < 1e-3
    assert route_map.locator(".route-stop.selected").inner_text() == "1"


def export(page, fmt: str) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    """Click an export button: the response's content type and the downloaded file's bytes."""
    with (
        page.expect_response(lambda r: "/api/v1/exports/reads" in r.url) as response_info,
        page.expect_download(timeout=30_000) as download_info,
    ):
        page.click(f"[data-export={fmt}]")
    response = response_info.value
    assert response.status == 200, response.text()
    download = download_info.value
    assert download.suggested_filename.endswith(f".{fmt}"), download.suggested_filename
    return response.headers["content-type"], Path(download.path()).read_bytes()


def test_pdf_geojson_and_kml_exports_each_download_a_valid_file(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "analyst")
    fill_search(page, TARGET)
    page.set_default_timeout(30_000)  # the PDF draws a map and embeds crops

    content_type, pdf = export(page, "pdf")
    assert content_type.startswith("application/pdf")
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]

    content_type, raw = export(page, "geojson")
    assert content_type.startswith("application/geo+json")
    collection = json.loads(raw)
    assert collection["type"] == "FeatureCollection"
    points = [f for f in collection["features"] if f["geometry"]["type"] == "Point"]
    assert len(points) == len(ROUTE)
    assert {f["properties"]["plate"] for f in points} == {TARGET}

    content_type, raw = export(page, "kml")
    assert content_type.startswith("application/vnd.google-earth.kml+xml")
    root = ElementTree.fromstring(raw)
    placemarks = root.findall(".//{http://www.opengis.net/kml/2.2}Placemark")
    assert len(placemarks) >= len(ROUTE)
    assert TARGET in raw.decode("utf-8")
    assert page.locator("#message.info").is_visible()


def test_logout_returns_to_login_and_the_next_api_call_is_unauthorised(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "analyst")
    page.locator("#nav").wait_for()
    assert page.evaluate("fetch('/api/v1/auth/me').then(r => r.status)") == 200
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/logout")) as logout_info:
        page.click("#logout")
    assert logout_info.value.status == 200
    page.locator("#view-login").wait_for(state="visible")
    assert page.locator("#nav").is_hidden()
    assert page.locator("#who").inner_text() == ""
    # The HttpOnly cookie is gone from the browser, so the page's next call is refused...
    assert not [c for c in page.context.cookies() if c["name"] == "anpr_session"]
    assert page.evaluate("fetch('/api/v1/auth/me').then(r => r.status)") == 401
    # ...and reloading the page does not log back in.
    page.reload()
    page.locator("#view-login").wait_for(state="visible")
    assert page.locator("#nav").is_hidden()


def test_without_the_map_library_the_page_says_so_and_still_works(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(5000)
    page.route("**/vendor/leaflet/**", lambda route: route.fulfill(status=404, body="not found"))
    page.goto(server)
    log_in(page, "operator")
    page.wait_for_selector("#stream-state:has-text('실시간')")
    notice = page.locator("#alert-map.map-unavailable")
    assert "지도를 사용할 수 없습니다" in notice.inner_text()
    assert page.locator("#alert-map .leaflet-container, #alert-map.leaflet-container").count() == 0
    page.click("#nav [data-view=cameras]")
    assert page.locator(".camera").count() == 45  # the list views work without the map
    page.click("#lang")
    assert "map is unavailable" in page.locator("#camera-map").inner_text()
    context.close()
