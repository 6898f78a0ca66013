"""On the page (headless Debian Chromium, real API and Elasticsearch): an operator sees the plate
crop and the small frame of the hit without a single 403 (Korean and English) and corrects a
wrong read; an administrator sees an alert that could not be delivered and sends it again, and
subscribes, pauses and removes a webhook."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from flask import Flask

from anpr_core.elastic.indices import alerts_index, deliveries_index, webhooks_index
from anpr_core.settings import Settings
from indexer.outbox import DeliveryOutbox
from indexer.webhooks import verify
from tests.alerts_delivery.conftest import SECRET, Receiver, crop_file, free_port, wait_for
from tests.alerts_delivery.helpers import a_read, clear_subscriptions, index_reads, subscribe, watch
from tests.browser import chromium_page, log_in, needs_chromium, served

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(dl_app: Flask) -> Iterator[str]:
    with served(dl_app) as url:
        yield url


@pytest.fixture()
def page(server: str) -> Iterator[Any]:
    with chromium_page(server, timeout_ms=10_000) as page:
        yield page


def test_operator_sees_the_crop_of_the_hit_without_403_and_corrects_the_read(
    page: Any, es_client: Elasticsearch, dl_settings: Settings, tmp_path: Path
) -> None:
    prefix = dl_settings.index_prefix
    clear_subscriptions(es_client, prefix)
    watch(es_client, prefix, "68조6868")
    hit = a_read("68조6868", "cam-01", crop_ref="cam-01/68조6868.jpg", frame_ref="cam-01/68조6868.frame.jpg")
    crop_file(dl_settings, hit.crop_ref or "")
    crop_file(dl_settings, hit.frame_ref or "")
    index_reads(es_client, prefix, tmp_path, [hit], DeliveryOutbox(es_client, prefix, dl_settings.webhooks))
    es_client.indices.refresh(index=alerts_index(prefix))
    log_in(page, "operator")
    card = page.locator("#alert-list li[data-plate='68조6868']").first
    card.wait_for()
    # The evidence: the plate crop and the small frame of the pass, side by side, both loaded.
    for image in (card.locator("img.crop"), card.locator("img.frame")):
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        assert "/alerts/" in (image.get_attribute("src") or "")
    assert card.locator("img.frame").get_attribute("title") == "통과 장면"
    page.wait_for_load_state("networkidle")
    assert [url for status, url in page.statuses if status == 403] == []
    evidence = [(status, url) for status, url in page.statuses if url.endswith(("/crop", "/frame"))]
    assert {url.rsplit("/", 1)[1] for status, url in evidence if status == 200} == {"crop", "frame"}
    page.click("#lang")
    page.wait_for_selector("#alert-list li[data-plate='68조6868'] img.frame[title='Scene of the pass']")
    page.click("#lang")
    page.wait_for_selector("#alert-list li[data-plate='68조6868'] img.frame[title='통과 장면']")
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


def test_admin_subscribes_a_webhook_on_the_page_pauses_and_removes_it(
    page: Any, es_client: Elasticsearch, dl_settings: Settings, tmp_path: Path, receiver: Receiver
) -> None:
    prefix = dl_settings.index_prefix
    clear_subscriptions(es_client, prefix)
    watch(es_client, prefix, "81다8181")
    log_in(page, "admin")
    page.locator("#webhook-form").wait_for()  # the delivery view is an administrator's first
    page.fill("#webhook-form [name=url]", receiver.url)
    page.fill("#webhook-form [name=secret]", SECRET)
    page.check("#webhook-form [name=priorities][value=high]")
    page.fill("#webhook-form [name=cameras]", "cam-01")
    page.fill("#webhook-form [name=description]", "112 종합상황실")
    page.click("#webhook-form button[type=submit]")
    row = page.locator("#webhooks tbody tr", has_text=receiver.url)
    row.wait_for()
    assert [c.strip() for c in row.locator("td").all_text_contents()[1:5]] == [
        "높음", "cam-01", "112 종합상황실", "사용 중"]  # fmt: skip
    assert SECRET not in page.content()  # write-only: the page never shows it
    outbox = DeliveryOutbox(es_client, prefix, dl_settings.webhooks).start()
    try:
        # The page's subscription is the one the indexer uses: its filter lets cam-01 through only.
        index_reads(es_client, prefix, tmp_path, [a_read("81다8181", "cam-01"), a_read("81다8181", "cam-02")],
                    outbox)  # fmt: skip
        got = wait_for(lambda: receiver.answered_ok, 10, "webhook from the page's subscription")
        time.sleep(1.0)  # the cam-02 alert would have arrived by now
        assert len(receiver.answered_ok) == 1 and verify(SECRET, got[0].headers, got[0].body)
        assert json.loads(got[0].body)["alert"]["camera_id"] == "cam-01"
    finally:
        outbox.stop()
    row.locator("button.toggle").click()
    page.wait_for_function(
        "url => [...document.querySelectorAll('#webhooks tbody tr')].some("
        "r => r.textContent.includes(url) && r.classList.contains('paused'))",
        arg=receiver.url,
    )
    (hook,) = [h["_source"] for h in es_client.search(index=webhooks_index(prefix))["hits"]["hits"]]
    assert hook["active"] is False and hook["cameras"] == ["cam-01"] and hook["priorities"] == ["high"]
    page.click("#lang")
    page.locator("#webhooks tbody tr", has_text="paused").wait_for()
    page.locator("#webhooks tbody tr", has_text=receiver.url).locator("button.remove").click()
    page.locator("#webhooks tbody tr", has_text=receiver.url).wait_for(state="detached")
    assert es_client.count(index=webhooks_index(prefix))["count"] == 0
    assert [url for status, url in page.statuses if status >= 400 and "/webhooks" in url] == []
    assert [url for status, url in page.statuses if status == 403] == []
