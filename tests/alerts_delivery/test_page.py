"""On the page (headless Debian Chromium, real API and Elasticsearch): an operator sees the plate
crop of the hit without a single 403 and corrects a wrong read; an administrator sees an alert
that could not be delivered and sends it again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from flask import Flask
from werkzeug.serving import make_server

from anpr_core.elastic.indices import alerts_index, deliveries_index
from anpr_core.settings import Settings
from indexer.outbox import DeliveryOutbox
from search_api.users import DEMO_PASSWORD
from tests.alerts_delivery.conftest import SECRET, Receiver, crop_file, free_port, wait_for
from tests.alerts_delivery.helpers import a_read, clear_subscriptions, index_reads, subscribe, watch

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium package is not installed")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture(scope="module")
def server(dl_app: Flask) -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    httpd = make_server("127.0.0.1", 0, dl_app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture()
def page(server: str) -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(10_000)
        statuses: list[tuple[int, str]] = []
        page.on("response", lambda r: statuses.append((r.status, r.url)))
        page.statuses = statuses
        page.goto(server)
        yield page
        browser.close()


def log_in(page: Any, role: str) -> None:
    page.fill("#login-form [name=username]", role)
    page.fill("#login-form [name=password]", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")


def test_operator_sees_the_crop_of_the_hit_without_403_and_corrects_the_read(
    page: Any, es_client: Elasticsearch, dl_settings: Settings, tmp_path: Path
) -> None:
    prefix = dl_settings.index_prefix
    clear_subscriptions(es_client, prefix)
    watch(es_client, prefix, "68조6868")
    hit = a_read("68조6868", "cam-01", crop_ref="cam-01/68조6868.jpg")
    crop_file(dl_settings, hit.crop_ref or "")
    index_reads(es_client, prefix, tmp_path, [hit], DeliveryOutbox(es_client, prefix, dl_settings.webhooks))
    es_client.indices.refresh(index=alerts_index(prefix))
    log_in(page, "operator")
    card = page.locator("#alert-list li[data-plate='68조6868']").first
    card.wait_for()
    image = card.locator("img.crop")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert "/alerts/" in (image.get_attribute("src") or "")
    page.wait_for_load_state("networkidle")
    assert [url for status, url in page.statuses if status == 403] == []
    card.locator("button.correct").click()
    page.fill("#correct-dialog [name=plate]", "68조6869")
    page.fill("#correct-dialog [name=reason]", "마지막 숫자 9, 이미지 확인")
    page.click("#correct-dialog button[value=ok]")
    page.wait_for_selector("#message.info")
    assert "68조6869" in page.text_content("#message")


def test_admin_sees_an_undelivered_alert_and_sends_it_again(
    page: Any, es_client: Elasticsearch, dl_settings: Settings, tmp_path: Path
) -> None:
    prefix = dl_settings.index_prefix
    clear_subscriptions(es_client, prefix)
    watch(es_client, prefix, "79호7979")
    down = Receiver(free_port())
    subscribe(es_client, prefix, down.url, SECRET)
    outbox = DeliveryOutbox(es_client, prefix, dl_settings.webhooks).start()
    try:
        index_reads(es_client, prefix, tmp_path, [a_read("79호7979")], outbox)

        def dead() -> list[str]:
            es_client.indices.refresh(index=deliveries_index(prefix))
            hits = es_client.search(
                index=deliveries_index(prefix), query={"term": {"state": "dead"}}, size=100
            )
            return [h["_id"] for h in hits["hits"]["hits"] if h["_source"]["payload"]["plate"] == "79호7979"]

        (delivery_id,) = wait_for(dead, 15, "dead letter")
        log_in(page, "admin")
        row = page.locator(f"#deliveries tr[data-delivery-id='{delivery_id}']")
        row.wait_for()
        down.start()
        row.locator("button.retry").click()
        wait_for(lambda: down.answered_ok, 10, "sent again after the click")
    finally:
        outbox.stop()
        down.stop()


def test_investigator_reviews_low_confidence_reads_on_the_page(
    page: Any, es_client: Elasticsearch, dl_settings: Settings, tmp_path: Path
) -> None:
    prefix = dl_settings.index_prefix
    unsure = [a_read(f"2{i}루730{i}", "cam-01", crop_ref=f"cam-01/2{i}루730{i}.jpg") for i in range(2)]
    unsure = [r.model_copy(update={"confidence": 0.11 + 0.01 * i}) for i, r in enumerate(unsure)]
    for read in unsure:
        crop_file(dl_settings, read.crop_ref or "")
    index_reads(es_client, prefix, tmp_path, unsure, DeliveryOutbox(es_client, prefix, dl_settings.webhooks))
    es_client.indices.refresh(index=f"{prefix}-reads")
    log_in(page, "investigator")
    # The login answer shows the role's first view: open the review view only after it has, or
    # that first view replaces it again (seen on a loaded CI machine).
    page.locator("#nav").wait_for()
    page.locator("#view-search").wait_for()
    page.click("#nav [data-view=review]")
    page.locator("#review-form [name=camera_id]").wait_for()
    page.fill("#review-form [name=camera_id]", "cam-01")
    page.fill("#review-form [name=max_confidence]", "0.15")
    page.fill("#review-form [name=purpose]", "수사")
    page.fill("#review-form [name=case_number]", "2026-아산-0042")
    page.click("#review-form button[type=submit]")
    first = page.locator(f"#review tr[data-read-id='{unsure[0].read_id}']")
    second = page.locator(f"#review tr[data-read-id='{unsure[1].read_id}']")
    first.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=first.locator("img.crop").element_handle())  # fmt: skip
    first.locator("button.confirm").click()
    first.wait_for(state="detached")
    second.locator("button.correct").click()
    page.fill("#correct-dialog [name=plate]", "21루7309")
    page.fill("#correct-dialog [name=reason]", "흐린 이미지, 마지막 숫자 9")
    page.click("#correct-dialog button[value=ok]")
    second.wait_for(state="detached")
    source = es_client.search(index=f"{prefix}-reads", query={"ids": {"values": [unsure[1].read_id]}})
    doc = source["hits"]["hits"][0]["_source"]
    assert (doc["plate"], doc["original_plate"], doc["reviewed"]) == ("21루7309", "21루7301", "corrected")
    assert [url for status, url in page.statuses if status == 403] == []
