"""The services as real processes on 127.0.0.1, and an HTTP client for the API and its SSE stream.

Shared by the end-to-end test (tests/e2e) and the load benchmark (anpr/bench/load.py): each
`anpr <command>` runs in its own process group (gunicorn has children), its log on disk.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anpr.launcher import LaunchError, Process, anpr_command, group_cpu_seconds, pid_cpu_seconds, wait_ready
from anpr_core.settings import PROJECT_ROOT
from search_api.users import DEMO_PASSWORD


class HarnessError(LaunchError):
    """A service died or did not become ready; the message carries the tails of the logs."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env() -> dict[str, str]:
    """This process's environment without ANPR_* / PROMETHEUS_* settings (ANPR_CONFIG kept)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANPR_", "PROMETHEUS_"))}
    if "ANPR_CONFIG" in os.environ:
        env["ANPR_CONFIG"] = os.environ["ANPR_CONFIG"]
    return env


def local_node_pid(var_dir: Path = PROJECT_ROOT / "var") -> int | None:
    """The project's local Elasticsearch node, if it runs on this machine (None otherwise)."""
    try:
        pid = int(json.loads((var_dir / "elasticsearch" / "node.json").read_text())["pid"])
        pid_cpu_seconds(pid)  # still alive
        return pid
    except (OSError, ValueError, KeyError):
        return None


class Services:
    """`anpr <command>` processes started with the launcher, logs on disk, stopped together."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir, self.env = log_dir, env
        self.processes: dict[str, Process] = {}

    def start(self, name: str, *args: str, env: dict[str, str] | None = None, grace_s: float = 20.0) -> None:
        # SIGINT: the workers flush and the indexer commits. gunicorn would wait for an open SSE
        # stream to notice its client has gone (the next heartbeat), so the API gets a short grace.
        process = Process(
            name, anpr_command(*args), env={**self.env, **(env or {})}, log_dir=self.log_dir,
            stop_signal=signal.SIGINT, grace_s=grace_s,
        )  # fmt: skip
        self.processes[name] = process.start()

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if not process.alive():
                raise HarnessError(f"{name} exited with {process.returncode}\n{self.logs()}")

    def cpu_seconds(self) -> dict[str, float]:
        return {name: group_cpu_seconds(p.pid) for name, p in self.processes.items()}

    def logs(self, lines: int = 25) -> str:
        return "\n".join(p.log_tail(lines) for p in self.processes.values())

    def stop(self) -> None:
        for process in self.processes.values():
            if process.alive():
                process.signal_group(process.stop_signal)  # all at once: the grace periods overlap
        for process in self.processes.values():
            process.stop(signalled=True)

    def wait_ready(self, what: str, ready: Callable[[], bool], timeout: float) -> None:
        """Poll `ready` (OSError counts as not yet) while every service stays alive."""
        wait_ready(ready, timeout, what, self.check_alive, self.logs, poll_s=0.3)


def camera_health(port: int) -> list[dict[str, Any]]:
    """The workers' /health: one entry per camera."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/health")
        return list(json.loads(conn.getresponse().read())["cameras"])
    finally:
        conn.close()


class Api:
    def __init__(self, port: int) -> None:
        self.port = port

    def call(
        self, method: str, path: str, token: str | None = None, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        return response.status, json.loads(raw) if raw else None

    def login(self, username: str, password: str = DEMO_PASSWORD) -> str:
        status, body = self.call(
            "POST", "/api/v1/auth/login", body={"username": username, "password": password}
        )
        if status != 200:
            raise HarnessError(f"login {username}: {status} {body}")
        return str(body["token"])


class AlertStream(threading.Thread):
    """An operator's `/api/v1/alerts/stream`, read for real over HTTP; alerts land in a queue.

    Each alert gets `_sse_id` (the event id) and `_received_at` (wall time it came off the
    socket). The queue ends with None (the server closed the stream) or the reader's exception.
    """

    def __init__(self, port: int, token: str, max_seconds: float) -> None:
        super().__init__(name="sse-reader", daemon=True)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request(
            "GET",
            f"/api/v1/alerts/stream?max_seconds={max_seconds:g}",
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        )
        self.response = self.conn.getresponse()
        if self.response.status != 200:
            raise HarnessError(f"alert stream: {self.response.status} {self.response.read()!r}")
        if not self.response.getheader("Content-Type", "").startswith("text/event-stream"):
            raise HarnessError(f"alert stream: {self.response.getheader('Content-Type')}")
        self.alerts: queue.Queue[dict[str, Any] | BaseException | None] = queue.Queue()

    def run(self) -> None:
        event: dict[str, str] = {}
        try:
            while line := self.response.readline():
                text = line.decode("utf-8").rstrip("\r\n")
                if text:
                    field, _, value = text.partition(":")
                    event[field] = value.removeprefix(" ")
                    continue
                if event.get("event") == "alert":
                    alert = json.loads(event["data"])
                    alert["_received_at"] = time.time()
                    alert["_sse_id"] = event.get("id")
                    self.alerts.put(alert)
                event = {}
            self.alerts.put(None)  # the server closed the stream
        except BaseException as exc:  # handed to the reading thread
            self.alerts.put(exc)

    def close(self) -> None:
        self.conn.close()
