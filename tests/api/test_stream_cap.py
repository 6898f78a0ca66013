"""A worker holds at most `api.max_streams_per_worker` live alert streams, so streams never take
every thread from searches; a refused console is told when to retry, and slots come back.
Against real gunicorn (one worker, 4 threads), as a control room would use it."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from anpr_core.settings import Settings
from search_api.serve import gunicorn_command
from tests.api.test_gunicorn import _free_port, _get

STREAM = "/api/v1/alerts/stream"


@pytest.fixture(scope="module")
def capped(api_app: Flask, es_settings: Settings) -> Iterator[int]:
    port = _free_port()
    es = es_settings.elasticsearch
    env = dict(
        os.environ,
        ANPR_ELASTICSEARCH__URL=str(es.url),
        ANPR_ELASTICSEARCH__PASSWORD=es.password.get_secret_value() if es.password else "",
        ANPR_ELASTICSEARCH__INDEX_PREFIX=es.index_prefix,
        ANPR_PATHS__VAR_DIR=str(es_settings.paths.var_dir),  # same secret key as the test app
        ANPR_API__MAX_STREAMS_PER_WORKER="2",
        ANPR_API_WORKERS="1",
        ANPR_API_THREADS="4",
        ANPR_API_ACCESS_LOG="0",
    )
    settings = es_settings.model_copy(update={"api": es_settings.api.model_copy(update={"port": port})})
    process = subprocess.Popen(
        gunicorn_command(settings), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if _get(port, "/ready") == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline and process.poll() is None, "gunicorn did not start"
        time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(timeout=30)


def _open(
    port: int, token: str, max_seconds: float = 30
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", f"{STREAM}?max_seconds={max_seconds}", headers={"Authorization": f"Bearer {token}"})
    return conn, conn.getresponse()


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

    # A console goes away: its slot comes back once the server notices (at the latest on the
    # next heartbeat, 5 s), and a console that retries then gets its stream.
    first[0].close()
    deadline, status = time.monotonic() + 15, 0
    while time.monotonic() < deadline:
        conn, response = _open(capped, operator)
        status = response.status
        if status == 200:
            break
        conn.close()
        time.sleep(0.5)
    assert status == 200
    conn.close()
    second[0].close()


def test_a_stream_that_ends_on_its_own_gives_its_slot_back(capped: int, tokens: dict[str, str]) -> None:
    time.sleep(6)  # the previous test's closed streams are noticed by the next heartbeat
    operator = tokens["operator"]
    for _ in range(4):  # twice the cap, one after another: each ended stream freed its slot
        conn, response = _open(capped, operator, max_seconds=0.3)
        assert response.status == 200
        assert response.read().startswith(b"retry: 2000")  # to the end: max_seconds closes it
        conn.close()
