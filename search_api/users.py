"""API users, stored in `{prefix}-users` with argon2id password hashes."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from elasticsearch import ConflictError, Elasticsearch, NotFoundError
from zxcvbn import zxcvbn

from anpr_core.elastic.indices import users_index
from anpr_core.elastic.mappings import ensure_indices
from search_api.roles import Role

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,39}$")
MIN_PASSWORD = 12
MIN_PASSWORD_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the prefix's strength is a lower bound

# argon2id with the library's RFC 9106 low-memory profile; ~40 ms per verify on this machine.
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    # Verifying against this keeps the time of "no such user" equal to "wrong password".
    return _hasher.hash(secrets.token_hex(16))


def password_problem(
    username: str, password: str, min_length: int = MIN_PASSWORD, min_score: int = MIN_PASSWORD_SCORE
) -> str | None:
    """Why `password` is not good enough for `username`, or None.

    Strength is zxcvbn's estimate (dictionaries of common passwords, names and words, keyboard
    patterns, repeats, dates, l33t), with the username and the service's own words as hints.
    """
    if len(password) < min_length:
        return f"at least {min_length} characters"
    if username.lower() in password.lower():
        return "must not contain the username"
    hints = [username, *re.split(r"[._-]", username), "anpr", "asan", "cctv", "police"]
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=hints)
    if result["score"] < min_score:
        advice = result["feedback"].get("warning") or "add more unrelated words"
        return f"too easy to guess ({advice.rstrip('.')})"
    return None


class UserError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    disabled: bool = False


@dataclass(frozen=True)
class UserState:
    """What decides whether a user's session is still open (search_api/sessions.py)."""

    role: Role
    disabled: bool
    sessions_valid_after: float | None  # epoch seconds: tokens issued before it are refused


class UserStore:
    def __init__(
        self,
        client: Elasticsearch,
        prefix: str,
        *,
        password_min_length: int = MIN_PASSWORD,
        password_min_score: int = MIN_PASSWORD_SCORE,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.password_min_length = password_min_length
        self.password_min_score = password_min_score
        self.index = users_index(prefix)
        self._index_ready = False

    def add(self, username: str, password: str, role: Role | str, *, replace: bool = False) -> User:
        if not USERNAME.match(username):
            raise UserError("username", "3-40 characters: lowercase letters, digits, '.', '_' or '-'")
        problem = password_problem(username, password, self.password_min_length, self.password_min_score)
        if problem is not None:
            raise UserError("password", problem)
        try:
            role = Role(role)
        except ValueError:
            raise UserError("role", f"one of {', '.join(r.value for r in Role)}") from None
        self._ensure_index()
        doc = {
            "username": username,
            "role": role.value,
            "password_hash": _hasher.hash(password),
            "disabled": False,
            "created_at": datetime.now(UTC).isoformat(),
        }
        try:
            self.client.index(
                index=self.index,
                id=username,
                document=doc,
                op_type="index" if replace else "create",
                refresh="wait_for",
            )
        except ConflictError:
            raise UserError("username", "already exists") from None
        return User(username, role)

    def get(self, username: str) -> User | None:
        source = self._source(username)
        if source is None:
            return None
        return User(source["username"], Role(source["role"]), bool(source.get("disabled")))

    def list(self) -> list[User]:
        # Sorted here, not by Elasticsearch: a users index created by an early write without the
        # mapping (username as text) must still list (issue 22.3).
        result = self.client.search(index=self.index, size=1000)
        users = [
            User(h["_source"]["username"], Role(h["_source"]["role"]), bool(h["_source"].get("disabled")))
            for h in result["hits"]["hits"]
        ]
        return sorted(users, key=lambda user: user.username)

    def _ensure_index(self) -> None:
        """The users index with its mapping before the first user is written (a fresh demo)."""
        if self._index_ready:
            return
        if not self.client.indices.exists(index=self.index):
            ensure_indices(self.client, self.prefix)
        self._index_ready = True

    def authenticate(self, username: str, password: str) -> User | None:
        source = self._source(username) if USERNAME.match(username) else None
        stored = str(source["password_hash"]) if source else _dummy_hash()
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if source is None or source.get("disabled"):
            return None
        return User(source["username"], Role(source["role"]))

    def state(self, username: str) -> UserState | None:
        source = self._source(username)
        if source is None:
            return None
        valid_after = source.get("sessions_valid_after")
        return UserState(
            role=Role(str(source["role"])),
            disabled=bool(source.get("disabled")),
            sessions_valid_after=_epoch(valid_after) if valid_after else None,
        )

    def end_sessions(self, username: str, at: float) -> bool:
        """Refuse every token of the user issued before ``at``; False if there is no such user."""
        stamp = datetime.fromtimestamp(at, UTC).isoformat()
        return self._update(username, {"sessions_valid_after": stamp})

    def set_disabled(self, username: str, disabled: bool) -> bool:
        """Disable (or enable) a user; disabling also ends their sessions. False if no such user."""
        fields: dict[str, object] = {"disabled": disabled}
        if disabled:
            fields["sessions_valid_after"] = datetime.now(UTC).isoformat()
        return self._update(username, fields)

    def _update(self, username: str, fields: dict[str, object]) -> bool:
        try:
            self.client.update(index=self.index, id=username, doc=fields, refresh="wait_for")
        except NotFoundError:
            return False
        return True

    def _source(self, username: str) -> dict[str, object] | None:
        try:
            return dict(self.client.get(index=self.index, id=username)["_source"])
        except NotFoundError:
            return None


def _epoch(stamp: object) -> float:
    return datetime.fromisoformat(str(stamp)).timestamp()


DEMO_PASSWORD = "demo-password-1"


def seed_demo_users(store: UserStore, password: str = DEMO_PASSWORD) -> list[User]:
    """One user per role (`operator`, `investigator`, `analyst`, `admin`) for the demo and tests."""
    return [store.add(role.value, password, role, replace=True) for role in Role]
