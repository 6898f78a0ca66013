"""Logging out clears the page's HttpOnly session cookie; the request is audited like any other."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

from search_api.roles import Role
from search_api.tokens import COOKIE_NAME
from search_api.users import DEMO_PASSWORD
from tests.api.conftest import audit_records


def test_logout_clears_the_session_cookie_and_the_next_call_is_401(api_app: Flask) -> None:
    # A user of its own: logging out ends all of the user's sessions, the shared demo tokens too.
    username = f"out-{uuid.uuid4().hex[:8]}"
    api_app.extensions["anpr"].users.add(username, DEMO_PASSWORD, Role.ANALYST)
    with api_app.test_client() as client:  # a browser of its own: the cookie jar is this test's
        login = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert login.status_code == 200
        assert client.get_cookie(COOKIE_NAME) is not None
        assert client.get("/api/v1/auth/me").status_code == 200

        # As the page sends it: a cookie request that changes state carries X-Requested-With.
        response = client.post("/api/v1/auth/logout", headers={"X-Requested-With": "anpr-console"})
        assert response.status_code == 200
        assert response.get_json() == {"logged_out": True}
        cleared = response.headers["Set-Cookie"]
        assert cleared.startswith(f"{COOKIE_NAME}=;")
        assert "Max-Age=0" in cleared and "HttpOnly" in cleared and "SameSite=Strict" in cleared
        assert client.get_cookie(COOKIE_NAME) is None
        assert client.get("/api/v1/auth/me").status_code == 401

    records = audit_records(api_app, endpoint="auth.logout", user=username)
    assert records and records[0]["status"] == 200 and records[0]["role"] == "analyst"
    assert records[0]["outcome"] == "allowed"


def test_logout_without_a_session_still_answers_and_is_audited_anonymously(api_app: Flask) -> None:
    # A page whose token already expired must still be able to drop its cookie.
    with api_app.test_client() as client:
        response = client.post("/api/v1/auth/logout", environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert response.status_code == 200
        assert "Max-Age=0" in response.headers["Set-Cookie"]
    records = [r for r in audit_records(api_app, endpoint="auth.logout") if r["client_address"] == "10.1.2.3"]
    assert records and records[0]["user"] is None and records[0]["status"] == 200


def test_logout_is_in_the_openapi_document_as_a_public_post(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    operation = doc["paths"]["/api/v1/auth/logout"]["post"]
    assert operation["security"] == []
    assert "200" in operation["responses"]
