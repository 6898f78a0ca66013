"""The real Elasticsearch node: authenticated indexing and search, and clear auth errors."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from anpr_core.elastic.client import ElasticsearchUnavailable, check_connection, make_client
from anpr_core.settings import Settings, load_settings


def test_index_and_search_through_the_authenticated_client(
    es_client: Elasticsearch, test_index_prefix: str
) -> None:
    index = f"{test_index_prefix}-smoke"
    es_client.index(index=index, id="r1", document={"plate": "12가3456", "camera_id": "C17"}, refresh=True)
    hits = es_client.search(index=index, query={"term": {"plate.keyword": "12가3456"}})["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == ["r1"]
    assert hits[0]["_source"]["camera_id"] == "C17"


def test_security_is_enabled_and_we_are_the_elastic_user(es_client: Elasticsearch) -> None:
    who = es_client.security.authenticate()
    assert who["username"] == "elastic"


def test_check_connection_succeeds_with_the_right_credentials(es_settings: Settings) -> None:
    assert check_connection(make_client(es_settings))["username"] == "elastic"


def test_wrong_password_names_the_cause(es_settings: Settings) -> None:
    wrong = load_settings(
        elasticsearch={**es_settings.elasticsearch.model_dump(), "password": "not-the-password"},
        paths={"var_dir": es_settings.paths.var_dir},
    )
    client = make_client(wrong)
    with pytest.raises(ElasticsearchUnavailable, match="rejected the credentials"):
        check_connection(client)


def test_unreachable_cluster_names_the_cause(es_settings: Settings) -> None:
    down = load_settings(
        elasticsearch={"url": "http://127.0.0.1:9", "password": "x"},
        paths={"var_dir": es_settings.paths.var_dir},
    )
    with pytest.raises(ElasticsearchUnavailable, match="cannot connect"):
        check_connection(make_client(down, max_retries=0, request_timeout=2))


def test_concurrent_local_starts_queue_and_reuse_one_node(es_connection: dict[str, str]) -> None:
    """A second start while another holds the start lock waits for it, then reuses the node the
    first recorded (before the lock, two starts raced and node.json named the dead loser)."""
    import fcntl
    import threading

    from anpr_core.elastic.local_node import LocalElasticsearch

    if load_settings().elasticsearch.url:
        pytest.skip("tests run against an outside cluster, not the local node")
    local = LocalElasticsearch(load_settings())
    running = local.status()
    assert running is not None and running.url == es_connection["url"]
    started: list[int] = []
    with (local.root / "start.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        waiter = threading.Thread(target=lambda: started.append(local.start().pid))
        waiter.start()
        waiter.join(timeout=1.5)
        assert waiter.is_alive() and not started, "start() did not wait for the start lock"
    waiter.join(timeout=30)
    assert started == [running.pid]
