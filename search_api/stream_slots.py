"""A cap on the live alert streams one worker process holds.

With gthread workers an open Server-Sent Events stream occupies one of the worker's threads
until it closes, so without a cap a control room with more consoles than threads would leave
no thread for searches, routes and logins. Each worker keeps `api.max_streams_per_worker`
streams at most (default 6 of gunicorn's 8 threads) and answers the next one 503 with
Retry-After; the page reconnects after that delay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class StreamSlots:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open = 0
        self._lock = threading.Lock()

    def take(self) -> Callable[[], None] | None:
        """A slot's release function, or None when all slots are taken. Release is idempotent."""
        with self._lock:
            if self._open >= self.limit:
                return None
            self._open += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if not released.is_set():
                    released.set()
                    self._open -= 1

        return release
