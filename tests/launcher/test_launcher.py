"""The one launcher: a stop leaves no process behind (a child that ignores SIGTERM included), a
crashed service is restarted with back-off while the others run on, SIGTERM or Ctrl-C to a
supervising parent (what the demo is) stops every child, and `anpr api` is gunicorn itself, so
a SIGTERM to it (a systemd stop) stops the master and every worker and frees the port.

Processes are checked in /proc, never by trusting a return code."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import sys
import textwrap
import time
from pathlib import Path

import pytest

from anpr.launcher import Process, Supervisor, anpr_command, group_members
from anpr_core.settings import Settings

# A parent that starts a grandchild ignoring SIGTERM (like the deadlocked gunicorn worker that
# survived a Ctrl-C), prints both pids, and sleeps.
STUBBORN = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    ignore = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True)"
    child = subprocess.Popen([sys.executable, "-c", ignore + "; time.sleep(600)"], stdout=subprocess.PIPE)
    child.stdout.readline()
    print(f"pids {child.pid}", flush=True)
    time.sleep(600)
    """
)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_for(condition, timeout_s: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def _grandchild(process: Process) -> int:
    assert wait_for(lambda: "pids" in process.log_path.read_text())
    return int(process.log_path.read_text().split("pids")[1].split()[0])


def test_a_stop_kills_the_whole_group_even_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    process = Process("stubborn", [sys.executable, "-c", STUBBORN], log_dir=tmp_path, grace_s=1.0).start()
    grandchild = _grandchild(process)
    assert set(process.group()) == {process.pid, grandchild}
    started = time.monotonic()
    process.stop()
    assert time.monotonic() - started < 15
    assert not alive(process.pid) and not alive(grandchild)
    assert group_members(process.pid) == []


def test_a_crashed_service_is_restarted_with_backoff_and_the_others_run_on(tmp_path: Path) -> None:
    logged: list[str] = []
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    supervisor = Supervisor(first_backoff_s=0.3, max_backoff_s=5.0, log=logged.append)
    indexer = supervisor.start(Process("indexer", sleeper, log_dir=tmp_path))
    api = supervisor.start(Process("api", sleeper, log_dir=tmp_path))
    api_pid = api.pid
    try:
        first = indexer.pid
        os.kill(first, signal.SIGKILL)  # kill -9 of one service
        assert wait_for(lambda: (supervisor.check(), indexer.alive() and indexer.pid != first)[1], 10)
        assert any(line.startswith("!! indexer") and "restarting in 0.3 s" in line for line in logged)
        second = indexer.pid
        assert supervisor.restarts("indexer") == 1
        os.kill(second, signal.SIGKILL)  # crashes again at once: the back-off doubles
        t0 = time.monotonic()
        assert wait_for(lambda: (supervisor.check(), indexer.alive() and indexer.pid != second)[1], 10)
        assert any("restarting in 0.6 s" in line for line in logged), logged
        assert time.monotonic() - t0 >= 0.55
        assert supervisor.restarts("indexer") == 2
        assert api.alive() and api.pid == api_pid  # never touched
        assert indexer.pids == [first, second, indexer.pid]
    finally:
        supervisor.stop()
    assert not any(alive(pid) for pid in [*indexer.pids, api_pid])


DEMO_LIKE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from anpr.launcher import Process, Supervisor, run_until_signalled
    logs = Path(sys.argv[1])
    supervisor = Supervisor(log=lambda line: print(line, flush=True))
    supervisor.start(Process("stubborn", [sys.executable, "-c", sys.argv[2]], log_dir=logs, grace_s=1.0))
    supervisor.start(Process("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"], log_dir=logs))
    print("supervising", flush=True)
    sys.exit(run_until_signalled(supervisor))
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_a_supervising_parent_leaves_no_process_behind(tmp_path: Path, signum: int) -> None:
    """The demo's shape (`Supervisor` + `run_until_signalled`): SIGTERM or Ctrl-C to it ends every
    child and grandchild, however they treat SIGTERM."""
    parent = Process(
        "demo", [sys.executable, "-c", DEMO_LIKE, str(tmp_path), STUBBORN], log_dir=tmp_path / "demo"
    )
    parent.start()
    try:
        assert wait_for(lambda: "supervising" in parent.log_path.read_text())
        lines = parent.log_path.read_text().splitlines()
        pids = [int(line.split("pid ")[1].rstrip(")")) for line in lines if line.startswith("==> started")]
        log = tmp_path / "stubborn.log"
        assert wait_for(lambda: "pids" in log.read_text())
        grandchild = int(log.read_text().split("pids")[1].split()[0])
        everything = [*pids, grandchild]
        assert len(everything) == 3 and all(alive(pid) for pid in everything)
        os.kill(parent.pid, signum)  # to the demo alone: its children are in their own groups
        assert wait_for(lambda: not parent.alive(), 30)
        assert parent.returncode == 0
        assert [pid for pid in everything if alive(pid)] == []
    finally:
        parent.stop(grace_s=5)


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.es
def test_sigterm_to_anpr_api_stops_gunicorn_and_every_worker(es_settings: Settings, tmp_path: Path) -> None:
    """A systemd stop sends SIGTERM to the one process it started: `anpr api` has become the
    gunicorn master (exec), so its workers go with it and the port is free again."""
    port = _free_port()
    es = es_settings.elasticsearch
    env = {
        **os.environ,
        "ANPR_ELASTICSEARCH__URL": str(es.url),
        "ANPR_ELASTICSEARCH__PASSWORD": es.password.get_secret_value() if es.password else "",
        "ANPR_ELASTICSEARCH__INDEX_PREFIX": es.index_prefix,
        "ANPR_PATHS__VAR_DIR": str(es_settings.paths.var_dir),
        "ANPR_API__PORT": str(port),
        "ANPR_API__ACCESS_LOG": "0",
    }
    api = Process("api", anpr_command("api", "--workers", "2"), env=env, log_dir=tmp_path).start()
    try:
        api.wait_ready(lambda: _get(port, "/ready") == 200, 60)
        cmdline = Path(f"/proc/{api.pid}/cmdline").read_bytes().split(b"\0")
        assert b"gunicorn" in cmdline, cmdline  # the process we started is gunicorn's master
        assert wait_for(lambda: len(api.group()) == 3, 30), api.group()  # master + 2 workers
        everything = api.group()
        os.kill(api.pid, signal.SIGTERM)  # to the main process only, as systemd's stop does
        assert wait_for(lambda: not api.alive(), 30), api.log_tail()
        assert wait_for(lambda: [pid for pid in everything if alive(pid)] == [], 10)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # nothing holds the port any more
    finally:
        api.stop(grace_s=5)
