"""The benchmark seeder writes the documents the indexer writes: one builder
(`indexer.documents.read_document`) for the indexer, the seeder and the tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from anpr.bench.seeding import generate_reads, make_cameras, plate_pool, sample_document, seed
from anpr_core.elastic.indices import reads_alias
from anpr_core.reads import PlateRead
from indexer.documents import read_action, read_document

END = datetime(2026, 11, 30, tzinfo=UTC)


def test_seeded_reads_are_valid_reads_and_their_documents_are_the_indexers() -> None:
    rng = random.Random(3)
    reads = list(generate_reads(200, 5, make_cameras(9, rng), plate_pool(40, rng), END, seed=3))
    assert len(reads) == 200 and len({r.read_id for r in reads}) == 200
    for read in reads:
        validated = PlateRead.model_validate(read.model_dump())  # constructed fast, still valid
        assert read_document(read) == read_document(validated)
        assert read_document(read) == read_action(validated, "anpr").source


def test_a_sample_document_carries_the_plate_search_fields() -> None:
    doc = sample_document("12가3456", "cam-01", END, 37.57, 126.97, crop_ref="cam-01/x.png")
    assert doc["plate"] == "12가3456" and doc["plate_reversed"] == "6543가21"
    assert doc["location"] == {"lat": 37.57, "lon": 126.97} and doc["crop_ref"] == "cam-01/x.png"
    assert "direction" not in doc  # unset fields are left out, as the indexer stores them


def test_seed_bulk_loads_every_read_once(es_client: Elasticsearch, test_index_prefix: str) -> None:
    prefix = f"{test_index_prefix}-seed"
    result = seed(es_client, prefix, reads=500, days=3, camera_count=6, plates=50, end=END, progress=False)
    assert result["reads"] == 500
    assert es_client.count(index=reads_alias(prefix))["count"] == 500
    hit = es_client.search(index=reads_alias(prefix), size=1)["hits"]["hits"][0]
    source = hit["_source"]
    read = PlateRead.model_validate({k: v for k, v in source.items() if k in PlateRead.model_fields})
    assert source == read_document(read) and hit["_id"] == read.read_id
