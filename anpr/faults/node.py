"""A second, throw-away Elasticsearch node for the fault suite.

The suite kills Elasticsearch with SIGKILL, so it must never touch the shared node under
``var/elasticsearch`` that other people and the test suite use. This node lives in the run's
own directory under ``var/faults`` (two runs at once do not meet), listens on its own fixed
port (so a restarted node answers at the same URL the running indexer already knows) and is
stopped and deleted at the end. Heap 1 GiB: it shares 2 cores and 24 GiB with the main node.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

from elasticsearch import Elasticsearch

from anpr.harness import free_port
from anpr_core.elastic.client import make_client
from anpr_core.elastic.local_node import LocalElasticsearch, LocalNode, _process_alive
from anpr_core.settings import PROJECT_ROOT, load_settings

FAULTS_VAR = PROJECT_ROOT / "var" / "faults"


class FaultNode(LocalElasticsearch):
    """`LocalElasticsearch` with its own data, config and port; can be killed and restarted.

    `run_dir` holds this run's node (``run_dir/elasticsearch``: config, data, logs, password);
    the unpacked distribution is shared by every run under ``var/faults``.
    """

    def __init__(self, run_dir: Path, port: int | None = None, heap_mb: int = 1024) -> None:
        self.port = port or free_port()
        settings = load_settings(
            paths={"var_dir": run_dir},
            local_elasticsearch={"port": self.port, "heap_mb": heap_mb},
            elasticsearch={"url": None, "password": None},
        )
        super().__init__(settings)
        # The zip the project's node already fetched (no second download), unpacked once.
        self.cache_dir = PROJECT_ROOT / "var" / "cache"
        self.home = FAULTS_VAR / f"elasticsearch-{self.version}"
        self.node: LocalNode | None = None

    def install(self) -> None:
        run_root, self.root = self.root, FAULTS_VAR  # the base class unpacks into `root`
        try:
            super().install()
        finally:
            self.root = run_root

    def _choose_port(self) -> int:
        # Always the same port: the indexer keeps its URL across a kill and restart.
        return self.port

    def remove(self) -> None:
        """Stop the node and delete its data (the suite's indices are throw-away)."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self) -> LocalNode:
        self.node = super().start()
        return self.node

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **options: object) -> Elasticsearch:
        settings = load_settings(elasticsearch={"url": self.url, "password": self.elastic_password()})
        return make_client(settings, **{"request_timeout": 60, **options})

    def env(self, prefix: str) -> dict[str, str]:
        """Environment that points a service (`anpr indexer`, `anpr workers`) at this node."""
        return {
            "ANPR_ELASTICSEARCH__URL": self.url,
            "ANPR_ELASTICSEARCH__PASSWORD": self.elastic_password(),
            "ANPR_ELASTICSEARCH__INDEX_PREFIX": prefix,
        }

    def kill(self) -> int:
        """SIGKILL the node (no shutdown hooks, no flush) and wait until it is gone."""
        if self.node is None:
            raise RuntimeError("the fault node is not running")
        pid = self.node.pid
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.state_file.unlink(missing_ok=True)
        self.node = None
        return pid
