"""Run the API under gunicorn (the production server) from the `anpr api` command."""

from __future__ import annotations

import os
import subprocess
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


def run_gunicorn(settings: Settings, workers: int | None = None) -> int:
    return subprocess.call(gunicorn_command(settings, workers), env=dict(os.environ))
