"""Logging the demo users in through the API, for tests that act as each role."""

from __future__ import annotations

from flask import Flask

from search_api.users import DEMO_PASSWORD

ROLES = ("operator", "investigator", "analyst", "admin")


def demo_tokens(app: Flask) -> dict[str, str]:
    """A bearer token per role: each demo user (named after its role) logged in via /auth/login."""
    tokens = {}
    with app.test_client() as client:
        for role in ROLES:
            response = client.post("/api/v1/auth/login", json={"username": role, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.get_json()
            tokens[role] = response.get_json()["token"]
    return tokens
