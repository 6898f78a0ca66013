"""A journal record (a `PlateRead`) → the Elasticsearch document and its monthly index.

`read_document` is the one builder of a read's document: the indexer, the benchmark seeder
(`anpr/bench/seeding.py`) and the tests all index what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from anpr_core.elastic.indices import reads_index
from anpr_core.plates import parse_plate, plate_search_fields
from anpr_core.reads import PlateRead
from indexer.bulk import IndexAction


def read_document(read: PlateRead) -> dict[str, Any]:
    """The read as stored: its fields (unset ones left out) and its plate's search fields."""
    document = read.model_dump(mode="json", exclude_none=True)
    document.update(_search_fields(read.plate))
    return document


def read_index(prefix: str, read: PlateRead) -> str:
    """The monthly index the read belongs in (by its best sighting)."""
    return _read_index(prefix, read.best_seen.date())


def read_action(read: PlateRead, prefix: str) -> IndexAction:
    """A bulk `index` action: `_id` = read id, so replaying a read overwrites itself."""
    return IndexAction(read_index(prefix, read), read.read_id, read_document(read))


# Both are pure and called for every read; plates and months repeat, so they are computed once.
@lru_cache(maxsize=65_536)
def _search_fields(plate: str) -> Mapping[str, str]:
    return MappingProxyType(plate_search_fields(parse_plate(plate)))


@lru_cache(maxsize=1024)
def _read_index(prefix: str, day: date) -> str:
    return reads_index(prefix, day)
