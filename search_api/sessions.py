"""Whether a genuine token's session is still open.

A token is signed and expires on its own, but a user can log out, be disabled or change role
before it expires. Each request's session is checked against the user record: the user exists,
is not disabled, still has the token's role, and has not logged out since the token was issued
(`sessions_valid_after`). The record is read at most once per `recheck_s` per user and worker,
so a logout or a disabled account takes effect at once in the worker that saw it and within
`recheck_s` in every other one, for one small read per active user every few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from search_api.tokens import Session
from search_api.users import User, UserState, UserStore


class SessionGate:
    def __init__(
        self, users: UserStore, recheck_s: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.users = users
        self.recheck_s = recheck_s
        self._clock = clock
        self._states: dict[str, tuple[UserState | None, float]] = {}

    def admit(self, session: Session) -> User | None:
        """The session's user if the session is still open, else None."""
        state = self._state(session.user.username)
        if state is None or state.disabled or state.role is not session.user.role:
            return None
        if state.sessions_valid_after is not None and session.issued_at < state.sessions_valid_after:
            return None
        return session.user

    def end(self, session: Session) -> None:
        """Log out: every token of this user issued until now stops being accepted."""
        self.users.end_sessions(session.user.username, time.time())
        self.forget(session.user.username)

    def forget(self, username: str) -> None:
        self._states.pop(username, None)

    def _state(self, username: str) -> UserState | None:
        now = self._clock()
        cached = self._states.get(username)
        if cached is not None and now - cached[1] < self.recheck_s:
            return cached[0]
        state = self.users.state(username)
        self._states[username] = (state, now)
        return state
