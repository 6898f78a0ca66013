"""Polling for something a background thread or process will do, for tests that must not sleep
a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], timeout: float, poll_s: float = 0.05) -> bool:
    """True as soon as `condition()` holds; False once `timeout` seconds have passed without it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return False
