"""Signed, expiring bearer tokens (also sent as an HttpOnly cookie for the web page)."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from anpr_core.settings import Settings
from search_api.roles import Role
from search_api.users import User

COOKIE_NAME = "anpr_session"


def secret_key(settings: Settings) -> str:
    """The configured secret, or one created once under var/ so every gunicorn worker shares it."""
    if settings.api.secret_key is not None:
        return settings.api.secret_key.get_secret_value()
    path: Path = settings.paths.var_dir / "api-secret-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when two workers race, exactly one writes and both read the same key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@dataclass(frozen=True, slots=True)
class Session:
    """A genuine, unexpired token: whose it is and when it was issued (epoch seconds)."""

    user: User
    issued_at: float


class TokenSigner:
    """Issues and verifies tokens; a verified token is remembered until it expires.

    Verifying a signature (key derivation + HMAC + base64 + JSON) is a visible share of a route
    request's CPU, and a client sends the same token with every request. Only tokens that
    verified are remembered, with their signing time, so expiry is enforced exactly as before.
    Whether the session is still open (logout, disabled user) is `SessionGate`'s question.
    """

    _REMEMBERED = 4096  # distinct live tokens kept; the dict is cleared when it fills

    def __init__(self, secret: str, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="anpr-api-token")
        self.max_age_s = max_age_s
        self._verified: dict[str, tuple[Session, float]] = {}

    def issue(self, user: User) -> str:
        # "t": the issue time to the microsecond (the signature's own is whole seconds), so a
        # logout ends exactly the tokens issued before it and a login right after it works.
        return self._serializer.dumps({"u": user.username, "r": user.role.value, "t": time.time()})

    def verify(self, token: str) -> Session | None:
        remembered = self._verified.get(token)
        if remembered is not None:
            session, signed_at = remembered
            if time.time() - signed_at <= self.max_age_s:
                return session
            self._verified.pop(token, None)
            return None
        try:
            data, signed = self._serializer.loads(token, max_age=self.max_age_s, return_timestamp=True)
        except (SignatureExpired, BadSignature):
            return None
        try:
            user = User(str(data["u"]), Role(data["r"]))
            issued_at = float(data.get("t", signed.timestamp()))
        except (AttributeError, KeyError, TypeError, ValueError):
            return None
        session = Session(user, issued_at)
        if len(self._verified) >= self._REMEMBERED:
            self._verified.clear()
        self._verified[token] = (session, signed.timestamp())
        return session
