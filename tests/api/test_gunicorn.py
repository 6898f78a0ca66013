"""The API runs under gunicorn: several workers share the token secret, an SSE stream does not
block other requests, and SIGHUP reloads the workers without dropping the service."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from flask import Flask

from anpr.launcher import Process
from anpr_core.settings import Settings
from search_api.serve import gunicorn_command
from tests.api.conftest import PURPOSE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str, token: str | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
    status = conn.getresponse().status
    conn.close()
    return status


def _children(pid: int) -> set[int]:
    return {int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()}


def start_gunicorn(es_settings: Settings, **env_overrides: str) -> tuple[int, Process]:
    """The API under real gunicorn on a free port, against the test node; ready when it returns."""
    port = _free_port()
    es = es_settings.elasticsearch
    env = dict(
        os.environ,
        ANPR_ELASTICSEARCH__URL=str(es.url),
        ANPR_ELASTICSEARCH__PASSWORD=es.password.get_secret_value() if es.password else "",
        ANPR_ELASTICSEARCH__INDEX_PREFIX=es.index_prefix,
        ANPR_PATHS__VAR_DIR=str(es_settings.paths.var_dir),  # same secret key as the test app
        ANPR_API__ACCESS_LOG="0",
        **env_overrides,
    )
    settings = es_settings.model_copy(update={"api": es_settings.api.model_copy(update={"port": port})})
    process = Process(
        "gunicorn", gunicorn_command(settings), env=env, log_dir=es_settings.paths.var_dir / "logs"
    )
    try:
        process.start().wait_ready(lambda: _get(port, "/ready") == 200, 60, "gunicorn")
    except BaseException:
        process.stop(grace_s=5)  # never leave a half-started server behind (its own session)
        raise
    return port, process


@pytest.fixture(scope="module")
def server(api_app: Flask, es_settings: Settings) -> Iterator[tuple[int, Process]]:
    port, process = start_gunicorn(es_settings, ANPR_API__WORKERS="2")
    yield port, process
    process.stop()


ROUTE = "/api/v1/plates/" + urllib.parse.quote("12가3456") + "/route?" + urllib.parse.urlencode(PURPOSE)


def test_a_stream_does_not_block_searches_and_workers_share_the_secret(
    server: tuple[int, Process], tokens: dict[str, str]
) -> None:
    port, _ = server
    stream = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    stream.request(
        "GET",
        "/api/v1/alerts/stream?max_seconds=5",
        headers={"Authorization": f"Bearer {tokens['operator']}"},
    )
    assert stream.getresponse().status == 200  # held open by one thread of one worker
    # Requests land on both workers; the token verifies in each (one secret under var/).
    assert [_get(port, ROUTE, tokens["investigator"]) for _ in range(6)] == [200] * 6
    assert _get(port, ROUTE) == 401
    stream.close()


def test_sighup_replaces_workers_without_downtime(
    server: tuple[int, Process], tokens: dict[str, str]
) -> None:
    port, process = server
    before = _children(process.pid)
    assert len(before) == 2
    os.kill(process.pid, signal.SIGHUP)  # to the master: a graceful reload
    statuses = []
    retries = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for _attempt in range(5):
            try:
                statuses.append(_get(port, ROUTE, tokens["investigator"]))
                break
            except (http.client.RemoteDisconnected, ConnectionResetError):
                # A connection accepted by an old worker as it exits is closed unanswered
                # (gunicorn gthread); idempotent GETs are retried, as HTTP clients do.
                retries += 1
                time.sleep(0.05)
        after = _children(process.pid)
        if len(after) == 2 and not after & before:
            break
        time.sleep(0.1)
    assert not _children(process.pid) & before, "workers were not replaced"
    assert set(statuses) == {200}
    # A reset connection or two per exiting worker is expected; the reload is quick on an idle
    # machine, so a handful of requests may see only those.
    assert retries <= len(statuses) + 2 * len(before)
