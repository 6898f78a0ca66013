"""The one way this project starts, watches and stops a process.

`Process` is one child: it runs in its own session (so its process group is its own and a
terminal's Ctrl-C reaches only the parent, which decides the order of the stop), writes its log
to a file (one per start) or inherits the parent's output, and is stopped as a whole group:
the stop signal, a grace period, then SIGKILL to every process left in the group — a gunicorn
master and its workers together, so no worker survives re-parented to PID 1 holding the port.

`Supervisor` keeps several services running: a service that exits by itself is restarted after
a back-off (1 s, doubling to 30 s, reset once it has run for a minute) and the restart is
logged; `stop()` stops every service, the last started first. The demo, the fault suite, the
benchmarks, the end-to-end tests and the API's gunicorn tests all start their processes here.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from anpr_core.settings import PROJECT_ROOT

TICK = os.sysconf("SC_CLK_TCK")
_PR_SET_PDEATHSIG = 1


class LaunchError(RuntimeError):
    """A process died or did not become ready; the message carries the tail of its log."""


def anpr_command(*args: str) -> list[str]:
    """`anpr <args>` with this interpreter (the venv the caller runs in)."""
    return [sys.executable, "-m", "anpr", *args]


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state is [0], pgrp [2])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        fields = _proc_stat(int(entry.name)) if entry.name.isdigit() else None
        if fields is not None and int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every live process in a process group."""
    total = 0.0
    for pid in group_members(pgid):
        if (fields := _proc_stat(pid)) is not None:
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def pid_cpu_seconds(pid: int) -> float:
    fields = _proc_stat(pid)
    if fields is None:
        raise ProcessLookupError(pid)
    return (int(fields[11]) + int(fields[12])) / TICK


def _die_with_parent() -> None:  # runs in the child between fork and exec
    # If the parent is killed outright (kill -9 of the demo), the kernel sends SIGTERM here.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Process:
    """One child process in its own process group; restartable (`start` again after an exit)."""

    name: str
    argv: Sequence[str]
    env: dict[str, str] | None = None  # None: this process's environment
    cwd: Path = PROJECT_ROOT
    log_dir: Path | None = None  # None: the child writes to this process's stdout/stderr
    stop_signal: int = signal.SIGTERM
    grace_s: float = 20.0  # after the stop signal, before SIGKILL to the group
    die_with_parent: bool = False
    starts: int = 0
    pids: list[int] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> Process:
        self.starts += 1
        log = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = open(self.log_path, "wb")  # noqa: SIM115 - the child keeps its own copy
        try:
            self.proc = subprocess.Popen(
                list(self.argv),
                env={**os.environ, "PYTHONUNBUFFERED": "1"} if self.env is None else self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                start_new_session=True,
                preexec_fn=_die_with_parent if self.die_with_parent else None,
            )
        finally:
            if log is not None:
                log.close()
        self.pids.append(self.proc.pid)
        return self

    @property
    def log_path(self) -> Path:
        assert self.log_dir is not None
        return self.log_dir / (f"{self.name}.log" if self.starts <= 1 else f"{self.name}-{self.starts}.log")

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} was never started"
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def group(self) -> list[int]:
        """Every live process this one started (its process group), itself included."""
        return [] if self.proc is None else group_members(self.proc.pid)

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)

    def kill9(self) -> None:
        """SIGKILL to this process alone, then reap: exactly what a crash or the OOM killer does."""
        os.kill(self.pid, signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(timeout=30)

    def stop(self, grace_s: float | None = None, *, signalled: bool = False) -> int | None:
        """The stop signal to the group, SIGKILL to whatever of the group is left after the grace.

        Returns the exit status (None if it was never started). Returns only when no process of
        the group is left, so a port it held is free again. `signalled`: the caller has sent the
        stop signal already (several services stopped at once, their grace periods overlapping)."""
        if self.proc is None:
            return None
        grace = self.grace_s if grace_s is None else grace_s
        if not signalled and (self.alive() or self.group()):
            self.signal_group(self.stop_signal)
        deadline = time.monotonic() + grace
        while (self.alive() or self.group()) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.alive() or self.group():
            self.signal_group(signal.SIGKILL)
        code = self.proc.wait(timeout=30)
        kill_deadline = time.monotonic() + 10
        while self.group() and time.monotonic() < kill_deadline:
            time.sleep(0.05)
        return code

    def log_tail(self, lines: int = 25) -> str:
        if self.log_dir is None or not self.log_path.is_file():
            return ""
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {self.log_path.name} (last {len(tail)} lines)\n" + "\n".join(tail)

    def wait_ready(self, ready: Callable[[], bool], timeout_s: float, what: str | None = None) -> None:
        """Poll `ready` (an OSError counts as not yet) while the process stays alive."""
        wait_ready(ready, timeout_s, what or self.name, self.check_alive, self.log_tail)

    def check_alive(self) -> None:
        if not self.alive():
            raise LaunchError(f"{self.name} exited with {self.returncode}\n{self.log_tail()}")


def wait_ready(
    ready: Callable[[], bool],
    timeout_s: float,
    what: str,
    check_alive: Callable[[], None],
    logs: Callable[[], str],
    poll_s: float = 0.2,
) -> None:
    """Poll `ready` (an OSError counts as not yet); `check_alive` raises if a process died."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        check_alive()
        if time.monotonic() > deadline:
            raise LaunchError(f"{what} not ready after {timeout_s:.0f} s\n{logs()}")
        time.sleep(poll_s)


@dataclass
class _Watch:
    process: Process
    backoff_s: float
    started_at: float = 0.0
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    """Keeps services running; a crashed one is restarted with back-off; stop() stops them all."""

    def __init__(
        self,
        processes: Iterable[Process] = (),
        *,
        first_backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        stable_after_s: float = 60.0,
        log: Callable[[str], None] = print,
    ) -> None:
        self.first_backoff_s, self.max_backoff_s = first_backoff_s, max_backoff_s
        self.stable_after_s, self.log = stable_after_s, log
        self._watches: list[_Watch] = []
        self.stopping = False
        for process in processes:
            self.add(process)

    def add(self, process: Process) -> Process:
        self._watches.append(_Watch(process, self.first_backoff_s))
        return process

    def start(self, process: Process) -> Process:
        """Add `process` and start it now (order matters to the caller, e.g. simulator first)."""
        watch = next((w for w in self._watches if w.process is process), None)
        if watch is None:
            self.add(process)
            watch = self._watches[-1]
        process.start()
        watch.started_at = time.monotonic()
        self.log(f"==> started {process.name} (pid {process.pid})")
        return process

    @property
    def processes(self) -> list[Process]:
        return [w.process for w in self._watches]

    def restarts(self, name: str) -> int:
        return next(w.restarts for w in self._watches if w.process.name == name)

    def check(self) -> None:
        """One round: notice exits, restart services whose back-off has passed."""
        now = time.monotonic()
        for watch in self._watches:
            process = watch.process
            if self.stopping or process.proc is None:
                continue
            if watch.restart_at is None and not process.alive():
                if now - watch.started_at >= self.stable_after_s:
                    watch.backoff_s = self.first_backoff_s  # it had been running fine
                process.stop(grace_s=2.0)  # whatever it left of its group goes too
                watch.restart_at = now + watch.backoff_s
                self.log(
                    f"!! {process.name} (pid {process.pid}) exited with {process.returncode}; "
                    f"restarting in {watch.backoff_s:.1f} s"
                )
                watch.backoff_s = min(self.max_backoff_s, watch.backoff_s * 2)
            elif watch.restart_at is not None and now >= watch.restart_at:
                watch.restart_at = None
                watch.restarts += 1
                process.start()
                watch.started_at = now
                self.log(f"==> restarted {process.name} (pid {process.pid}, restart {watch.restarts})")

    def run(self, until: Callable[[], bool], poll_s: float = 0.5) -> None:
        while not until():
            self.check()
            time.sleep(poll_s)

    def stop(self) -> None:
        """Stop every service, the last started first; returns when no child process is left."""
        self.stopping = True
        for watch in reversed(self._watches):
            watch.process.stop()


def run_until_signalled(supervisor: Supervisor, poll_s: float = 0.5) -> int:
    """Supervise until SIGINT or SIGTERM, then stop everything: what a foreground service does."""
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        supervisor.run(lambda: bool(received), poll_s)
    finally:
        supervisor.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
