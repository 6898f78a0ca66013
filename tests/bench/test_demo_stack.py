"""A benchmark on the demo's services gets its own prefix, registry and users, and leaves no index."""

from __future__ import annotations

import shutil
import tomllib

from elasticsearch import Elasticsearch

from anpr.bench.demo_stack import prepare
from search_api.users import DEMO_PASSWORD, UserStore


def test_the_run_is_its_own_and_drops_its_indices(es_client: Elasticsearch) -> None:  # node up
    stack = prepare("t", ANPR_API__THREADS="4")
    try:
        assert (
            stack.prefix.startswith("bencht-")
            and stack.env["ANPR_ELASTICSEARCH__INDEX_PREFIX"] == stack.prefix
        )
        assert stack.env["ANPR_API__PORT"] == str(stack.api_port) and stack.env["ANPR_API__THREADS"] == "4"
        assert stack.env["ANPR_PATHS__VAR_DIR"] == str(stack.work / "var") and stack.metrics_dir.is_dir()
        cameras = tomllib.loads((stack.work / "cameras.toml").read_text(encoding="utf-8"))["cameras"]
        urls = [c["stream_url"] for c in cameras]
        assert urls and all(f":{stack.sim_port}/" in url for url in urls)
        assert UserStore(stack.es, stack.prefix).authenticate("admin", DEMO_PASSWORD) is not None
        assert stack.es.indices.get(index=f"{stack.prefix}-*").body
    finally:
        stack.drop_indices()
        shutil.rmtree(stack.work)
    assert not stack.es.indices.get(index=f"{stack.prefix}-*", expand_wildcards="all").body
    stack.es.close()
