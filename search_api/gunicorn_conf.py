"""gunicorn configuration for a 2-core server; `kill -HUP <master>` reloads workers gracefully.

gthread workers: an SSE alert stream holds one thread while it waits, so streams never block
searches. Workers, threads and the access log come from the settings (`api.workers`, `api.threads`,
`api.access_log`: ANPR_API__WORKERS, ANPR_API__THREADS, ANPR_API__ACCESS_LOG).
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

from anpr_core.settings import load_settings

_api = load_settings().api
workers = _api.workers or max(2, multiprocessing.cpu_count())
threads = _api.threads
worker_class = "gthread"
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = "-" if _api.access_log else None
errorlog = "-"
# Forwarded headers are trusted only from a proxy on this host.
forwarded_allow_ips = "127.0.0.1"

# Prometheus metrics from every worker, summed by /metrics (multiprocess mode).
_metrics_dir = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="anpr-metrics-"))
shutil.rmtree(_metrics_dir, ignore_errors=True)
_metrics_dir.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)


def child_exit(server, worker):  # type: ignore[no-untyped-def]  # gunicorn hook
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
