"""gunicorn configuration for a 2-core server; `kill -HUP <master>` reloads workers gracefully.

gthread workers: an SSE alert stream holds one thread while it waits, so streams never block
searches. Workers = cores (ES shares the machine); override with ANPR_API_WORKERS/THREADS.
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

workers = int(os.environ.get("ANPR_API_WORKERS", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("ANPR_API_THREADS", 8))
worker_class = "gthread"
timeout = 60
graceful_timeout = 20
keepalive = 5
# One line per request to stdout; ANPR_API_ACCESS_LOG=0 turns it off for load tests.
accesslog = "-" if os.environ.get("ANPR_API_ACCESS_LOG", "1") != "0" else None
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
