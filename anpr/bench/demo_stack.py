"""The demo's services for a benchmark on a machine that may already run the demo: an index prefix,
var dir and ports of the run's own, the camera registry pointed at the run's simulator, the demo
users seeded (the load and alert-delivery-on-the-demo benchmarks)."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from elasticsearch import Elasticsearch

from anpr.harness import free_port, service_env
from anpr_core.elastic.client import make_client
from anpr_core.elastic.local_node import LocalElasticsearch
from anpr_core.elastic.mappings import ensure_indices
from anpr_core.settings import PROJECT_ROOT, Settings, load_settings
from search_api.users import UserStore, seed_demo_users


@dataclass
class DemoStack:
    work: Path  # kept after the run: logs/, truth.jsonl, var/ for checking the figures
    prefix: str
    settings: Settings
    es: Elasticsearch
    env: dict[str, str]  # for every service: Elasticsearch, var dir, registry, API port
    sim_port: int
    api_port: int

    @property
    def metrics_dir(self) -> Path:
        """PROMETHEUS_MULTIPROC_DIR of the run's gunicorn API."""
        return self.work / "metrics"

    def drop_indices(self) -> None:
        for index in self.es.indices.get(index=f"{self.prefix}-*", expand_wildcards="all").body:
            self.es.indices.delete(index=index)
        self.es.indices.delete_index_template(name=f"{self.prefix}-*")


def prepare(name: str, **env: str) -> DemoStack:
    """`name` tells the run's prefix and work dir apart; `env` adds to the services' environment."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    prefix = f"bench{name}-{uuid.uuid4().hex[:8]}"
    node = LocalElasticsearch(load_settings()).start()  # the project's local node, reused if up
    settings = load_settings(
        elasticsearch={"url": node.url, "password": node.password, "index_prefix": prefix},
        paths={"var_dir": work / "var"},
    )
    es = make_client(settings)
    ensure_indices(es, prefix)
    seed_demo_users(UserStore(es, prefix))
    sim_port, api_port = free_port(), free_port()
    registry = (PROJECT_ROOT / "config" / "cameras.toml").read_text(encoding="utf-8")
    (work / "cameras.toml").write_text(registry.replace(":8554/", f":{sim_port}/"), encoding="utf-8")
    (work / "metrics").mkdir()
    services = service_env()
    services.update(
        PYTHONUNBUFFERED="1",
        ANPR_ELASTICSEARCH__URL=node.url,
        ANPR_ELASTICSEARCH__PASSWORD=node.password,
        ANPR_ELASTICSEARCH__INDEX_PREFIX=prefix,
        ANPR_PATHS__VAR_DIR=str(work / "var"),
        ANPR_CAMERAS__REGISTRY_PATH=str(work / "cameras.toml"),
        ANPR_API__PORT=str(api_port),
        **env,
    )
    return DemoStack(work, prefix, settings, es, services, sim_port, api_port)
