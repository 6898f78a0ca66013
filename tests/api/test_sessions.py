"""A genuine token is accepted only while its session is open: logout, a disabled account and a
changed role end it (against the real user index)."""

from __future__ import annotations

import uuid

from flask import Flask

from search_api.context import Services
from search_api.roles import Role
from search_api.sessions import SessionGate
from search_api.users import DEMO_PASSWORD, User


def _new_user(api_app: Flask, role: Role = Role.INVESTIGATOR) -> str:
    # A user of its own: logging out ends all of a user's sessions, and the shared demo
    # users' tokens must stay valid for the other tests.
    username = f"sess-{uuid.uuid4().hex[:8]}"
    services: Services = api_app.extensions["anpr"]
    services.users.add(username, DEMO_PASSWORD, role)
    return username


def _login(api_app: Flask, username: str) -> str:
    response = api_app.test_client().post(
        "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["token"])


def _me(api_app: Flask, token: str) -> int:
    response = api_app.test_client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def test_logout_ends_every_session_of_the_user_and_a_new_login_works(api_app: Flask) -> None:
    username = _new_user(api_app)
    desk, laptop = _login(api_app, username), _login(api_app, username)
    assert _me(api_app, desk) == 200 and _me(api_app, laptop) == 200

    response = api_app.test_client().post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {desk}"})
    assert response.status_code == 200

    assert _me(api_app, desk) == 401  # the token is genuine and unexpired, but its session ended
    assert _me(api_app, laptop) == 401
    fresh = _login(api_app, username)  # issued after the logout, even within the same second
    assert _me(api_app, fresh) == 200
    assert _me(api_app, desk) == 401


def test_a_disabled_user_or_a_changed_role_is_refused_once_the_record_is_rechecked(api_app: Flask) -> None:
    services: Services = api_app.extensions["anpr"]
    now = [1000.0]
    gate = SessionGate(services.users, recheck_s=5.0, clock=lambda: now[0])
    disabled, promoted = _new_user(api_app), _new_user(api_app)
    sessions = {name: services.signer.verify(_login(api_app, name)) for name in (disabled, promoted)}
    assert all(s is not None and gate.admit(s) == s.user for s in sessions.values())

    # Another process (the CLI, another gunicorn worker) changes the records.
    assert services.users.set_disabled(disabled, True)
    services.users.add(promoted, DEMO_PASSWORD, Role.ADMIN, replace=True)
    now[0] += 4.9  # within recheck_s this worker still trusts what it read
    assert all(s is not None and gate.admit(s) is not None for s in sessions.values())
    now[0] += 0.2
    assert gate.admit(sessions[disabled]) is None  # type: ignore[arg-type]
    assert gate.admit(sessions[promoted]) is None  # type: ignore[arg-type]  # token says investigator

    # Enabled again: the sessions it had stay ended; a new login is accepted.
    assert services.users.set_disabled(disabled, False)
    now[0] += 5.1
    assert gate.admit(sessions[disabled]) is None  # type: ignore[arg-type]
    again = services.signer.verify(_login(api_app, disabled))
    assert again is not None and gate.admit(again) == User(disabled, Role.INVESTIGATOR)


def test_a_token_of_a_user_that_no_longer_exists_is_refused(api_app: Flask) -> None:
    services: Services = api_app.extensions["anpr"]
    ghost = services.signer.issue(User(f"ghost-{uuid.uuid4().hex[:6]}", Role.ADMIN))
    assert _me(api_app, ghost) == 401
