"""The services under test run as real processes (`python -m anpr …`), so a fault is a
real `kill -9`: no finally blocks, no flush, no clean close of sockets or files."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anpr.launcher import Process, anpr_command


def service(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> Process:
    """One `anpr <command>` process with its log files (one per start); restartable after a kill.

    SIGTERM is a clean stop, with a minute's grace before SIGKILL; `kill9()` is the crash."""
    return Process(
        name, anpr_command(*args), env={**os.environ, "PYTHONUNBUFFERED": "1", **env}, log_dir=log_dir,
        grace_s=60.0,
    )  # fmt: skip


def wait_until(condition: Callable[[], bool], timeout_s: float, step_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step_s)
    return condition()


def get_json(url: str, timeout_s: float = 2.0) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None
