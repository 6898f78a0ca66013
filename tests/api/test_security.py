"""Issue 22: what a hostile insider or a same-site page tried, and what the API does now.

Each test replays the attack against the real Elasticsearch and the real application.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import logging
import os
import socket
import stat
import time
import urllib.parse
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from elasticsearch import Elasticsearch
from flask import Flask
from flask.testing import FlaskClient

from anpr_core.elastic.indices import camera_health_index
from anpr_core.journal import JournalReader, ReadJournal
from anpr_core.logging_setup import JsonFormatter
from anpr_core.settings import Settings
from lpr.workers.crops import store_crop
from lpr.workers.feeds import FeedReader
from lpr.workers.health import CameraHealth
from lpr.workers.publish import HealthPublisher
from search_api.app import create_app
from search_api.roles import Role
from search_api.tokens import COOKIE_NAME
from search_api.users import DEMO_PASSWORD, UserStore, seed_demo_users
from tests.api.conftest import PURPOSE, audit_records, auth
from tests.api.test_gunicorn import start_gunicorn

# The texts of the issue and their neighbours: none can become a plate, or each has a huge
# space of OCR substitutions within the largest max_cost.
WORST_FUZZY_TEXTS = ["888888888888", "88888888", "888가8888", "서울88가8888", "외교888888", "00가0000"]


@pytest.mark.parametrize("text", WORST_FUZZY_TEXTS)
def test_a_fuzzy_search_costs_milliseconds_of_cpu_whatever_the_text(
    client: FlaskClient, tokens: dict[str, str], text: str
) -> None:
    # Before: 888888888888 at max_cost 2.0 ran 34 s of pure-Python search before answering 400.
    cpu = []
    for _ in range(3):  # the least disturbed of three: the CI machine is shared
        started = time.thread_time()
        response = client.get(
            "/api/v1/reads",
            query_string={**PURPOSE, "plate": text, "mode": "fuzzy", "max_cost": 2.0},
            headers=auth(tokens, "investigator"),
        )
        cpu.append(time.thread_time() - started)
    assert min(cpu) < 0.05, f"{text}: {min(cpu) * 1000:.1f} ms of CPU"
    if text in ("888888888888", "88888888"):  # no use character: cannot become a plate
        assert response.status_code == 400
        assert response.get_json()["fields"][0]["field"] == "plate"
    else:
        assert response.status_code == 200, response.get_json()
        assert len(response.get_json()["candidates"]) <= 200


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_camera_password_in_the_stream_url_reaches_neither_health_nor_logs_nor_any_role(
    client: FlaskClient, tokens: dict[str, str], es_client: Elasticsearch, api_app: Flask
) -> None:
    # Before: `cannot open rtsp://admin:S3cret-pw@…` was the camera's last_error, published to
    # Elasticsearch, returned by GET /cameras to operators and logged verbatim by the workers.
    port = _closed_port()
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    feeds_log = logging.getLogger("lpr.workers.feeds")
    feeds_log.addHandler(handler)
    healths = {}
    readers = []
    try:
        for camera_id, url in (
            ("cam-01", f"http://admin:S3cret-pw@127.0.0.1:{port}/cam.mjpg"),
            ("cam-02", f"rtsp://admin:S3cret-pw@127.0.0.1:{port}/stream"),
        ):
            healths[camera_id] = CameraHealth(camera_id)
            reader = FeedReader(camera_id, url, healths[camera_id], timeout_ms=2000)
            reader.start()
            readers.append(reader)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(h.errors for h in healths.values()):
            time.sleep(0.05)
    finally:
        for reader in readers:
            reader.stop_event.set()
        feeds_log.removeHandler(handler)
    for health in healths.values():
        assert health.errors and health.last_error
        assert "S3cret" not in health.last_error and "***@127.0.0.1" in health.last_error
    assert "camera down" in lines.getvalue() and "S3cret" not in lines.getvalue()

    prefix = api_app.extensions["anpr"].prefix
    assert HealthPublisher(healths, lambda: es_client, camera_health_index(prefix)).publish_once()
    # A document an older worker wrote, password and all: the API masks it too.
    leaked = {
        "camera_id": "cam-03",
        "state": "down",
        "last_error": "cannot open rtsp://admin:S3cret-pw@10.1.2.3/s",
    }
    es_client.index(index=camera_health_index(prefix), id="cam-03", document=leaked, refresh="wait_for")
    es_client.indices.refresh(index=camera_health_index(prefix))
    for role in ("operator", "admin"):
        response = client.get("/api/v1/cameras", headers=auth(tokens, role))
        assert response.status_code == 200
        assert "S3cret" not in response.get_data(as_text=True)
        errors = {c["id"]: c["health"].get("last_error") for c in response.get_json()["cameras"]}
        assert errors["cam-03"] == "cannot open rtsp://***@10.1.2.3/s"
        assert "***@127.0.0.1" in errors["cam-02"]


def _cookie_session(api_app: Flask, username: str, role: Role) -> FlaskClient:
    """A browser logged in as a fresh user: its cookie jar holds the HttpOnly session cookie."""
    api_app.extensions["anpr"].users.add(username, DEMO_PASSWORD, role)
    browser = api_app.test_client()
    login = browser.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert login.status_code == 200 and browser.get_cookie(COOKIE_NAME) is not None
    return browser


def test_a_same_site_form_cannot_import_watchlist_entries_with_the_admins_cookie(
    api_app: Flask, tokens: dict[str, str]
) -> None:
    # Before: <form enctype="text/plain" action=".../watchlist/import"> on another port of the
    # host, submitted while an admin was logged in, created entries "created_by admin".
    browser = _cookie_session(api_app, f"csrf-{uuid.uuid4().hex[:8]}", Role.ADMIN)
    forged = "plate,reason,priority\n45저4545,wanted,high\n"
    response = browser.post("/api/v1/watchlist/import", data=forged, content_type="text/plain")
    assert response.status_code == 403 and response.get_json()["error"] == "csrf"
    form = browser.post(
        "/api/v1/watchlist/import",
        data={"file": (io.BytesIO(forged.encode()), "list.csv")},
        content_type="multipart/form-data",
    )
    assert form.status_code == 403
    # Even a script that could add the header may not send the CSV as text/plain.
    plain = browser.post(
        "/api/v1/watchlist/import", data=forged, content_type="text/plain", headers={"X-Requested-With": "x"}
    )
    assert plain.status_code == 415
    listed = browser.get("/api/v1/watchlist", query_string={"plate": "45저4545"})
    assert listed.status_code == 200 and listed.get_json()["entries"] == []
    # The page (header + text/csv) and a bearer client still import.
    page = browser.post(
        "/api/v1/watchlist/import", data=forged, content_type="text/csv", headers={"X-Requested-With": "anpr"}
    )
    assert page.status_code == 200 and page.get_json()["imported"] == 1
    bearer = api_app.test_client().post(
        "/api/v1/watchlist/import",
        data="plate,reason,priority\n46저4646,wanted,high\n",
        content_type="text/csv",
        headers=auth(tokens, "admin"),
    )
    assert bearer.status_code == 200


def test_every_cookie_authenticated_state_change_needs_the_custom_header(api_app: Flask) -> None:
    browser = _cookie_session(api_app, f"csrf-{uuid.uuid4().hex[:8]}", Role.ADMIN)
    forged = [
        ("post", "/api/v1/auth/logout", {}),
        ("post", "/api/v1/watchlist", {"data": {"plate": "45저4545"}}),
        ("post", "/api/v1/users", {"data": {"username": "mallory"}}),
        ("post", "/api/v1/alerts/a1/ack", {"data": {"note": "x"}}),
        ("delete", f"/api/v1/watchlist/{uuid.uuid4().hex}", {}),
    ]
    for method, path, extra in forged:
        response = getattr(browser, method)(path, **extra)
        assert response.status_code == 403, (path, response.get_json())
    # The forged logout did not end the session: the next page request still works.
    assert browser.get("/api/v1/auth/me").status_code == 200
    assert browser.post("/api/v1/auth/logout", headers={"X-Requested-With": "anpr"}).status_code == 200
    assert browser.get("/api/v1/auth/me").status_code == 401


def test_the_page_sends_the_csrf_header_on_every_api_call(client: FlaskClient) -> None:
    script = client.get("/ui/static/api.js").get_data(as_text=True)
    assert '"X-Requested-With": "anpr-console"' in script


def _change(record: dict[str, object]) -> dict[str, object]:
    return json.loads(str(record["change"])) if record.get("change") else {}


def test_admin_writes_are_audited_with_what_they_changed(
    api_app: Flask, client: FlaskClient, tokens: dict[str, str]
) -> None:
    # Before: the records said "POST /users 201" but not which user with which role, nor
    # which plate a deleted watchlist entry had.
    name = f"new-{uuid.uuid4().hex[:8]}"
    created = client.post(
        "/api/v1/users",
        json={"username": name, "password": "Kestrel-harbour-1947", "role": "investigator"},
        headers=auth(tokens, "admin"),
    )
    assert created.status_code == 201, created.get_json()
    [record] = [
        r for r in audit_records(api_app, endpoint="auth.create_user") if _change(r).get("username") == name
    ]
    assert _change(record) == {"action": "create_user", "username": name, "role": "investigator"}
    assert "Kestrel" not in json.dumps(record)

    entry = client.post(
        "/api/v1/watchlist", json={"plate": "47저4747", "reason": "stolen"}, headers=auth(tokens, "admin")
    ).get_json()
    path = f"/api/v1/watchlist/{entry['id']}"
    assert client.delete(path, headers=auth(tokens, "admin")).status_code == 204
    [deleted] = [r for r in audit_records(api_app, endpoint="watchlist.delete_entry") if r["path"] == path]
    change = _change(deleted)
    assert change["action"] == "delete" and change["before"]["plate"] == "47저4747"


def test_the_users_command_line_writes_audit_records(
    api_app: Flask, es_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: `anpr users add/disable` changed accounts without any audit record.
    from anpr.cli import main

    es = es_settings.elasticsearch
    monkeypatch.setenv("ANPR_ELASTICSEARCH__URL", str(es.url))
    monkeypatch.setenv("ANPR_ELASTICSEARCH__PASSWORD", es.password.get_secret_value() if es.password else "")
    monkeypatch.setenv("ANPR_ELASTICSEARCH__INDEX_PREFIX", es.index_prefix)
    monkeypatch.setenv("ANPR_PATHS__VAR_DIR", str(es_settings.paths.var_dir))
    name = f"cli-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr("sys.stdin", io.StringIO("Kestrel-harbour-1947\n"))
    assert main(["users", "add", name, "--role", "analyst"]) == 0
    assert main(["users", "disable", name]) == 0
    records = [r for r in audit_records(api_app, method="CLI") if _change(r).get("username") == name]
    by_endpoint = {r["endpoint"]: r for r in records}
    assert _change(by_endpoint["cli.users.add"])["role"] == "analyst"
    assert by_endpoint["cli.users.disable"]["outcome"] == "allowed"
    assert str(by_endpoint["cli.users.add"]["user"]).startswith("cli:")


def test_users_list_on_a_fresh_demo_where_users_were_seeded_before_any_index_existed(
    es_client: Elasticsearch, es_settings: Settings, test_index_prefix: str
) -> None:
    # Before: the demo seeded users before the index template existed, Elasticsearch guessed a
    # text mapping for username, and GET /users failed with 500 on the sort.
    prefix = f"{test_index_prefix}-fresh"
    seed_demo_users(UserStore(es_client, prefix))
    fresh = es_settings.model_copy(
        update={"elasticsearch": es_settings.elasticsearch.model_copy(update={"index_prefix": prefix})}
    )
    app = create_app(fresh, es=es_client, cameras={}, ensure_indices=False)
    browser = app.test_client()
    token = browser.post(
        "/api/v1/auth/login", json={"username": "admin", "password": DEMO_PASSWORD}
    ).get_json()
    response = browser.get("/api/v1/users", headers={"Authorization": f"Bearer {token['token']}"})
    assert response.status_code == 200, response.get_json()
    assert [u["username"] for u in response.get_json()["users"]] == sorted(r.value for r in Role)
    mapping = es_client.indices.get_mapping(index=f"{prefix}-users")
    assert next(iter(mapping.values()))["mappings"]["properties"]["username"]["type"] == "keyword"


def test_users_list_survives_an_index_created_without_the_mapping(
    es_client: Elasticsearch, es_settings: Settings, test_index_prefix: str
) -> None:
    prefix = f"{test_index_prefix}-guessed"
    es_client.index(index=f"{prefix}-users", id="zed", document={"username": "zed", "role": "admin"})
    es_client.index(index=f"{prefix}-users", id="amy", document={"username": "amy", "role": "analyst"})
    es_client.indices.refresh(index=f"{prefix}-users")
    assert [u.username for u in UserStore(es_client, prefix).list()] == ["amy", "zed"]


def _cursor(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("mode", "values"),
    [
        ("pattern", ["a", "b"]),
        ("pattern", [2**70, "x"]),
        ("pattern", [1, 2]),
        ("pattern", [True, "x"]),
        ("pattern", [1, "x", 3]),
        ("fuzzy", ["s", 1, "x"]),
        ("fuzzy", [1.0, "t", "x"]),
    ],
)
def test_a_forged_search_after_cursor_is_400_naming_it(
    client: FlaskClient, tokens: dict[str, str], mode: str, values: object
) -> None:
    # Before: base64 of ["a","b"] reached Elasticsearch and came back as a 500 with a traceback.
    response = client.get(
        "/api/v1/reads",
        query_string={**PURPOSE, "plate": "12가3456", "mode": mode, "search_after": _cursor(values)},
        headers=auth(tokens, "investigator"),
    )
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["fields"][0]["field"] == "search_after"


def test_alert_sequences_beyond_a_long_are_400_not_500(client: FlaskClient, tokens: dict[str, str]) -> None:
    # Before: before_sequence of 2**64 was a 500, and a 30-digit Last-Event-ID made the stream
    # report "elasticsearch unavailable" on every reconnect, forever.
    listed = client.get(
        "/api/v1/alerts", query_string={"before_sequence": 2**64}, headers=auth(tokens, "operator")
    )
    assert listed.status_code == 400 and listed.get_json()["fields"][0]["field"] == "before_sequence"
    since = client.get(
        "/api/v1/alerts/stream", query_string={"since": 10**30}, headers=auth(tokens, "operator")
    )
    assert since.status_code == 400 and since.get_json()["fields"][0]["field"] == "since"
    for last_event in ("1" * 30, "²", "9223372036854775808"):
        stream = client.get(
            "/api/v1/alerts/stream", headers={**auth(tokens, "operator"), "Last-Event-ID": last_event}
        )
        assert stream.status_code == 400, last_event
        assert stream.get_json()["fields"][0]["field"] == "Last-Event-ID"
    largest = client.get(
        "/api/v1/alerts", query_string={"before_sequence": 2**63 - 1}, headers=auth(tokens, "operator")
    )
    assert largest.status_code == 200


@pytest.mark.parametrize(
    "purpose", ["     ", "\u3000\u3000\u3000\u3000\u3000", "\u200b\u200b\u200b\u200b\u200b", " 수 ", "-----"]
)
def test_a_purpose_of_only_spaces_or_one_character_is_refused(
    client: FlaskClient, tokens: dict[str, str], purpose: str
) -> None:
    # Before: five spaces satisfied the PIPA purpose statement.
    response = client.get(
        "/api/v1/reads",
        query_string={"purpose": purpose, "case_number": "2026-서울-00123", "plate": "12가3456"},
        headers=auth(tokens, "investigator"),
    )
    assert response.status_code == 400
    assert [f["field"] for f in response.get_json()["fields"]] == ["purpose"]


def test_a_short_korean_purpose_is_accepted_and_audited_trimmed(
    api_app: Flask, client: FlaskClient, tokens: dict[str, str]
) -> None:
    case = f"TRIM-{uuid.uuid4().hex[:6]}"
    response = client.get(
        "/api/v1/reads",
        query_string={"purpose": "  수배  ", "case_number": case, "plate": "12가3456"},
        headers=auth(tokens, "investigator"),
    )
    assert response.status_code == 200, response.get_json()
    [record] = audit_records(api_app, case_number=case)
    assert record["purpose"] == "수배"


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("weak.one", "aaaaaaaaaaaa", "too easy to guess"),  # accepted before: 10+ characters
        ("weak.two", "xweak.twox-2026", "must not contain the username"),
        ("weak.three", "weak.three", "at least 12"),  # password = username, accepted before
        ("weak.four", "Password1234!", "too easy to guess"),
        ("weak.five", "qwertyuiop12", "too easy to guess"),
        ("weak.six", "Tq8#vLm2@pZ", "at least 12"),  # strong but 11 characters
    ],
)
def test_weak_passwords_are_refused_naming_the_reason(
    client: FlaskClient, tokens: dict[str, str], username: str, password: str, reason: str
) -> None:
    response = client.post(
        "/api/v1/users",
        json={"username": username, "password": password, "role": "analyst"},
        headers=auth(tokens, "admin"),
    )
    assert response.status_code == 400
    [problem] = response.get_json()["fields"]
    assert problem["field"] == "password" and reason in problem["reason"]


def _address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def test_spraying_many_usernames_from_one_address_is_throttled(client: FlaskClient) -> None:
    # Before: the limit was per (address, username), so one address could try a password
    # against any number of usernames.
    attacker = {"REMOTE_ADDR": _address()}
    statuses = [
        client.post(
            "/api/v1/auth/login",
            json={"username": f"user{n}", "password": "Spring2026!!"},
            environ_base=attacker,
        ).status_code
        for n in range(22)
    ]
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429, 429]
    # A real user at another address logs in as before.
    assert (
        client.post("/api/v1/auth/login", json={"username": "analyst", "password": DEMO_PASSWORD}).status_code
        == 200
    )


@pytest.fixture(scope="module")
def behind_proxy(es_settings: Settings, es_client: Elasticsearch, api_app: Flask) -> Flask:
    """The API as docs/deploy.md runs it: one reverse proxy on the same host in front."""
    settings = es_settings.model_copy(
        update={"api": es_settings.api.model_copy(update={"trusted_proxies": 1})}
    )
    return create_app(settings, es=es_client, cameras={}, ensure_indices=False)


def test_behind_the_proxy_the_client_address_comes_from_x_forwarded_for(behind_proxy: Flask) -> None:
    # Before: every client was 127.0.0.1 behind the proxy: /metrics was open to all, five wrong
    # passwords from anyone locked the named user out for everyone, the audit said 127.0.0.1.
    browser = behind_proxy.test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    attacker, analyst = _address(), _address()
    wrong = {"username": "analyst", "password": "not-the-password"}
    for _ in range(5):
        response = browser.post(
            "/api/v1/auth/login", json=wrong, environ_base=proxy, headers={"X-Forwarded-For": attacker}
        )
        assert response.status_code == 401
    blocked = browser.post(
        "/api/v1/auth/login", json=wrong, environ_base=proxy, headers={"X-Forwarded-For": attacker}
    )
    assert blocked.status_code == 429
    ok = browser.post(
        "/api/v1/auth/login",
        json={"username": "analyst", "password": DEMO_PASSWORD},
        environ_base=proxy,
        headers={"X-Forwarded-For": analyst},
    )
    assert ok.status_code == 200
    scraper = behind_proxy.test_client()
    metrics = scraper.get("/metrics", environ_base=proxy, headers={"X-Forwarded-For": attacker})
    assert metrics.status_code == 401
    assert scraper.get("/metrics", environ_base=proxy).status_code == 200  # the host's own scraper
    records = [
        r for r in audit_records(behind_proxy, endpoint="auth.login") if r["client_address"] == attacker
    ]
    assert len(records) == 6


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(client: FlaskClient) -> None:
    spoofed = client.get(
        "/metrics", environ_base={"REMOTE_ADDR": "10.1.1.1"}, headers={"X-Forwarded-For": "127.0.0.1"}
    )
    assert spoofed.status_code == 401


def test_personal_data_and_the_login_token_are_never_cached(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    # Before: /reads, /plates/…/route, /alerts and /auth/login carried no Cache-Control.
    plate = urllib.parse.quote("12가3456")
    for role, path, params in (
        ("investigator", "/api/v1/reads", {**PURPOSE, "plate": "12가3456"}),
        ("investigator", f"/api/v1/plates/{plate}/route", PURPOSE),
        ("operator", "/api/v1/alerts", {}),
        ("operator", "/api/v1/cameras", {}),
        ("admin", "/api/v1/users", {}),
    ):
        response = client.get(path, query_string=params, headers=auth(tokens, role))
        assert response.status_code == 200, path
        assert "no-store" in response.headers.get("Cache-Control", ""), path
    login = client.post("/api/v1/auth/login", json={"username": "operator", "password": DEMO_PASSWORD})
    assert login.status_code == 200 and login.headers["Cache-Control"] == "no-store"


def test_journal_segments_and_crops_are_for_the_service_user_only(tmp_path: Path) -> None:
    # Before: segments and crops were 0644 in 0755 directories: any local account read plates.
    old_umask = os.umask(0o022)  # the usual umask, under which files were world-readable
    try:
        journal_dir = tmp_path / "var" / "journal"
        journal = ReadJournal(journal_dir)
        journal.append({"read_id": "r1", "plate": "12가3456"})
        journal.close()
        reader = JournalReader(journal_dir)
        reader.commit(reader.read_batch(10))
        reader.quarantine(b"not json", "test")
        ref = store_crop(
            tmp_path / "crops", "r1", datetime(2026, 5, 1, tzinfo=UTC), np.zeros((20, 60, 3), np.uint8)
        )
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(journal_dir.stat().st_mode) == 0o700
    files = [p for p in journal_dir.iterdir() if p.is_file()]
    assert {"seg-000000000000.jsonl", "indexer.position", "quarantine.jsonl"} <= {p.name for p in files}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert ref is not None
    crop = tmp_path / "crops" / ref
    assert stat.S_IMODE(crop.stat().st_mode) == 0o600
    directory = crop.parent
    while directory != tmp_path:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
        directory = directory.parent


def test_one_user_cannot_hold_every_live_alert_stream(api_app: Flask, es_settings: Settings) -> None:
    # Before: one operator token could open all 12 stream slots for an hour; every other console
    # then got 503. Against real gunicorn: one worker, 4 stream slots, 2 per user.
    other = f"desk-{uuid.uuid4().hex[:8]}"
    api_app.extensions["anpr"].users.add(other, DEMO_PASSWORD, Role.OPERATOR)
    port, process = start_gunicorn(
        es_settings,
        ANPR_API__WORKERS="1",
        ANPR_API__THREADS="8",
        ANPR_API__MAX_STREAMS_PER_WORKER="4",
        ANPR_API__MAX_STREAMS_PER_USER="2",
    )
    opened: list[http.client.HTTPConnection] = []
    try:
        token = {name: _login(port, name) for name in ("operator", other)}

        def open_stream(name: str) -> http.client.HTTPResponse:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/v1/alerts/stream", headers={"Authorization": f"Bearer {token[name]}"})
            opened.append(conn)
            return conn.getresponse()

        assert [open_stream("operator").status for _ in range(2)] == [200, 200]
        refused = open_stream("operator")
        assert refused.status == 429 and refused.getheader("Retry-After") == "5"
        assert json.loads(refused.read())["error"] == "too_many_streams_for_user"
        # Another console still gets its stream: the slots are not all one user's.
        assert open_stream(other).status == 200
    finally:
        for conn in opened:
            conn.close()
        process.stop()


def _login(port: int, username: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"username": username, "password": DEMO_PASSWORD})
    conn.request("POST", "/api/v1/auth/login", body=body, headers={"Content-Type": "application/json"})
    token = json.loads(conn.getresponse().read())["token"]
    conn.close()
    return str(token)
