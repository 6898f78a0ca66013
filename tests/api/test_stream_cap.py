"""A worker holds at most `api.max_streams_per_worker` live alert streams, so streams never take
every thread from searches; a refused console is told when to retry, and slots come back.
Against real gunicorn (one worker, 4 threads), as a control room would use it."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from anpr_core.settings import Settings
from tests.api.test_gunicorn import _get, start_gunicorn

STREAM = "/api/v1/alerts/stream"


@pytest.fixture(scope="module")
def capped(api_app: Flask, es_settings: Settings) -> Iterator[int]:
    port, process = start_gunicorn(
        es_settings, ANPR_API__MAX_STREAMS_PER_WORKER="2", ANPR_API__WORKERS="1", ANPR_API__THREADS="4"
    )
    yield port
    process.stop()


def _open(
    port: int, token: str, max_seconds: float = 30
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", f"{STREAM}?max_seconds={max_seconds}", headers={"Authorization": f"Bearer {token}"})
    return conn, conn.getresponse()


def _open_when_free(
    port: int, token: str, within_s: float = 15
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """Open a stream, retrying while refused (as the page does after Retry-After, only sooner)."""
    deadline = time.monotonic() + within_s
    while True:
        conn, response = _open(port, token)
        if response.status == 200 or time.monotonic() > deadline:
            return conn, response
        conn.close()
        time.sleep(0.25)


def test_streams_beyond_the_cap_get_503_with_retry_after_and_searches_still_answer(
    capped: int, tokens: dict[str, str]
) -> None:
    operator = tokens["operator"]
    first, second = _open(capped, operator), _open(capped, operator)
    assert [first[1].status, second[1].status] == [200, 200]

    conn, refused = _open(capped, operator)
    assert refused.status == 503
    assert refused.getheader("Retry-After") == "5"
    body = json.loads(refused.read())
    assert body["error"] == "too_many_streams" and body["retry_after_s"] == 5
    assert "2 live alert streams" in body["message"]
    conn.close()
    # Two of the worker's four threads hold streams; the others still answer everything else.
    assert _get(capped, "/api/v1/auth/me", operator) == 200

    # A console goes away: its slot comes back once the server notices (the stream peeks at
    # its socket between polls), and a console that retries then gets its stream.
    first[0].close()
    conn, response = _open_when_free(capped, operator)
    assert response.status == 200
    conn.close()
    second[0].close()


def test_a_stream_that_ends_on_its_own_gives_its_slot_back(capped: int, tokens: dict[str, str]) -> None:
    operator = tokens["operator"]
    # The previous test's closed streams are given back once noticed; start from free slots.
    conn, response = _open_when_free(capped, operator)
    assert response.status == 200
    conn.close()
    for _ in range(4):  # twice the cap, one after another: each ended stream freed its slot
        conn, response = _open(capped, operator, max_seconds=0.3)
        assert response.status == 200
        assert response.read().startswith(b"retry: 2000")  # to the end: max_seconds closes it
        conn.close()
