"""What the suite compares: read ids in the journal against documents in Elasticsearch."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, helpers

from anpr_core.elastic.indices import reads_alias


def journal_records(directory: Path) -> list[dict[str, Any]]:
    """Every well-formed record in the journal's segments, in order (torn or bad lines skipped)."""
    records = []
    for segment in sorted(directory.glob("seg-*.jsonl")):
        for line in segment.read_bytes().split(b"\n"):
            head, _, body = line.partition(b" ")
            try:
                if zlib.crc32(body) != int(head, 16):
                    continue
            except ValueError:
                continue
            records.append(json.loads(body))
    return records


@dataclass(frozen=True)
class StoredRead:
    index: str
    doc_id: str
    read_id: str
    version: int


def stored_reads(client: Elasticsearch, prefix: str) -> list[StoredRead]:
    """Every read document behind the prefix's read alias, with its `_version`."""
    alias = reads_alias(prefix)
    if not client.indices.exists_alias(name=alias):
        return []
    client.indices.refresh(index=alias)
    hits = helpers.scan(
        client,
        index=alias,
        query={"query": {"match_all": {}}, "_source": ["read_id"], "version": True},
        size=5000,
    )
    return [StoredRead(h["_index"], h["_id"], h["_source"]["read_id"], int(h["_version"])) for h in hits]


@dataclass(frozen=True)
class Comparison:
    journal_reads: int  # distinct read ids in the journal
    journal_lines: int  # records in the journal (a read appended twice counts twice)
    es_docs: int
    lost: int  # journal read ids with no document
    duplicates: int  # documents beyond one per read id (same read under two ids or indices)
    foreign: int  # documents whose read id is not in the journal
    replayed: int  # documents written more than once (`_version` > 1): replays absorbed by `_id`
    lost_ids: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicates == 0 and self.foreign == 0


def compare(journal: list[dict[str, Any]], stored: list[StoredRead]) -> Comparison:
    journal_ids = Counter(str(r["read_id"]) for r in journal)
    per_read = Counter(s.read_id for s in stored)
    # A document stored under an id that is not its read id is a duplicate in waiting.
    misfiled = sum(1 for s in stored if s.doc_id != s.read_id)
    lost = sorted(set(journal_ids) - set(per_read))
    return Comparison(
        journal_reads=len(journal_ids),
        journal_lines=sum(journal_ids.values()),
        es_docs=len(stored),
        lost=len(lost),
        duplicates=sum(n - 1 for n in per_read.values()) + misfiled,
        foreign=len(set(per_read) - set(journal_ids)),
        replayed=sum(1 for s in stored if s.version > 1),
        lost_ids=tuple(lost[:10]),
    )
