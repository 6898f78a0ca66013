"""The page in a real browser: the API app served on a free local port, and Debian's headless
Chromium (through Playwright) on it, recording every response's status."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from search_api.users import DEMO_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium package is not installed"
)


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app behind a threaded local server (live streams hold a thread each); its base URL."""
    # Request lines would also come from SSE threads still open when pytest closes its output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()


@contextmanager
def chromium_page(url: str, timeout_ms: int) -> Iterator[Any]:
    """A fresh browser on `url`; `page.statuses` lists (status, url) of every response since."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(timeout_ms)
            statuses: list[tuple[int, str]] = []
            page.on("response", lambda r: statuses.append((r.status, r.url)))
            page.statuses = statuses
            page.goto(url)
            yield page
        finally:
            browser.close()


def log_in(page: Any, role: str, password: str = DEMO_PASSWORD) -> None:
    """Through the page's login form, as the demo user named after `role`."""
    page.fill("#login-form [name=username]", role)
    page.fill("#login-form [name=password]", password)
    page.click("#login-form button[type=submit]")
