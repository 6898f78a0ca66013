"""Login rate limit: failed attempts in a sliding window, per (client address, username) and per
client address whatever the username.

The first stops guessing one user's password; the second stops spraying a few passwords over
many usernames from one address. A success clears only its own (address, username) count, so
an attacker who knows one password cannot reset the address's count with it. The client
address is the real client's behind a trusted reverse proxy (`api.trusted_proxies`).

In memory per worker process: with N gunicorn workers an attacker gets at most N x the limit,
which still stops online guessing; a shared store (Redis) is not worth a new service here.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Hashable

# Keys kept before expired ones are swept: a spray of usernames must not grow memory for ever.
SWEEP_AT = 10_000


class LoginRateLimiter:
    def __init__(
        self, max_failures: int = 5, window_s: float = 300.0, max_failures_per_address: int = 20
    ) -> None:
        self.max_failures = max_failures
        self.max_failures_per_address = max_failures_per_address
        self.window_s = window_s
        self._failures: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str, username: str) -> float:
        """Seconds until this address may try this username again; 0 when it may try now."""
        now = time.monotonic()
        with self._lock:
            return max(
                self._wait((address, username), self.max_failures, now),
                self._wait(address, self.max_failures_per_address, now),
            )

    def failed(self, address: str, username: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= SWEEP_AT:
                self._sweep(now)
            for key in ((address, username), address):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._failures.pop((address, username), None)

    def _wait(self, key: Hashable, limit: int, now: float) -> float:
        attempts = self._failures.get(key)
        if not attempts:
            return 0.0
        while attempts and attempts[0] <= now - self.window_s:
            attempts.popleft()
        if len(attempts) < limit:
            return 0.0
        # The wait ends when enough of the window's failures have aged out.
        return attempts[len(attempts) - limit] + self.window_s - now

    def _sweep(self, now: float) -> None:
        for key in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window_s]:
            del self._failures[key]
