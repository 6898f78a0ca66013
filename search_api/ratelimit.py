"""Login rate limit: failed attempts per (client address, username) in a sliding window.

In memory per worker process: with N gunicorn workers an attacker gets at most N x the limit,
which still stops online guessing; a shared store (Redis) is not worth a new service here.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class LoginRateLimiter:
    def __init__(self, max_failures: int = 5, window_s: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, address: str, username: str) -> float:
        """Seconds until this key may try again; 0 when it may try now."""
        now = time.monotonic()
        with self._lock:
            attempts = self._failures.get((address, username))
            if not attempts:
                return 0.0
            while attempts and attempts[0] <= now - self.window_s:
                attempts.popleft()
            if len(attempts) < self.max_failures:
                return 0.0
            return attempts[0] + self.window_s - now

    def failed(self, address: str, username: str) -> None:
        with self._lock:
            self._failures[(address, username)].append(time.monotonic())

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._failures.pop((address, username), None)
