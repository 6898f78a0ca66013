"""Run the API under gunicorn (the production server) from the `anpr api` command.

`anpr api` replaces itself with gunicorn (exec): the process a supervisor or systemd started
*is* the gunicorn master, so its SIGTERM / SIGINT / SIGHUP reach gunicorn itself, and stopping
it stops the workers; no Python parent is left in between to swallow a signal.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from anpr_core.settings import Settings

GUNICORN_CONFIG = Path(__file__).with_name("gunicorn_conf.py")


def gunicorn_command(settings: Settings, workers: int | None = None) -> list[str]:
    bind = f"{settings.api.host}:{settings.api.port}"
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "--bind", bind]
    if workers:
        cmd += ["--workers", str(workers)]
    cmd.append("search_api.wsgi:app")
    return cmd


def exec_gunicorn(settings: Settings, workers: int | None = None) -> None:
    """Become gunicorn (never returns)."""
    command = gunicorn_command(settings, workers)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)
