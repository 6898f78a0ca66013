"""Shared fixtures: the real Elasticsearch node and settings isolated per test session.

The node is the project's local one (started if needed), or the cluster named by
``ANPR_ES_URL`` (+ ``ANPR_ES_PASSWORD``). Each test session writes under its own index prefix
so runs never see each other's data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from anpr_core.elastic.client import make_client
from anpr_core.settings import Settings, load_settings

SHARED_DATA: Path = load_settings().paths.shared_data


@pytest.fixture(scope="session")
def es_connection() -> dict[str, str]:
    es = load_settings().elasticsearch  # ANPR_ES_URL / ANPR_ES_PASSWORD, or the long names
    if es.url:
        return {"url": es.url, "password": es.password.get_secret_value() if es.password else ""}
    from anpr_core.elastic.local_node import LocalElasticsearch

    node = LocalElasticsearch(load_settings()).start()
    return {"url": node.url, "password": node.password}


@pytest.fixture(scope="session")
def test_index_prefix() -> str:
    return f"anprtest-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def es_settings(
    es_connection: dict[str, str], test_index_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return load_settings(
        elasticsearch={
            "url": es_connection["url"],
            "password": es_connection["password"],
            "index_prefix": test_index_prefix,
        },
        paths={"var_dir": tmp_path_factory.mktemp("var")},
    )


@pytest.fixture(scope="session")
def es_client(es_settings: Settings, test_index_prefix: str) -> Iterator[Elasticsearch]:
    client = make_client(es_settings)
    yield client
    # Leave the shared node clean: drop everything this session created.
    for index in client.indices.get(index=f"{test_index_prefix}*", expand_wildcards="all").body:
        client.indices.delete(index=index)
    client.close()
