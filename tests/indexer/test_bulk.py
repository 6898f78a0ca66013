"""The indexer's bulk path against the real node: chunks in flight, rejections reported per item."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from anpr_core.elastic.indices import reads_alias
from anpr_core.elastic.mappings import ensure_indices
from indexer.bulk import BulkBackpressure, IndexAction, bulk_index, encode_chunk


@pytest.fixture()
def prefix(es_client: Elasticsearch, test_index_prefix: str) -> str:
    name = f"{test_index_prefix}-bulk"
    ensure_indices(es_client, name)
    return name


def read_source(i: int) -> dict[str, object]:
    return {"read_id": f"r{i:05d}", "plate": f"12가{i:04d}", "camera_id": "C01",
            "best_seen": "2026-11-20T10:00:00+00:00", "confidence": 0.9}  # fmt: skip


def test_encoded_chunk_is_one_action_line_and_one_source_line_per_document() -> None:
    body = encode_chunk([IndexAction("i", "a", {"plate": "12가3456"}), IndexAction("i", "b", {})])
    assert body.decode().split("\n") == [
        '{"index":{"_index":"i","_id":"a"}}', '{"plate":"12가3456"}',
        '{"index":{"_index":"i","_id":"b"}}', "{}", "",
    ]  # fmt: skip


def test_every_chunk_is_indexed_and_only_the_rejected_item_is_reported(
    es_client: Elasticsearch, prefix: str
) -> None:
    index = f"{prefix}-reads-2026.11"
    actions = [IndexAction(index, f"r{i:05d}", read_source(i)) for i in range(1000)]
    # The read template's mapping is strict: an unknown field is a per-item rejection (400).
    actions[437] = IndexAction(index, "bad", {**read_source(437), "colour": "red"})
    failures = bulk_index(es_client, actions, chunk_size=64, in_flight=2)
    assert [(f.action.doc_id, f.status) for f in failures] == [("bad", 400)]
    assert "strict_dynamic_mapping" in str(failures[0].error)
    es_client.indices.refresh(index=reads_alias(prefix))
    assert es_client.count(index=reads_alias(prefix))["count"] == 999
    # Sent again (a replay after a crash): the same ids overwrite, nothing is added.
    bulk_index(es_client, actions, chunk_size=300)
    es_client.indices.refresh(index=reads_alias(prefix))
    assert es_client.count(index=reads_alias(prefix))["count"] == 999


def test_items_refused_while_a_shard_is_unavailable_are_retried_never_dropped(
    es_client: Elasticsearch, prefix: str
) -> None:
    index = f"{prefix}-reads-2026.10"
    # A primary that cannot be allocated anywhere: the node refuses each item with 503.
    es_client.indices.create(
        index=index, settings={"index.routing.allocation.require._name": "no-such-node"},
        wait_for_active_shards="0",
    )  # fmt: skip
    actions = [IndexAction(index, f"u{i}", read_source(i)) for i in range(20)]
    with pytest.raises(BulkBackpressure, match="503"):
        bulk_index(es_client, actions, max_retries=1, initial_backoff_s=0.05, shard_timeout="200ms")
    es_client.indices.put_settings(index=index, settings={"index.routing.allocation.require._name": None})
    es_client.cluster.health(index=index, wait_for_status="green", timeout="30s")
    assert bulk_index(es_client, actions) == []
    es_client.indices.refresh(index=index)
    assert es_client.count(index=index)["count"] == 20
