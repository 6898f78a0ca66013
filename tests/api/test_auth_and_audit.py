"""Every access is authenticated, role-checked and audited (PIPA)."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient

from search_api.users import DEMO_PASSWORD
from tests.api.conftest import PURPOSE, audit_records, auth


def test_login_returns_a_token_and_an_httponly_cookie(client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "investigator", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["role"] == "investigator" and body["token_type"] == "Bearer"
    cookie = response.headers["Set-Cookie"]
    assert "anpr_session=" in cookie and "HttpOnly" in cookie
    me = client.get("/api/v1/auth/me")  # the cookie alone authenticates
    assert me.get_json() == {"username": "investigator", "role": "investigator"}


def test_wrong_password_is_401_and_repeated_failures_are_rate_limited(client: FlaskClient) -> None:
    bad = {"username": "analyst", "password": "not-the-password"}
    attacker = {"REMOTE_ADDR": "10.9.8.7"}
    statuses = [
        client.post("/api/v1/auth/login", json=bad, environ_base=attacker).status_code for _ in range(6)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    # Even the right password waits out the window: the limit is per address and username.
    right = {"username": "analyst", "password": DEMO_PASSWORD}
    blocked = client.post("/api/v1/auth/login", json=right, environ_base=attacker)
    assert blocked.status_code == 429
    assert blocked.get_json()["retry_after_s"] > 0
    # The real analyst at another address is not locked out by the attacker.
    assert client.post("/api/v1/auth/login", json=right).status_code == 200


def test_no_token_is_401_and_audited(api_app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/v1/reads", query_string={"plate": "12가3456", **PURPOSE})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthenticated"
    denied = [r for r in audit_records(api_app, endpoint="reads.search", status="401")]
    assert denied and denied[0]["outcome"] == "denied" and denied[0]["user"] is None


def test_forged_token_is_401(client: FlaskClient, tokens: dict[str, str]) -> None:
    forged = tokens["admin"][:-4] + "AAAA"
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_wrong_role_is_403_and_audited(api_app: Flask, client: FlaskClient, tokens: dict[str, str]) -> None:
    # An operator handles alerts; searching plates is not their job.
    response = client.get(
        "/api/v1/reads", query_string={"plate": "12가3456", **PURPOSE}, headers=auth(tokens, "operator")
    )
    assert response.status_code == 403
    assert response.get_json()["allowed_roles"] == ["analyst", "investigator"]
    records = audit_records(api_app, endpoint="reads.search", user="operator")
    assert records[0]["status"] == 403 and records[0]["role"] == "operator"
    # And an admin may not read alerts or search either: no role implies another.
    assert client.get("/api/v1/alerts", headers=auth(tokens, "admin")).status_code == 403


def test_a_search_is_audited_with_purpose_case_and_result_count(
    api_app: Flask, client: FlaskClient, tokens: dict[str, str]
) -> None:
    response = client.get(
        "/api/v1/reads", query_string={"plate": "12가3456", **PURPOSE}, headers=auth(tokens, "investigator")
    )
    assert response.status_code == 200
    record = audit_records(api_app, endpoint="reads.search", user="investigator", status="200")[0]
    assert record["purpose"] == PURPOSE["purpose"]
    assert record["case_number"] == PURPOSE["case_number"]
    assert record["result_count"] == len(response.get_json()["hits"]) == 5
    assert json.loads(record["query"])["plate"] == "12가3456"
    assert record["client_address"] == "127.0.0.1"


def test_search_without_purpose_or_case_is_400_naming_both(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    response = client.get(
        "/api/v1/reads", query_string={"plate": "12가3456"}, headers=auth(tokens, "analyst")
    )
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "validation"
    assert {f["field"] for f in body["fields"]} == {"purpose", "case_number"}


def test_audit_log_is_admin_only_and_never_holds_passwords(
    api_app: Flask, client: FlaskClient, tokens: dict[str, str]
) -> None:
    client.post("/api/v1/auth/login", json={"username": "admin", "password": DEMO_PASSWORD})
    assert client.get("/api/v1/audit", headers=auth(tokens, "investigator")).status_code == 403
    response = client.get(
        "/api/v1/audit", query_string={"endpoint": "auth.login"}, headers=auth(tokens, "admin")
    )
    assert response.status_code == 200
    records = response.get_json()["records"]
    assert records and all(r["endpoint"] == "auth.login" for r in records)
    assert DEMO_PASSWORD not in json.dumps(records)


def test_admin_creates_a_user_who_can_then_log_in(client: FlaskClient, tokens: dict[str, str]) -> None:
    new = {"username": "kim.detective", "password": "long-enough-pw", "role": "investigator"}
    assert client.post("/api/v1/users", json=new, headers=auth(tokens, "admin")).status_code == 201
    again = client.post("/api/v1/users", json=new, headers=auth(tokens, "admin"))
    assert again.status_code == 400 and again.get_json()["fields"][0]["field"] == "username"
    login = client.post("/api/v1/auth/login", json={"username": new["username"], "password": new["password"]})
    assert login.status_code == 200 and login.get_json()["role"] == "investigator"


def test_cors_is_closed(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = client.get(
        "/api/v1/cameras", headers={**auth(tokens, "operator"), "Origin": "https://evil.example"}
    )
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
