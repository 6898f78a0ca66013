"""Login (rate-limited) and user administration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, g, jsonify, request

from search_api.context import services, set_audit_change, set_result_count
from search_api.errors import ApiError, FieldError
from search_api.registry import bearer_token, endpoint
from search_api.roles import ADMINS, ALL_ROLES
from search_api.schemas import LoginBody, NewUserBody
from search_api.tokens import COOKIE_NAME
from search_api.users import UserError

bp = Blueprint("auth", __name__, url_prefix="/api/v1")


@endpoint(
    bp, "/auth/login", method="POST", roles=None, body=LoginBody, summary="log in; returns a bearer token"
)
def login(body: LoginBody) -> Response:
    ctx = services()
    address = request.remote_addr or "unknown"
    g.login_username = body.username
    wait = ctx.login_limiter.retry_after(address, body.username)
    if wait > 0:
        raise ApiError(429, "rate_limited", "too many failed logins", retry_after_s=int(wait) + 1)
    user = ctx.users.authenticate(body.username, body.password)
    if user is None:
        ctx.login_limiter.failed(address, body.username)
        raise ApiError(401, "invalid_credentials", "wrong username or password")
    ctx.login_limiter.succeeded(address, body.username)
    g.user = user
    token = ctx.signer.issue(user)
    minutes = ctx.settings.api.session_minutes
    expires = datetime.now(UTC) + timedelta(minutes=minutes)
    response = jsonify(token=token, token_type="Bearer", role=user.role.value, expires_at=expires.isoformat())
    response.set_cookie(
        COOKIE_NAME, token, max_age=minutes * 60, httponly=True, samesite="Strict", secure=request.is_secure
    )
    return response


@endpoint(
    bp,
    "/auth/logout",
    method="POST",
    roles=None,
    summary="log out: ends the user's sessions (every token issued so far) and clears the cookie",
)
def logout() -> Response:
    # Public, so that a page whose token has already expired can still drop its cookie; a valid
    # token names the user in the audit record and ends their sessions on every console.
    token = bearer_token()
    ctx = services()
    session = ctx.signer.verify(token) if token else None
    if session is not None and ctx.sessions.admit(session) is not None:
        g.user = session.user
        ctx.sessions.end(session)
    response = jsonify(logged_out=True)
    response.delete_cookie(COOKIE_NAME, httponly=True, samesite="Strict", secure=request.is_secure)
    response.headers["Cache-Control"] = "no-store"
    return response


@endpoint(bp, "/auth/me", roles=ALL_ROLES, summary="who the token belongs to")
def me() -> Response:
    return jsonify(username=g.user.username, role=g.user.role.value)


@endpoint(bp, "/users", roles=ADMINS, summary="list users (admin)")
def list_users() -> Response:
    users = services().users.list()
    set_result_count(len(users))
    return jsonify(
        users=[{"username": u.username, "role": u.role.value, "disabled": u.disabled} for u in users]
    )


@endpoint(
    bp, "/users", method="POST", roles=ADMINS, body=NewUserBody, summary="create a user (admin)", success=201
)
def create_user(body: NewUserBody) -> tuple[Response, int]:
    try:
        user = services().users.add(body.username, body.password, body.role)
    except UserError as exc:
        raise FieldError([{"field": exc.field, "reason": exc.reason}]) from None
    set_audit_change(action="create_user", username=user.username, role=user.role.value)
    return jsonify(username=user.username, role=user.role.value), 201
