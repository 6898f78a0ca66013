"""gunicorn configuration: sized for a 2-core server; `kill -HUP` reloads gracefully."""

import multiprocessing

workers = max(2, multiprocessing.cpu_count())
threads = 4  # SSE streams hold a thread each while they wait for alerts
worker_class = "gthread"
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = "-"
errorlog = "-"
