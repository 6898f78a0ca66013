"""A cap on the live alert streams one worker process holds, in total and per user.

With gthread workers an open Server-Sent Events stream occupies one of the worker's threads
until it closes, so without a cap a control room with more consoles than threads would leave
no thread for searches, routes and logins. Each worker keeps `api.max_streams_per_worker`
streams at most (default 6 of gunicorn's 8 threads) and answers the next one 503 with
Retry-After; the page reconnects after that delay. One user holds at most
`api.max_streams_per_user` of a worker's streams (default 2: a console and a reload), so one
token can no longer take every slot for an hour and leave every other console refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class StreamSlots:
    def __init__(self, limit: int, per_user: int | None = None) -> None:
        self.limit = limit
        self.per_user = per_user if per_user is not None else limit
        self._open = 0
        self._by_user: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, user: str = "") -> Callable[[], None] | None:
        """A slot's release function, or None when all slots (or the user's) are taken.

        Release is idempotent. `user_is_full` tells which limit refused.
        """
        with self._lock:
            if self._open >= self.limit or self._by_user.get(user, 0) >= self.per_user:
                return None
            self._open += 1
            self._by_user[user] = self._by_user.get(user, 0) + 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if not released.is_set():
                    released.set()
                    self._open -= 1
                    left = self._by_user.get(user, 1) - 1
                    if left:
                        self._by_user[user] = left
                    else:
                        self._by_user.pop(user, None)

        return release

    def user_is_full(self, user: str) -> bool:
        with self._lock:
            return self._by_user.get(user, 0) >= self.per_user and self._open < self.limit
